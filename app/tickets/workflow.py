"""Every legal move of a ticket, in one table: for which kinds, from which states, to which state, by whom.

A move absent from this table is illegal (409 ILLEGAL_TRANSITION); the service applies the table and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.tickets.models import TicketKind as K, TicketStatus as S

CITIZEN = "citizen"  # the citizen who filed the feedback or gave the rating
DEPARTMENT = "department"  # staff of the ticket's department
SUPERVISOR = "supervisor"  # 效能监察: every department
SYSTEM = "system"  # another rule of the service (a rating voided on appeal)
DEPARTMENT_ROLES = ("clerk", "approver", "dept_admin")
FEEDBACK = frozenset({K.CONSULT, K.COMPLAINT, K.SUGGESTION})
RECTIFICATION = frozenset({K.RECTIFICATION})
ANSWERABLE = frozenset({K.CONSULT, K.SUGGESTION})  # feedback that ends unanswered when the citizen stays silent
ALL_KINDS = FEEDBACK | RECTIFICATION


@dataclass(frozen=True)
class TicketMove:
    action: str
    kinds: frozenset[K]
    sources: frozenset[S]
    target: S
    actors: frozenset[str]
    note_required: bool = False


def _(*items) -> frozenset:
    return frozenset(items)


MOVES: tuple[TicketMove, ...] = (
    #          action      kinds          from                                  to             who
    TicketMove("reply",    FEEDBACK,      _(S.OPEN),                            S.REPLIED,     _(DEPARTMENT, SUPERVISOR),
               note_required=True),
    # Only the citizen's word ends feedback; a reply alone never closes it (the 12345 "template reply" loop).
    TicketMove("confirm",  FEEDBACK,      _(S.REPLIED),                         S.CLOSED,      _(CITIZEN)),
    TicketMove("reopen",   FEEDBACK,      _(S.REPLIED),                         S.OPEN,        _(CITIZEN),
               note_required=True),
    TicketMove("assign",   FEEDBACK,      _(S.OPEN),                            S.OPEN,        _(SUPERVISOR)),
    TicketMove("callback", RECTIFICATION, _(S.OPEN),                            S.CALLED_BACK, _(DEPARTMENT),
               note_required=True),
    TicketMove("fix",      RECTIFICATION, _(S.CALLED_BACK),                     S.FIXED,       _(DEPARTMENT),
               note_required=True),
    TicketMove("rate_fix", RECTIFICATION, _(S.FIXED),                           S.CLOSED,      _(CITIZEN)),
    TicketMove("close",    ALL_KINDS,     _(S.OPEN, S.REPLIED, S.CALLED_BACK, S.FIXED), S.CLOSED, _(SUPERVISOR),
               note_required=True),
    TicketMove("void",     RECTIFICATION, _(S.OPEN, S.CALLED_BACK, S.FIXED),    S.CLOSED,      _(SYSTEM),
               note_required=True),
    # The citizen let the answer window pass: the ticket ends unanswered (never a complaint).
    TicketMove("lapse",    ANSWERABLE,    _(S.REPLIED),                         S.CLOSED,      _(SYSTEM)),
    TicketMove("lapse",    RECTIFICATION, _(S.FIXED),                           S.CLOSED,      _(SYSTEM)),
)

ACTIONS = frozenset(move.action for move in MOVES)


def find_move(action: str, kind: K, status: S) -> TicketMove | None:
    """The move this action makes for this kind of ticket in this state, or None when it is illegal there."""
    for move in MOVES:
        if move.action == action and kind in move.kinds and status in move.sources:
            return move
    return None


def moves_named(action: str, kind: K) -> list[TicketMove]:
    """Every move of this action for this kind, whatever the state (to judge the actor before the state)."""
    return [move for move in MOVES if move.action == action and kind in move.kinds]


def allowed_actions(kind: K, status: S, actor_kinds: frozenset[str]) -> list[str]:
    """What these actors may do to a ticket of this kind in this state, in table order."""
    return [move.action for move in MOVES
            if kind in move.kinds and status in move.sources and move.actors & actor_kinds]
