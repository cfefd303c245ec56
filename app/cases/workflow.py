"""Every legal move of a case, in one table: who may make it, from which state, to which state, and what it needs.

A move absent from this table is illegal (409 ILLEGAL_TRANSITION); the service applies the table and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.cases.models import CaseStatus as S

CITIZEN = "citizen"
STAFF = "staff"


@dataclass(frozen=True)
class Move:
    action: str
    sources: frozenset[S]
    target: S
    actor: str  # CITIZEN (the applicant or their proxy) or STAFF
    roles: tuple[str, ...] = ()  # staff roles that may make it, in the case's own department
    note_required: bool = False  # a reason the citizen will read
    ends_case: bool = False


def _from(*states: S) -> frozenset[S]:
    return frozenset(states)


MOVES: tuple[Move, ...] = (
    #     action                 from                                          to                      who
    Move("submit",             _from(S.DRAFT, S.SUPPLEMENT_REQUIRED),        S.SUBMITTED,            CITIZEN),
    Move("withdraw",           _from(S.DRAFT, S.SUBMITTED, S.SUPPLEMENT_REQUIRED), S.WITHDRAWN,      CITIZEN,
         ends_case=True),
    Move("accept",             _from(S.SUBMITTED),                           S.ACCEPTED,             STAFF, ("clerk",)),
    Move("request_supplement", _from(S.SUBMITTED),                           S.SUPPLEMENT_REQUIRED,  STAFF, ("clerk",)),
    Move("reject",             _from(S.SUBMITTED),                           S.REJECTED,             STAFF, ("clerk",),
         note_required=True, ends_case=True),
    Move("start_review",       _from(S.ACCEPTED),                            S.IN_REVIEW,            STAFF, ("approver",)),
    Move("suspend",            _from(S.IN_REVIEW),                           S.SUSPENDED,            STAFF, ("approver",),
         note_required=True),
    Move("resume",             _from(S.SUSPENDED),                           S.IN_REVIEW,            STAFF, ("approver",)),
    Move("approve",            _from(S.IN_REVIEW),                           S.APPROVED,             STAFF, ("approver",),
         ends_case=True),
    Move("deny",               _from(S.IN_REVIEW),                           S.DENIED,               STAFF, ("approver",),
         note_required=True, ends_case=True),
    Move("deliver",            _from(S.APPROVED),                            S.DELIVERED,            STAFF, ("clerk",),
         ends_case=True),
)

ACTIONS = frozenset(move.action for move in MOVES)
STAFF_ACTIONS = frozenset(move.action for move in MOVES if move.actor == STAFF)
CITIZEN_ACTIONS = frozenset(move.action for move in MOVES if move.actor == CITIZEN)
# The states in which the clock runs and a deadline light means something.
CLOCK_STATES = frozenset({S.ACCEPTED, S.IN_REVIEW, S.SUSPENDED})
# States in which the citizen may still change the form and the uploaded files.
EDITABLE_STATES = frozenset({S.DRAFT, S.SUPPLEMENT_REQUIRED})
ENDED_STATES = frozenset({S.REJECTED, S.APPROVED, S.DENIED, S.DELIVERED, S.WITHDRAWN})

_BY_ACTION = {}
for _move in MOVES:
    _BY_ACTION.setdefault(_move.action, []).append(_move)


def find_move(action: str, status: S) -> Move | None:
    """The move this action makes from this state, or None when it is illegal there."""
    for move in _BY_ACTION.get(action, ()):
        if status in move.sources:
            return move
    return None


def may_make(move: Move, *, actor_kind: str, roles: tuple[str, ...] = ()) -> bool:
    """Whether this kind of actor (with these roles) may make the move at all."""
    if move.actor != actor_kind:
        return False
    return move.actor == CITIZEN or bool(set(move.roles).intersection(roles))


def allowed_actions(status: S, *, actor_kind: str, roles: tuple[str, ...] = ()) -> list[str]:
    """The actions this actor may take on a case in this state, in table order."""
    return [move.action for move in MOVES
            if status in move.sources and may_make(move, actor_kind=actor_kind, roles=roles)]
