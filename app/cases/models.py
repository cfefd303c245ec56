"""Case tables: the case, its append-only timeline, its uploaded material files, and the receipt counters."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class CaseStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    SUPPLEMENT_REQUIRED = "supplement_required"
    ACCEPTED = "accepted"
    IN_REVIEW = "in_review"
    SUSPENDED = "suspended"
    APPROVED = "approved"
    DENIED = "denied"
    REJECTED = "rejected"
    DELIVERED = "delivered"
    WITHDRAWN = "withdrawn"


class Channel(StrEnum):
    ONLINE = "online"
    WINDOW = "window"


class Case(Model):
    id = fields.IntField(primary_key=True)
    matter_id = fields.IntField(db_index=True)
    # The guide as it stood when the case was created: its material list and promised days hold for this case.
    guide_version = fields.IntField()
    department_id = fields.IntField(db_index=True)
    channel = fields.CharEnumField(Channel, max_length=8, default=Channel.ONLINE)
    # The applicant's citizen account; NULL for a window-filed case nobody has linked yet.
    applicant_id = fields.IntField(null=True, db_index=True)
    # The citizen who filed it for the applicant under a proxy grant, if any.
    proxy_id = fields.IntField(null=True, db_index=True)
    applicant_name = fields.CharField(max_length=32, default="")
    # The applicant's ID number: the keyed hash (to link a window-filed case), the masked form (to show), and for
    # window filings, where no citizen account holds it, the encrypted number itself.
    id_number_hash = fields.CharField(max_length=64, default="", db_index=True)
    id_number_masked = fields.CharField(max_length=18, default="")
    id_number_encrypted = fields.TextField(default="")
    filed_by_staff_id = fields.IntField(null=True)
    hall_id = fields.IntField(null=True)
    appointment_id = fields.IntField(null=True)
    # The form as shown: ID and phone numbers in it masked. Their clear values are one encrypted JSON object
    # ({field: value}) in form_secrets_encrypted, for the handling staff's desk and the submission check only.
    form = fields.JSONField(default=dict)
    form_secrets_encrypted = fields.TextField(default="")
    status = fields.CharEnumField(CaseStatus, max_length=24, default=CaseStatus.DRAFT, db_index=True)
    version = fields.IntField(default=1)
    receipt_no = fields.CharField(max_length=32, unique=True, null=True)
    promised_days = fields.IntField(default=0)
    amount_fen = fields.IntField(default=0)
    paid = fields.BooleanField(default=False)
    supplement_items = fields.JSONField(default=list)
    supplement_requested_at = fields.DatetimeField(null=True)
    submitted_at = fields.DatetimeField(null=True)
    accepted_at = fields.DatetimeField(null=True)
    deadline_at = fields.DatetimeField(null=True, db_index=True)
    suspended_at = fields.DatetimeField(null=True)
    paused_workdays = fields.IntField(default=0)
    # The worst deadline light already announced ("", "yellow", "red"): each level is announced once.
    light_announced = fields.CharField(max_length=8, default="")
    delivery_method = fields.CharField(max_length=16, default="")
    tracking_no = fields.CharField(max_length=40, default="")
    ended_at = fields.DatetimeField(null=True)
    # Rated by the citizen, or given the default rating after the rating period: nothing more to ask for.
    rated = fields.BooleanField(default=False)
    idempotency_key = fields.CharField(max_length=80, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "case_file"
        unique_together = (("applicant_id", "idempotency_key"),)
        # The published statistics count cases decided in a period, city-wide or for one hall.
        indexes = (
            ("department_id", "status", "deadline_at"),
            ("rated", "ended_at"),
            ("ended_at",),
            ("hall_id", "ended_at"),
        )


class CaseTimelineEntry(Model):
    """One move of a case: append-only, never updated or deleted."""

    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="timeline", on_delete=fields.RESTRICT
    )
    action = fields.CharField(max_length=24)
    from_status = fields.CharField(max_length=24, null=True)
    to_status = fields.CharField(max_length=24)
    actor = fields.CharField(max_length=32)
    actor_role = fields.CharField(max_length=16)
    note = fields.CharField(max_length=500, default="")
    details = fields.JSONField(default=dict)
    at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "case_timeline"
        # A case's detail reads its own moves in order: without this, every read scanned the whole timeline.
        indexes = (("case_id", "id"),)


class CaseFile(Model):
    """An uploaded file for one material of the case's guide."""

    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="files", on_delete=fields.RESTRICT
    )
    material_id = fields.IntField()
    storage_key = fields.CharField(max_length=128, unique=True)
    content_type = fields.CharField(max_length=32)
    size_bytes = fields.IntField()
    sha256 = fields.CharField(max_length=64)
    file_name = fields.CharField(max_length=100, default="")
    uploaded_by = fields.CharField(max_length=32)
    uploaded_at = fields.DatetimeField(auto_now_add=True)
    removed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "case_material_file"
        indexes = (("case_id", "material_id"),)


class CaseLicence(Model):
    """An electronic licence (电子证照) chosen for one material of the case: it stands for that material's upload."""

    id = fields.IntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "models.Case", related_name="licences", on_delete=fields.RESTRICT
    )
    material_id = fields.IntField()
    licence_type = fields.CharField(max_length=32)
    name = fields.CharField(max_length=64)
    # An ID card's number is the holder's ID number: kept like one (encrypted; shown masked).
    licence_no_encrypted = fields.TextField()
    licence_no_masked = fields.CharField(max_length=64)
    issuer = fields.CharField(max_length=128)
    valid_from = fields.CharField(max_length=10)
    valid_until = fields.CharField(max_length=10, null=True)
    attached_by = fields.CharField(max_length=32)
    attached_at = fields.DatetimeField(auto_now_add=True)
    removed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "case_licence"
        indexes = (("case_id", "material_id"),)


class ReceiptCounter(Model):
    """The last receipt sequence given out per department and day."""

    id = fields.IntField(primary_key=True)
    department_id = fields.IntField()
    day = fields.DateField()
    last_sequence = fields.IntField(default=0)

    class Meta:
        table = "case_receipt_counter"
        unique_together = (("department_id", "day"),)
