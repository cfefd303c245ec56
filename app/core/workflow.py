"""One way to make a move: every domain's state machine is a table of moves, and apply_move() carries one out.

A move is legal when a row of its table names the action, lists the row's current state among its sources (and its
kind, where the table has kinds) and admits one of the actor's kinds. apply_move() writes, in one transaction, the
move's effect, the conditional UPDATE, the timeline row, the outbox event and the staff audit row, and then sets the
new values on the row it was given. It refuses, writing nothing:
- a caller's expected_version that is not the row's: the table's stale_error (STALE_VERSION), with current_version;
- a move the table does not allow here for this actor: IllegalTransition (409 ILLEGAL_TRANSITION), with status,
  action (kind) and the allowed_actions of this actor;
- a move that needs a note, without one: the table's note_required_error;
- whatever the move's effect raises;
- a lost race: the table's stale_error where rows have a version, IllegalTransition (from the state the row is now
  in) where they have none.
Tables without a timeline, a version column or events leave those out (Table.timeline, Table.version_field,
Effect.event), as booking's appointments and queue tickets do.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise.models import Model
from tortoise.transactions import in_transaction

from app.audit import service as audit
from app.core import outbox
from app.core.auth import Principal
from app.core.errors import AppError, IllegalTransition, NoteRequired, StaleVersion

SYSTEM = "system"  # the actor kind of a rule of the service itself (a sweep, a timer, another domain's decision)


@dataclass(frozen=True)
class Actor:
    """Who makes a move, as the tables know them (kinds) and as the records name them (ref, role)."""

    ref: str  # "citizen:3", "staff:12", "system": written to timeline and audit rows
    kinds: tuple[str, ...]  # matched against a move's actors, most specific first: ("clerk", "approver")
    staff_id: int | None = None  # set for staff: their moves get an audit row
    role: str | None = None  # the timeline's name for their part; None: the first of kinds the move admits

    @classmethod
    def of(cls, principal: Principal, kinds: Iterable[str], *, role: str | None = None) -> Actor:
        """The actor a logged-in principal is, known to the table by these kinds."""
        return cls(
            ref=principal.actor, kinds=tuple(kinds), staff_id=principal.id if principal.is_staff else None, role=role
        )


SYSTEM_ACTOR = Actor(ref=SYSTEM, kinds=(SYSTEM,))


@dataclass(frozen=True)
class Event:
    """The outbox event of a move."""

    kind: str
    payload: dict[str, Any]
    citizen_id: int | None = None
    department_id: int | None = None
    # The event may be about another row than the moved one (a refund's order); None: the moved row, by table name.
    aggregate_type: str | None = None
    aggregate_id: int | None = None


@dataclass
class Effect:
    """What a move does besides changing the state: computed by the move's effect inside the move's transaction."""

    changes: dict[str, Any] = field(default_factory=dict)  # more columns for the conditional UPDATE
    timeline: dict[str, Any] = field(default_factory=dict)  # more fields of the timeline row (details, at)
    event: Event | None = None
    audit: dict[str, Any] = field(default_factory=dict)  # more of the audit row's "after"
    # Writes that only make sense once the UPDATE has won (another row to change); runs after it, same transaction.
    after_update: Callable[[Any], Awaitable[None]] | None = None


@dataclass(frozen=True)
class MoveContext:
    """What a move's effect is given: the row as read, the move, who makes it, and the caller's inputs."""

    row: Any
    move: Move
    actor: Actor
    note: str
    at: datetime
    connection: Any
    inputs: Mapping[str, Any]


EffectFunction = Callable[[MoveContext], Awaitable[Effect]]


@dataclass(frozen=True)
class Move:
    """One row of a table: the action, from which states, to which state, by whom, and what else it does."""

    action: str
    sources: frozenset
    target: Any
    actors: frozenset[str]  # actor kinds (citizen, system ...) or staff roles (clerk, supervisor ...) that may make it
    note_required: bool = False  # a reason the other side will read
    effect: EffectFunction | None = None
    kinds: frozenset | None = None  # the kinds of row it applies to (ticket kinds); None: every kind

    def admits(self, actor_kinds: Iterable[str]) -> bool:
        """Whether one of these actor kinds may make this move."""
        return not self.actors.isdisjoint(actor_kinds)


@dataclass(frozen=True)
class Timeline:
    """Where a table's append-only log lives: the model and the column naming the moved row."""

    model: type[Model]
    key: str  # "case_id"


@dataclass(frozen=True)
class Table:
    """A domain's state machine: its moves and how its rows keep state, version, log and events."""

    name: str  # the audit action prefix and the outbox aggregate type: "case" -> "case.accept"
    model: type[Model]
    moves: tuple[Move, ...]
    status_field: str = "status"
    # None: the row has no version, so the UPDATE is conditional on the state being one the move starts from.
    version_field: str | None = "version"
    kind_field: str | None = None  # the column that selects moves by Move.kinds
    timeline: Timeline | None = None
    illegal_message: str | None = None  # the domain's wording of IllegalTransition
    note_required_error: type[AppError] = NoteRequired
    stale_error: type[AppError] = StaleVersion

    @property
    def actions(self) -> frozenset[str]:
        return frozenset(move.action for move in self.moves)


def find_move(table: Table, action: str, status: Any, *, kind: Any = None) -> Move | None:
    """The move this action makes from this state (for this kind of row), or None when it is illegal there."""
    for move in table.moves:
        if move.action == action and status in move.sources and (move.kinds is None or kind in move.kinds):
            return move
    return None


def moves_named(table: Table, action: str, *, kind: Any = None) -> list[Move]:
    """Every move of this action (for this kind of row), whatever the state: to judge the actor before the state."""
    return [move for move in table.moves if move.action == action and (move.kinds is None or kind in move.kinds)]


