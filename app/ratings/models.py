"""Rating table: one rating per finished case or checked-in appointment, with its appeal."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Subject(StrEnum):
    CASE = "case"
    APPOINTMENT = "appointment"


class AppealStatus(StrEnum):
    NONE = "none"
    PENDING = "pending"
    UPHELD = "upheld"  # the supervisor found the rating fair: it stands
    VOIDED = "voided"  # the supervisor found it malicious: out of the statistics, kept in the record


class Rating(Model):
    id = fields.IntField(primary_key=True)
    subject_type = fields.CharEnumField(Subject, max_length=12)
    subject_id = fields.IntField()
    # The citizen who rated; NULL for a default rating, which nobody gave.
    citizen_id = fields.IntField(null=True, db_index=True)
    # Where the service was given, copied from the case or appointment so the statistics need no join.
    department_id = fields.IntField(db_index=True)
    matter_id = fields.IntField()
    hall_id = fields.IntField(null=True, db_index=True)
    score = fields.SmallIntField()
    # efficiency, guide_accuracy, convenience, attitude: 1..5 each, all optional.
    dimensions = fields.JSONField(default=dict)
    tags = fields.JSONField(default=list)
    comment = fields.CharField(max_length=500, default="")
    # Not rated within the rating period: counted as "basically satisfied", never shown as the citizen's words.
    is_default = fields.BooleanField(default=False)
    rated_at = fields.DatetimeField(db_index=True)
    appeal_status = fields.CharEnumField(AppealStatus, max_length=8, default=AppealStatus.NONE)
    appeal_reason = fields.CharField(max_length=500, default="")
    appealed_by = fields.IntField(null=True)
    appealed_at = fields.DatetimeField(null=True)
    decision_note = fields.CharField(max_length=500, default="")
    decided_by = fields.IntField(null=True)
    decided_at = fields.DatetimeField(null=True)
    idempotency_key = fields.CharField(max_length=80, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "rating"
        # One rating per service: a second one (or a race of two) is refused by the database itself.
        unique_together = (("subject_type", "subject_id"), ("citizen_id", "idempotency_key"))
        indexes = (("department_id", "rated_at"), ("hall_id", "rated_at"))
