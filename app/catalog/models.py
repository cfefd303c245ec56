"""Catalog tables: departments, halls, themes, matters and their versioned guides."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class Audience(StrEnum):
    CITIZEN = "citizen"
    ENTERPRISE = "enterprise"


class MatterKind(StrEnum):
    ADMINISTRATIVE_LICENCE = "administrative_licence"
    PUBLIC_SERVICE = "public_service"


class MaterialForm(StrEnum):
    ORIGINAL = "original"
    COPY = "copy"
    ELECTRONIC = "electronic"


class PayBefore(StrEnum):
    ACCEPTANCE = "acceptance"
    DELIVERY = "delivery"


class Department(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=16, unique=True)
    name = fields.CharField(max_length=64)
    short_name = fields.CharField(max_length=16, default="")
    phone = fields.CharField(max_length=32, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "department"


class Hall(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=16, unique=True)
    name = fields.CharField(max_length=64)
    district = fields.CharField(max_length=32)
    address = fields.CharField(max_length=128)
    opening_hours = fields.CharField(max_length=128, default="")  # for display, as the hall words it
    # [{"weekdays": [1, 2, 3, 4, 5], "start": "09:00", "end": "12:00"}]: when walk-in numbers are issued; NULL: read
    # from opening_hours (app/catalog/hours.py), so halls created before the column keep working.
    opening_periods = fields.JSONField(null=True)
    phone = fields.CharField(max_length=32, default="")
    # How many windows, while the hall has no HallWindow rows (halls from before them); with rows, their count.
    windows = fields.IntField(default=1)
    # The department that runs the hall: its department admins edit it and its windows. NULL: the city's admins only.
    # A plain column (SQLite cannot add a foreign key to an existing table); checked by the service.
    department_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    service_windows: fields.ReverseRelation[HallWindow]

    class Meta:
        table = "hall"


class HallWindow(Model):
    """One service window of a hall (窗口): its number is what the queue calls to; closed windows call nobody."""

    id = fields.IntField(primary_key=True)
    hall: fields.ForeignKeyRelation[Hall] = fields.ForeignKeyField(
        "models.Hall", related_name="service_windows", on_delete=fields.CASCADE
    )
    number = fields.IntField()
    name = fields.CharField(max_length=32, default="")
    # The department it serves (NULL: every department, a 综合窗口) and, when not empty, only these matters.
    department_id = fields.IntField(null=True)
    matter_ids = fields.JSONField(default=list)
    open = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "hall_window"
        unique_together = (("hall", "number"),)
        ordering = ["number"]


class Theme(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=32)
    audience = fields.CharEnumField(Audience, max_length=16)

    class Meta:
        table = "theme"


class Matter(Model):
    """A matter's identity and the searchable copy of its current guide; the guide itself is MatterGuide."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    department: fields.ForeignKeyRelation[Department] = fields.ForeignKeyField(
        "models.Department", related_name="matters", on_delete=fields.RESTRICT
    )
    current_version = fields.IntField(default=1)
    name = fields.CharField(max_length=128)
    kind = fields.CharEnumField(MatterKind, max_length=32)
    audience = fields.CharEnumField(Audience, max_length=16)
    bookable = fields.BooleanField(default=False)
    # Name, conditions, material names and theme names of the current guide: what a keyword search reads.
    search_text = fields.TextField()
    themes: fields.ManyToManyRelation[Theme] = fields.ManyToManyField(
        "models.Theme", related_name="matters", through="matter_theme"
    )
    halls: fields.ManyToManyRelation[Hall] = fields.ManyToManyField(
        "models.Hall", related_name="matters", through="matter_hall"
    )
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "matter"


class MatterGuide(Model):
    """One immutable version of a matter's standard guide (办事指南); editing writes a new row."""

    id = fields.IntField(primary_key=True)
    matter: fields.ForeignKeyRelation[Matter] = fields.ForeignKeyField(
        "models.Matter", related_name="guides", on_delete=fields.CASCADE
    )
    version = fields.IntField()
    name = fields.CharField(max_length=128)
    kind = fields.CharEnumField(MatterKind, max_length=32)
    audience = fields.CharEnumField(Audience, max_length=16)
    conditions = fields.TextField(default="")
    legal_basis = fields.TextField(default="")
    process = fields.TextField(default="")
    legal_days = fields.IntField()
    promised_days = fields.IntField()
    fees = fields.JSONField(default=list)  # [{"name": str, "amount_fen": int}]
    max_visits = fields.IntField()
    online_depth = fields.IntField()
    bookable = fields.BooleanField(default=False)
    pay_before = fields.CharEnumField(PayBefore, max_length=16, null=True)
    refund_on_denial = fields.BooleanField(default=True)
    form_fields = fields.JSONField(default=list)
    hall_ids = fields.JSONField(default=list)
    theme_codes = fields.JSONField(default=list)
    contact_phone = fields.CharField(max_length=32, default="")
    change_note = fields.CharField(max_length=200, default="")
    created_by = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    materials: fields.ReverseRelation[GuideMaterial]

    class Meta:
        table = "matter_guide"
        unique_together = (("matter", "version"),)


class GuideMaterial(Model):
    """A material of one guide version; cases point at these ids, so a later edit never moves them."""

    id = fields.IntField(primary_key=True)
    guide: fields.ForeignKeyRelation[MatterGuide] = fields.ForeignKeyField(
        "models.MatterGuide", related_name="materials", on_delete=fields.CASCADE
    )
    position = fields.IntField()
    code = fields.CharField(max_length=16)
    name = fields.CharField(max_length=128)
    required = fields.BooleanField()
    form = fields.CharEnumField(MaterialForm, max_length=16)
    copies = fields.IntField(default=1)
    notes = fields.TextField(default="")
    sample_url = fields.CharField(max_length=256, null=True)
    e_licence = fields.BooleanField(default=False)

    class Meta:
        table = "guide_material"
        unique_together = (("guide", "code"),)
        ordering = ["position"]
