"""The appeal of a bad rating, as a table: which move, from which appeal status, to which, by whom."""

from __future__ import annotations

from app.ratings.models import AppealStatus as A

# action: (from, to, the staff role that makes it)
APPEAL_MOVES: dict[str, tuple[frozenset[A], A, str]] = {
    "appeal": (frozenset({A.NONE}), A.PENDING, "dept_admin"),  # the rated department asks
    "uphold": (frozenset({A.PENDING}), A.UPHELD, "supervisor"),  # the rating stands
    "void": (frozenset({A.PENDING}), A.VOIDED, "supervisor"),  # malicious: out of the statistics
}
