"""The transition table itself: the moves DOMAIN.md lists, and nothing else."""

from app.cases.models import CaseStatus as S
from app.cases.workflow import ACTIONS, CITIZEN, MOVES, STAFF, allowed_actions, find_move

EXPECTED = {
    ("submit", S.DRAFT): (S.SUBMITTED, CITIZEN),
    ("submit", S.SUPPLEMENT_REQUIRED): (S.SUBMITTED, CITIZEN),
    ("withdraw", S.DRAFT): (S.WITHDRAWN, CITIZEN),
    ("withdraw", S.SUBMITTED): (S.WITHDRAWN, CITIZEN),
    ("withdraw", S.SUPPLEMENT_REQUIRED): (S.WITHDRAWN, CITIZEN),
    ("accept", S.SUBMITTED): (S.ACCEPTED, "clerk"),
    ("request_supplement", S.SUBMITTED): (S.SUPPLEMENT_REQUIRED, "clerk"),
    ("reject", S.SUBMITTED): (S.REJECTED, "clerk"),
    ("start_review", S.ACCEPTED): (S.IN_REVIEW, "approver"),
    ("suspend", S.IN_REVIEW): (S.SUSPENDED, "approver"),
    ("resume", S.SUSPENDED): (S.IN_REVIEW, "approver"),
    ("approve", S.IN_REVIEW): (S.APPROVED, "approver"),
    ("deny", S.IN_REVIEW): (S.DENIED, "approver"),
    ("deliver", S.APPROVED): (S.DELIVERED, "clerk"),
}


def test_the_table_holds_exactly_the_moves_of_the_domain():
    found = {}
    for move in MOVES:
        for source in move.sources:
            assert (move.action, source) not in found, "one action, one target per state"
            found[(move.action, source)] = (move.target, "|".join(sorted(move.actors)))
    assert found == EXPECTED


def test_every_other_action_state_pair_is_illegal():
    for action in ACTIONS:
        for status in S:
            move = find_move(action, status)
            assert (move is not None) == ((action, status) in EXPECTED), (action, status)


def test_reasons_are_required_where_the_citizen_is_refused_or_kept_waiting():
    needs_note = {move.action for move in MOVES if move.note_required}
    assert needs_note == {"reject", "deny", "suspend"}


def test_allowed_actions_follow_role_and_state():
    assert allowed_actions(S.SUBMITTED, actor_kind=STAFF, roles=("clerk",)) == [
        "accept",
        "request_supplement",
        "reject",
    ]
    assert allowed_actions(S.SUBMITTED, actor_kind=STAFF, roles=("approver",)) == []
    assert allowed_actions(S.SUBMITTED, actor_kind=CITIZEN) == ["withdraw"]
    assert allowed_actions(S.IN_REVIEW, actor_kind=STAFF, roles=("approver",)) == ["suspend", "approve", "deny"]
    assert allowed_actions(S.DRAFT, actor_kind=CITIZEN) == ["submit", "withdraw"]
    for ended in (S.REJECTED, S.DENIED, S.DELIVERED, S.WITHDRAWN):
        assert allowed_actions(ended, actor_kind=CITIZEN) == []
        assert allowed_actions(ended, actor_kind=STAFF, roles=("clerk", "approver")) == []