def may_make(table: Table, action: str, actor_kinds: Iterable[str], *, kind: Any = None) -> bool:
    """Whether these actor kinds may make this action in some state at all."""
    kinds = tuple(actor_kinds)
    return any(move.admits(kinds) for move in moves_named(table, action, kind=kind))


def allowed_actions(table: Table, status: Any, actor_kinds: Iterable[str], *, kind: Any = None) -> list[str]:
    """The actions these actor kinds may take on a row in this state (of this kind), in table order, once each."""
    kinds = tuple(actor_kinds)
    allowed: list[str] = []
    for move in table.moves:
        if (
            status in move.sources
            and (move.kinds is None or kind in move.kinds)
            and move.admits(kinds)
            and move.action not in allowed
        ):
            allowed.append(move.action)
    return allowed


def _kind_of(table: Table, row: Any) -> Any:
    return getattr(row, table.kind_field) if table.kind_field else None


def _illegal(table: Table, row: Any, status: Any, action: str, actor: Actor) -> IllegalTransition:
    kind = _kind_of(table, row)
    details: dict[str, Any] = {"status": _value(status), "action": action}
    if kind is not None:
        details["kind"] = _value(kind)
    details["allowed_actions"] = allowed_actions(table, status, actor.kinds, kind=kind)
    return IllegalTransition(table.illegal_message, details=details)


def _value(state: Any) -> Any:
    return getattr(state, "value", state)


def _role_in(move: Move, actor: Actor) -> str:
    if actor.role is not None:
        return actor.role
    return next((kind for kind in actor.kinds if kind in move.actors), actor.kinds[0] if actor.kinds else "")


async def apply_move(
    table: Table,
    row: Any,
    action: str,
    *,
    actor: Actor,
    at: datetime,
    note: str = "",
    expected_version: int | None = None,
    inputs: Mapping[str, Any] | None = None,
    connection: Any = None,
) -> Move:
    """Make one move on a row as read, whole or not at all (refusals: see the module's docstring)."""
    version = getattr(row, table.version_field) if table.version_field else None
    # A caller who saw an older version is told so first: what they decided on is no longer what is there.
    if expected_version is not None and table.version_field and expected_version != version:
        raise table.stale_error(details={"current_version": version})
    status = getattr(row, table.status_field)
    move = find_move(table, action, status, kind=_kind_of(table, row))
    if move is None or not move.admits(actor.kinds):
        raise _illegal(table, row, status, action, actor)
    note = (note or "").strip()
    if move.note_required and not note:
        raise table.note_required_error()
    if connection is None:
        async with in_transaction() as own_connection:
            effect = await _write(
                table,
                row,
                move,
                status,
                version,
                actor=actor,
                at=at,
                note=note,
                inputs=inputs or {},
                connection=own_connection,
            )
    else:
        effect = await _write(
            table, row, move, status, version, actor=actor, at=at, note=note, inputs=inputs or {}, connection=connection
        )
    # Only once the transaction is over (or the caller's continues): the row as read now holds what was written.
    setattr(row, table.status_field, move.target)
    if table.version_field:
        setattr(row, table.version_field, version + 1)
    for name, value in effect.changes.items():
        setattr(row, name, value)
    return move


async def _write(
    table: Table,
    row: Any,
    move: Move,
    status: Any,
    version: int | None,
    *,
    actor: Actor,
    at: datetime,
    note: str,
    inputs: Mapping[str, Any],
    connection: Any,
) -> Effect:
    """The move's writes, in the caller's transaction: effect, conditional UPDATE, timeline, event, audit."""
    context = MoveContext(row=row, move=move, actor=actor, note=note, at=at, connection=connection, inputs=inputs)
    effect = await move.effect(context) if move.effect is not None else Effect()
    changes = {table.status_field: move.target, **effect.changes}
    if table.version_field:
        # The version pins the row as read: any other move in between makes this one lose.
        condition = {"id": row.id, table.version_field: version, table.status_field: status}
        changes[table.version_field] = version + 1
    else:
        # No version: the guard is that the row still stands where this move may start (a payment may land on an
        # order the sweep closed meanwhile: paying is legal from both).
        condition = {"id": row.id, f"{table.status_field}__in": list(move.sources)}
    updated = await table.model.filter(**condition).using_db(connection).update(**changes)
    if not updated:
        if table.version_field:
            raise table.stale_error()
        current = await table.model.filter(id=row.id).using_db(connection).values_list(table.status_field, flat=True)
        raise _illegal(table, row, current[0] if current else status, move.action, actor)
    if effect.after_update is not None:
        await effect.after_update(connection)
    if table.timeline is not None:
        await table.timeline.model.create(
            **{table.timeline.key: row.id},
            action=move.action,
            from_status=_value(status),
            to_status=_value(move.target),
            actor=actor.ref,
            actor_role=_role_in(move, actor),
            note=note,
            **effect.timeline,
            using_db=connection,
        )
    if effect.event is not None:
        event = effect.event
        await outbox.emit(
            event.kind,
            aggregate_type=event.aggregate_type or table.name,
            aggregate_id=row.id if event.aggregate_id is None else event.aggregate_id,
            connection=connection,
            payload=event.payload,
            citizen_id=event.citizen_id,
            department_id=event.department_id,
        )
    if actor.staff_id is not None:
        await audit.record(
            actor=actor.ref,
            staff_id=actor.staff_id,
            action=f"{table.name}.{move.action}",
            object_type=table.name,
            object_id=row.id,
            before={table.status_field: _value(status)},
            after={table.status_field: _value(move.target), **effect.audit},
            connection=connection,
        )
    return effect
