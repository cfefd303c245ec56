"""Catalog request and response shapes (pydantic), and the serialisers that produce them."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from app.catalog.models import Audience, MaterialForm, MatterKind, PayBefore
from app.core.http import Fen, Id, Page, PageQuery, StrictId, StrictVersion

ShortText = Annotated[str, Field(min_length=1, max_length=128)]
LongText = Annotated[str, Field(max_length=4000)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class MaterialIn(_Input):
    code: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,16}$")
    name: ShortText
    required: StrictBool
    form: MaterialForm
    copies: StrictInt = Field(1, ge=0, le=20)
    notes: str = Field("", max_length=500)
    sample_url: str | None = Field(None, max_length=256, pattern=r"^https?://\S+$")
    e_licence: StrictBool = False


class FeeIn(_Input):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    # Money is integer fen; a float or string here is refused rather than rounded.
    amount_fen: Fen


# What a pre-filled field must be: the applicant's name is text, their ID number and phone are of their own types.
PREFILL_TYPES = {"name": "text", "id_number": "id_number", "phone": "phone"}


class FormFieldIn(_Input):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    label: Annotated[str, Field(min_length=1, max_length=32)]
    # id_number: a resident ID number (GB 11643 check); id_number and phone values are stored encrypted, shown masked.
    type: str = Field(pattern=r"^(text|number|date|select|phone|id_number)$")
    required: StrictBool = False
    options: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(None, max_length=50)
    max_length: StrictInt | None = Field(None, ge=1, le=2000)
    # The field asks for the applicant's own name, ID number or phone: a new draft has it filled in from the
    # applicant's real-name identity.
    prefill: Literal["name", "id_number", "phone"] | None = None

    @model_validator(mode="after")
    def _options_only_for_select(self) -> FormFieldIn:
        if self.type == "select" and not self.options:
            raise ValueError("a select field needs options")
        if self.type != "select" and self.options:
            raise ValueError("only a select field has options")
        if self.prefill is not None and self.type != PREFILL_TYPES[self.prefill]:
            raise ValueError(f"a field pre-filled with the {self.prefill} is of type {PREFILL_TYPES[self.prefill]}")
        return self


class GuideIn(_Input):
    """The whole standard guide of a matter; every edit sends all of it and makes a new version."""

    name: ShortText
    department_id: StrictId
    kind: MatterKind
    audience: Audience
    themes: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(default_factory=list, max_length=10)
    conditions: LongText = ""
    legal_basis: LongText = ""
    process: LongText = ""
    materials: list[MaterialIn] = Field(default_factory=list, max_length=50)
    form_fields: list[FormFieldIn] = Field(default_factory=list, max_length=30)
    legal_days: StrictInt = Field(ge=0, le=365)
    promised_days: StrictInt = Field(ge=0, le=365)
    fees: list[FeeIn] = Field(default_factory=list, max_length=20)
    max_visits: StrictInt = Field(ge=0, le=10)
    online_depth: StrictInt = Field(ge=1, le=4)
    hall_ids: list[StrictId] = Field(default_factory=list, max_length=50)
    bookable: StrictBool = False
    pay_before: PayBefore | None = None
    refund_on_denial: StrictBool = True
    contact_phone: str = Field("", max_length=32)
    change_note: str = Field("", max_length=200)

    @model_validator(mode="after")
    def _consistent(self) -> GuideIn:
        if self.promised_days > self.legal_days:
            raise ValueError("promised_days cannot exceed legal_days")
        codes = [m.code for m in self.materials if m.code]
        if len(codes) != len(set(codes)):
            raise ValueError("material codes must be unique within a guide")
        names = [f.name for f in self.form_fields]
        if len(names) != len(set(names)):
            raise ValueError("form field names must be unique")
        charged = sum(fee.amount_fen for fee in self.fees) > 0
        if charged and self.pay_before is None:
            raise ValueError("a matter with fees must say pay_before (acceptance or delivery)")
        if not charged and self.pay_before is not None:
            raise ValueError("a free matter has no pay_before")
        if self.bookable and not self.hall_ids:
            raise ValueError("a bookable matter needs at least one hall")
        return self


class MatterCreate(GuideIn):
    code: str = Field(pattern=r"^[A-Za-z0-9-]{2,32}$")


class MatterUpdate(GuideIn):
    """A new version of the guide. A guide as GET answers it may be sent back as it is: what GET adds beyond the
    guide (id, code, department_name, amount_fen, is_current, updated_at, the materials' ids and licence types) is
    read-only and ignored; any other unknown field is still refused."""

    # The version the editor started from; a newer one in between answers 409 STALE_VERSION.
    version: StrictVersion | None = None

    @model_validator(mode="before")
    @classmethod
    def _ignore_read_only(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = {key: value for key, value in data.items() if key not in _read_only(MatterOut, MatterUpdate)}
        if isinstance(data.get("materials"), list):
            ignored = _read_only(MaterialOut, MaterialIn)
            data["materials"] = [
                {key: value for key, value in item.items() if key not in ignored} if isinstance(item, dict) else item
                for item in data["materials"]
            ]
        return data


@cache
def _read_only(shown: type[BaseModel], accepted: type[BaseModel]) -> frozenset[str]:
    """Fields an answer shows that a request does not take: computed by the server, ignored when sent back."""
    return frozenset(shown.model_fields) - frozenset(accepted.model_fields)


class ReferenceQuery(PageQuery):
    """Departments, halls and themes are short lists: one page holds them all by default."""

    page_size: int = Field(100, ge=1, le=100)


class MatterQuery(PageQuery):
    q: str | None = Field(None, max_length=50)
    department_id: Id | None = None
    theme: str | None = Field(None, max_length=32)
    audience: Audience | None = None
    bookable: bool | None = None


class GuideQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    version: Id | None = None


# ---- responses (documented in OpenAPI; built by the functions below) ----


class DepartmentOut(BaseModel):
    id: int
    code: str
    name: str
    short_name: str
    phone: str


class OpeningPeriodOut(BaseModel):
    """Hours a hall is open on these ISO weekdays (1 Monday .. 7 Sunday), city time; public holidays closed."""

    weekdays: list[int]
    start: str
    end: str


class OpeningPeriodIn(BaseModel):
    """One opening period as a hall is created with it (demo data, the CLI)."""

    model_config = ConfigDict(extra="forbid")
    weekdays: list[Annotated[int, Field(ge=1, le=7)]] = Field(min_length=1, max_length=7)
    start: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
    end: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]

    @model_validator(mode="after")
    def _ordered(self) -> OpeningPeriodIn:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class HallIn(_Input):
    """A hall as its department admin (or an admin) writes it; every edit sends all of it."""

    code: str = Field(pattern=r"^[A-Za-z0-9-]{2,16}$")
    name: Annotated[str, Field(min_length=1, max_length=64)]
    district: Annotated[str, Field(min_length=1, max_length=32)]
    address: Annotated[str, Field(min_length=1, max_length=128)]
    opening_hours: str = Field("", max_length=128)
    # Empty: walk-in numbers follow what opening_hours says (Monday to Friday 09:00-17:00 when it says nothing).
    opening_periods: list[OpeningPeriodIn] = Field(default_factory=list, max_length=14)
    phone: str = Field("", max_length=32)
    # The department that runs it; a department admin's own (the default for them). null: the city's (admins only).
    department_id: StrictId | None = None


class WindowIn(_Input):
    """A service window: its number (what the queue calls to), name, whom it serves, and whether it is open."""

    number: StrictInt = Field(ge=1, le=999)
    name: str = Field("", max_length=32)
    # The department it serves (null: every department, 综合窗口) and, when not empty, only these matters.
    department_id: StrictId | None = None
    matter_ids: list[StrictId] = Field(default_factory=list, max_length=100)
    open: StrictBool = True


class WindowOut(BaseModel):
    id: int
    hall_id: int
    number: int
    name: str
    department_id: int | None
    matter_ids: list[int]
    open: bool


class HallOut(BaseModel):
    id: int
    code: str
    name: str
    district: str
    address: str
    opening_hours: str = Field(description="the hall's own wording, for display")
    opening_periods: list[OpeningPeriodOut] = Field(
        default_factory=list, description="when walk-in numbers are issued (read from opening_hours unless set)"
    )
    phone: str
    windows: int = Field(description="how many windows (with service_windows: their count)")
    department_id: int | None = Field(None, description="the department that runs the hall (null: the city)")
    service_windows: list[WindowOut] = Field(
        default_factory=list, description="the hall's windows by number (none listed for a hall not yet set up)"
    )


class ThemeOut(BaseModel):
    id: int
    code: str
    name: str
    audience: Audience


class MaterialOut(BaseModel):
    id: int
    code: str
    name: str
    required: bool
    form: MaterialForm
    copies: int
    notes: str
    sample_url: str | None
    e_licence: bool
    # id_card | household_register | business_licence | marriage_certificate: an electronic licence of the applicant
    # stands for this material (no upload); null: it must be uploaded or brought.
    licence_type: str | None = None


class FeeOut(BaseModel):
    name: str
    amount_fen: int


class MatterSummaryOut(BaseModel):
    id: int
    code: str
    name: str
    department_id: int
    kind: MatterKind
    audience: Audience
    bookable: bool
    version: int


class MatterOut(MatterSummaryOut):
    department_name: str
    themes: list[str]
    conditions: str
    legal_basis: str
    process: str
    materials: list[MaterialOut]
    form_fields: list[dict]
    legal_days: int
    promised_days: int
    fees: list[FeeOut]
    amount_fen: int
    max_visits: int
    online_depth: int
    hall_ids: list[int]
    pay_before: PayBefore | None
    refund_on_denial: bool
    contact_phone: str
    is_current: bool
    updated_at: str | None


class MatterPageOut(Page[MatterSummaryOut]):
    """A page of search results."""


class VersionOut(BaseModel):
    version: int
    change_note: str
    created_by: str
    created_at: str | None


class VersionPageOut(Page[VersionOut]):
    """Every version of a guide, on one page."""


class DepartmentPageOut(Page[DepartmentOut]):
    """A page of departments."""


class HallPageOut(Page[HallOut]):
    """A page of halls."""


class ThemePageOut(Page[ThemeOut]):
    """A page of themes."""
