"""Catalog rules: one standard guide per matter, versioned on every edit, searchable, cached for reads."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from cachetools import TTLCache
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Case, F, Q, When
from tortoise.transactions import in_transaction

from app.audit import service as audit
from app.catalog import hours
from app.catalog.errors import GuideVersionNotFound, MatterNotFound, UnknownReference
from app.catalog.models import Department, GuideMaterial, Hall, HallWindow, Matter, MatterGuide, Theme
from app.catalog.schemas import GuideIn, MatterCreate, MatterUpdate, OpeningPeriodIn
from app.core.aggregates import figures_by
from app.core.auth import SYSTEM, Principal
from app.core.cache import Cache, get_json, set_json
from app.core.errors import Conflict, Forbidden, StaleVersion
from app.core.timeutil import to_iso
from app.core.view_memo import ViewMemo
from app.platforms.licences import licence_type_for

ONLINE_DEPTH_MIN = 3  # 三级 and up: the matter can be applied for online


def _guide_key(matter_id: int, version: int | None) -> str:
    return f"catalog:guide:{matter_id}:{'current' if version is None else f'v{version}'}"


class CatalogMemo:
    """What one process remembers of the catalogue for catalog.memo_seconds: guides and search answers, the reads
    citizens make most. The cache and the database stay the truth: an edit in this process forgets at once, the
    other processes within memo_seconds. Off (0) until configure() is called (create_app does)."""

    GUIDES = 4096
    SEARCHES = 1024

    def __init__(self) -> None:
        # The JSON bodies of the public guide and search answers, so a remembered one is not shaped and encoded again.
        self.answers = ViewMemo(16 * 1024 * 1024, needs_listener=False)
        self.configure(0)

    def configure(self, seconds: float) -> None:
        self.seconds = seconds
        self.guides: TTLCache = TTLCache(self.GUIDES, seconds or 1)
        self.searches: TTLCache = TTLCache(self.SEARCHES, seconds or 1)
        self.answers.configure(seconds)

    def forget(self) -> None:
        self.guides.clear()
        self.searches.clear()
        self.answers.forget_all()


memo = CatalogMemo()


# ---- reference lists ----


def department_view(department: Department) -> dict:
    return {
        "id": department.id,
        "code": department.code,
        "name": department.name,
        "short_name": department.short_name,
        "phone": department.phone,
    }


def window_view(window: HallWindow) -> dict:
    return {
        "id": window.id,
        "hall_id": window.hall_id,
        "number": window.number,
        "name": window.name,
        "department_id": window.department_id,
        "matter_ids": list(window.matter_ids),
        "open": window.open,
    }


def hall_view(hall: Hall, windows: list[HallWindow] | None = None) -> dict:
    windows = sorted(windows or [], key=lambda w: w.number)
    return {
        "id": hall.id,
        "code": hall.code,
        "name": hall.name,
        "district": hall.district,
        "address": hall.address,
        "opening_hours": hall.opening_hours,
        "opening_periods": hours.effective_periods(hall.opening_periods, hall.opening_hours),
        "phone": hall.phone,
        "windows": len(windows) if windows else hall.windows,
        "department_id": hall.department_id,
        "service_windows": [window_view(w) for w in windows],
    }


async def windows_by_hall(hall_ids: list[int] | None = None) -> dict[int, list[HallWindow]]:
    """The windows of these halls (all halls when None), by hall id."""
    query = HallWindow.all() if hall_ids is None else HallWindow.filter(hall_id__in=hall_ids)
    found: dict[int, list[HallWindow]] = {}
    for window in await query.order_by("hall_id", "number"):
        found.setdefault(window.hall_id, []).append(window)
    return found


def hall_is_open(hall: dict, at: datetime) -> bool:
    """Whether a hall (as get_hall answers) is open at this moment, on the city's working-day calendar."""
    return hours.is_open(hall["opening_periods"], at)


def hall_opens_next(hall: dict, at: datetime) -> datetime | None:
    """The next moment the hall opens after `at` (within a month), or None."""
    return hours.next_opening(hall["opening_periods"], at)


def theme_view(theme: Theme) -> dict:
    return {"id": theme.id, "code": theme.code, "name": theme.name, "audience": theme.audience.value}


async def _cached_list(cache: Cache, key: str, ttl: int, load) -> list[dict]:
    cached = await get_json(cache, key)
    if cached is not None:
        return cached
    items = await load()
    if ttl:
        await set_json(cache, key, items, ttl)
    return items


async def list_departments(*, cache: Cache, ttl: int) -> list[dict]:
    """Every department, by code."""

    async def load():
        return [department_view(d) for d in await Department.all().order_by("code")]

    return await _cached_list(cache, "catalog:departments", ttl, load)


async def list_halls(*, cache: Cache, ttl: int) -> list[dict]:
    """Every service hall, by code."""

    async def load():
        windows = await windows_by_hall()
        return [hall_view(h, windows.get(h.id)) for h in await Hall.all().order_by("id")]

    return await _cached_list(cache, "catalog:halls", ttl, load)


async def list_themes(*, cache: Cache, ttl: int) -> list[dict]:
    """Every theme (life event), citizens' first."""

    async def load():
        return [theme_view(t) for t in await Theme.all().order_by("audience", "id")]

    return await _cached_list(cache, "catalog:themes", ttl, load)


async def create_department(*, code: str, name: str, short_name: str = "", phone: str = "", cache: Cache) -> dict:
    """Add a department."""
    department = await Department.create(code=code, name=name, short_name=short_name, phone=phone)
    await cache.delete("catalog:departments")
    return department_view(department)


async def create_hall(
    *,
    code: str,
    name: str,
    district: str,
    address: str,
    opening_hours: str = "",
    opening_periods: list[dict] | None = None,
    phone: str = "",
    windows: int = 1,
    department_id: int | None = None,
    cache: Cache,
) -> dict:
    """Add a service hall (without opening_periods, walk-in numbers follow what opening_hours says)."""
    hall = await Hall.create(
        code=code,
        name=name,
        district=district,
        address=address,
        opening_hours=opening_hours,
        # Checked here: a malformed period would fail every walk-in number at the hall later.
        opening_periods=[OpeningPeriodIn.model_validate(p).model_dump() for p in opening_periods or []] or None,
        phone=phone,
        windows=windows,
        department_id=department_id,
    )
    await cache.delete("catalog:halls")
    return hall_view(hall)


async def create_theme(*, code: str, name: str, audience: str, cache: Cache) -> dict:
    """Add a theme (life event or enterprise topic)."""
    theme = await Theme.create(code=code, name=name, audience=audience)
    await cache.delete("catalog:themes")
    return theme_view(theme)


async def department_ids_by_code() -> dict[str, int]:
    """Department ids keyed by code."""
    return {d.code: d.id for d in await Department.all()}


async def get_department(department_id: int) -> dict | None:
    """One department, or None."""
    department = await Department.get_or_none(id=department_id)
    return None if department is None else department_view(department)


async def get_hall(hall_id: int) -> dict | None:
    """One hall, or None."""
    hall = await Hall.get_or_none(id=hall_id)
    if hall is None:
        return None
    return hall_view(hall, await HallWindow.filter(hall_id=hall_id).order_by("number"))


async def hall_windows(hall_id: int) -> list[dict]:
    """A hall's service windows (as hall_view lists them), by number; empty when it has none set up."""
    return [window_view(w) for w in await HallWindow.filter(hall_id=hall_id).order_by("number")]


async def matter_departments(*, department_ids=(), matter_ids=()) -> dict[int, int]:
    """Matter id -> its department's id, for every matter of these departments and for these matters (one query)."""
    department_ids, matter_ids = sorted(set(department_ids)), sorted(set(matter_ids))
    if not department_ids and not matter_ids:
        return {}
    wanted = Q(department_id__in=department_ids or [0]) | Q(id__in=matter_ids or [0])
    return dict(await Matter.filter(wanted).values_list("id", "department_id"))


async def require_matter(matter_id: int) -> dict:
    """A matter's summary, or 404 MATTER_NOT_FOUND."""
    matter = await Matter.get_or_none(id=matter_id)
    if matter is None:
        raise MatterNotFound()
    return matter_summary(matter)


# ---- search ----


def matter_summary(matter: Matter) -> dict:
    return {
        "id": matter.id,
        "code": matter.code,
        "name": matter.name,
        "department_id": matter.department_id,
        "kind": matter.kind.value,
        "audience": matter.audience.value,
        "bookable": matter.bookable,
        "version": matter.current_version,
    }


async def search_matters(
    *,
    q: str | None = None,
    department_id: int | None = None,
    theme: str | None = None,
    audience: str | None = None,
    bookable: bool | None = None,
    offset: int = 0,
    limit: int = 20,
) -> tuple[list[dict], int]:
    """Matters matching every keyword of q (name, conditions, materials, themes) and the filters; name hits first.
    Each process remembers an answer for catalog.memo_seconds (the same few words are asked again and again)."""
    key = (q, department_id, theme, audience, bookable, offset, limit)
    if memo.seconds and (found := memo.searches.get(key)) is not None:
        return found
    found = await _search_matters(q, department_id, theme, audience, bookable, offset, limit)
    if memo.seconds:
        memo.searches[key] = found
    return found


async def _search_matters(
    q: str | None,
    department_id: int | None,
    theme: str | None,
    audience: str | None,
    bookable: bool | None,
    offset: int,
    limit: int,
) -> tuple[list[dict], int]:
    query = Matter.all()
    terms = [term for term in (q or "").split() if term]
    for term in terms:
        query = query.filter(search_text__icontains=term)
    if department_id is not None:
        query = query.filter(department_id=department_id)
    if audience is not None:
        query = query.filter(audience=audience)
    if bookable is not None:
        query = query.filter(bookable=bookable)
    if theme:
        found = await Theme.get_or_none(code=theme)
        if found is None:
            return [], 0
        matter_ids = await found.matters.all().values_list("id", flat=True)
        query = query.filter(id__in=list(matter_ids))
    total = await query.count()
    if terms:
        name_hit = Q(*(Q(name__icontains=term) for term in terms), join_type="AND")
        # Text ranks: asyncpg types CASE parameters as text, so integers here would fail on PostgreSQL.
        query = query.annotate(rank=Case(When(name_hit, then="0"), default="1")).order_by("rank", "code")
    else:
        query = query.order_by("code")
    matters = await query.offset(offset).limit(limit)
    return [matter_summary(m) for m in matters], total


async def matters_of(*, department_id: int | None = None, matter_id: int | None = None) -> list[dict]:
    """Every matter of a department, or one matter (within that department when both are given), by code."""
    query = Matter.all()
    if department_id is not None:
        query = query.filter(department_id=department_id)
    if matter_id is not None:
        query = query.filter(id=matter_id)
    return [matter_summary(matter) for matter in await query.order_by("code")]


# ---- guides ----


def _guide_view(matter: Matter, guide: MatterGuide, department: Department, materials: list[GuideMaterial]) -> dict:
    return {
        "id": matter.id,
        "code": matter.code,
        "name": guide.name,
        "department_id": department.id,
        "department_name": department.name,
        "kind": guide.kind.value,
        "audience": guide.audience.value,
        "themes": list(guide.theme_codes),
        "conditions": guide.conditions,
        "legal_basis": guide.legal_basis,
        "process": guide.process,
        "materials": [
            {
                "id": m.id,
                "code": m.code,
                "name": m.name,
                "required": m.required,
                "form": m.form.value,
                "copies": m.copies,
                "notes": m.notes,
                "sample_url": m.sample_url,
                "e_licence": m.e_licence,
                # The licence that stands for it: no upload when the applicant holds it (the guide says so).
                "licence_type": licence_type_for(m.name) if m.e_licence else None,
            }
            for m in materials
        ],
        "form_fields": list(guide.form_fields),
        "legal_days": guide.legal_days,
        "promised_days": guide.promised_days,
        "fees": [{"name": fee["name"], "amount_fen": fee["amount_fen"]} for fee in guide.fees],
        "amount_fen": sum(fee["amount_fen"] for fee in guide.fees),
        "max_visits": guide.max_visits,
        "online_depth": guide.online_depth,
        "bookable": guide.bookable,
        "hall_ids": list(guide.hall_ids),
        "pay_before": guide.pay_before.value if guide.pay_before else None,
        "refund_on_denial": guide.refund_on_denial,
        "contact_phone": guide.contact_phone,
        "version": guide.version,
        "is_current": guide.version == matter.current_version,
        "updated_at": to_iso(guide.created_at),
    }


async def get_guide(matter_id: int, version: int | None = None, *, cache: Cache, ttl: int) -> dict:
    """The guide of a matter: the current version, or an older one by number."""
    key = _guide_key(matter_id, version)
    remember = bool(ttl and memo.seconds)
    if remember and (found := memo.guides.get(key)) is not None:
        return found
    cached = await get_json(cache, key)
    if cached is not None:
        if remember:
            memo.guides[key] = cached
        return cached
    matter = await Matter.get_or_none(id=matter_id)
    if matter is None:
        raise MatterNotFound()
    wanted = matter.current_version if version is None else version
    guide = await MatterGuide.get_or_none(matter_id=matter_id, version=wanted)
    if guide is None:
        raise GuideVersionNotFound()
    department = await Department.get(id=matter.department_id)
    materials = await GuideMaterial.filter(guide_id=guide.id).order_by("position")
    view = _guide_view(matter, guide, department, materials)
    if version is not None:
        # An old version never changes, but whether it is current does: keep that flag live.
        view["is_current"] = version == matter.current_version
    if ttl:
        await set_json(cache, key, view, ttl)
        if memo.seconds:
            memo.guides[key] = view
    return view


async def list_versions(matter_id: int) -> list[dict]:
    """Every version of a matter's guide, newest first."""
    if not await Matter.exists(id=matter_id):
        raise MatterNotFound()
    guides = await MatterGuide.filter(matter_id=matter_id).order_by("-version")
    return [
        {
            "version": g.version,
            "change_note": g.change_note,
            "created_by": g.created_by,
            "created_at": to_iso(g.created_at),
        }
        for g in guides
    ]


async def _check_references(data: GuideIn) -> tuple[Department, list[Theme], list[Hall]]:
    department = await Department.get_or_none(id=data.department_id)
    if department is None:
        raise UnknownReference(details={"fields": [{"field": "department_id", "message": "部门不存在"}]})
    themes = await Theme.filter(code__in=data.themes) if data.themes else []
    missing_themes = sorted(set(data.themes) - {t.code for t in themes})
    if missing_themes:
        raise UnknownReference(details={"fields": [{"field": "themes", "message": f"主题不存在: {missing_themes}"}]})
    halls = await Hall.filter(id__in=data.hall_ids) if data.hall_ids else []
    missing_halls = sorted(set(data.hall_ids) - {h.id for h in halls})
    if missing_halls:
        raise UnknownReference(details={"fields": [{"field": "hall_ids", "message": f"大厅不存在: {missing_halls}"}]})
    return department, themes, halls


def _search_text(data: GuideIn, themes: list[Theme]) -> str:
    parts = [data.name, data.conditions, *(m.name for m in data.materials), *(t.name for t in themes)]
    return "\n".join(part for part in parts if part)


async def _write_guide(matter: Matter, version: int, data: GuideIn, actor: str, connection) -> MatterGuide:
    guide = await MatterGuide.create(
        matter=matter,
        version=version,
        name=data.name,
        kind=data.kind,
        audience=data.audience,
        conditions=data.conditions,
        legal_basis=data.legal_basis,
        process=data.process,
        legal_days=data.legal_days,
        promised_days=data.promised_days,
        fees=[fee.model_dump() for fee in data.fees],
        max_visits=data.max_visits,
        online_depth=data.online_depth,
        bookable=data.bookable,
        pay_before=data.pay_before,
        refund_on_denial=data.refund_on_denial,
        form_fields=[field.model_dump(exclude_none=True) for field in data.form_fields],
        hall_ids=sorted(set(data.hall_ids)),
        theme_codes=list(dict.fromkeys(data.themes)),
        contact_phone=data.contact_phone,
        change_note=data.change_note,
        created_by=actor,
        using_db=connection,
    )
    await GuideMaterial.bulk_create(
        [
            GuideMaterial(
                guide=guide,
                position=index,
                code=m.code or f"M{index + 1}",
                name=m.name,
                required=m.required,
                form=m.form,
                copies=m.copies,
                notes=m.notes,
                sample_url=m.sample_url,
                e_licence=m.e_licence,
            )
            for index, m in enumerate(data.materials)
        ],
        using_db=connection,
    )
    return guide


async def _sync_relations(matter: Matter, themes: list[Theme], halls: list[Hall], connection) -> None:
    await matter.themes.clear(using_db=connection)
    await matter.halls.clear(using_db=connection)
    if themes:
        await matter.themes.add(*themes, using_db=connection)
    if halls:
        await matter.halls.add(*halls, using_db=connection)


def _forbid_other_department(actor: Principal, department_id: int) -> None:
    if not actor.covers_department(department_id):
        raise Forbidden("只能管理本部门的事项")


async def create_matter(data: MatterCreate, *, actor: Principal, cache: Cache, ttl: int) -> dict:
    """Create a matter with version 1 of its guide (a department admin only in their own department)."""
    _forbid_other_department(actor, data.department_id)
    _, themes, halls = await _check_references(data)
    if await Matter.exists(code=data.code):
        raise Conflict(f"事项编码 {data.code} 已存在")
    async with in_transaction() as connection:
        matter = await Matter.create(
            code=data.code,
            department_id=data.department_id,
            current_version=1,
            name=data.name,
            kind=data.kind,
            audience=data.audience,
            bookable=data.bookable,
            search_text=_search_text(data, themes),
            using_db=connection,
        )
        guide = await _write_guide(matter, 1, data, actor.actor, connection)
        await _sync_relations(matter, themes, halls, connection)
        await audit.record(
            actor=actor.actor,
            staff_id=actor.id if actor.is_staff else None,
            action="matter.create",
            object_type="matter",
            object_id=matter.id,
            after={"version": 1, "guide_id": guide.id},
            connection=connection,
        )
    memo.forget()
    return await get_guide(matter.id, cache=cache, ttl=ttl)


async def update_matter(matter_id: int, data: MatterUpdate, *, actor: Principal, cache: Cache, ttl: int) -> dict:
    """Write a new version of a matter's guide; older versions stay readable and cases keep theirs."""
    existing = await Matter.get_or_none(id=matter_id)
    if existing is None or not actor.covers_department(existing.department_id):
        raise MatterNotFound()
    _forbid_other_department(actor, data.department_id)
    _, themes, halls = await _check_references(data)
    async with in_transaction() as connection:
        matter = await Matter.select_for_update().using_db(connection).get(id=matter_id)
        if data.version is not None and data.version != matter.current_version:
            raise StaleVersion(details={"current_version": matter.current_version})
        new_version = matter.current_version + 1
        before = {"version": matter.current_version, "department_id": matter.department_id}
        guide = await _write_guide(matter, new_version, data, actor.actor, connection)
        matter.current_version = new_version
        matter.department_id = data.department_id
        matter.name = data.name
        matter.kind = data.kind
        matter.audience = data.audience
        matter.bookable = data.bookable
        matter.search_text = _search_text(data, themes)
        await matter.save(using_db=connection)
        await _sync_relations(matter, themes, halls, connection)
        await audit.record(
            actor=actor.actor,
            staff_id=actor.id if actor.is_staff else None,
            action="matter.update",
            object_type="matter",
            object_id=matter.id,
            before=before,
            after={"version": new_version, "guide_id": guide.id, "department_id": data.department_id},
            connection=connection,
        )
    await cache.delete(_guide_key(matter_id, None))
    memo.forget()
    return await get_guide(matter_id, cache=cache, ttl=ttl)


# ---- demo data ----


def _read(data_dir: Path, name: str) -> Any:
    return json.loads((data_dir / name).read_text(encoding="utf-8"))


async def seed_demo(data_dir: Path, *, cache: Cache) -> dict[str, int] | None:
    """Load the demo catalog from data files into an empty database; None when it already has data."""
    if await Department.exists():
        return None
    departments = {}
    for item in _read(data_dir, "departments.json"):
        departments[item["code"]] = await create_department(**item, cache=cache)
    halls, windows = {}, {}
    for item in _read(data_dir, "halls.json"):
        item = dict(item)
        windows[item["code"]] = item.pop("service_windows", [])
        department = item.pop("department", None)
        item["department_id"] = departments[department]["id"] if department else None
        halls[item["code"]] = await create_hall(**item, windows=len(windows[item["code"]]), cache=cache)
    themes = _read(data_dir, "themes.json")
    for item in themes:
        await create_theme(**item, cache=cache)
    matters = _read(data_dir, "matters.json")
    matter_ids: dict[str, int] = {}
    for item in matters:
        item = dict(item)
        item["department_id"] = departments[item.pop("department")]["id"]
        item["hall_ids"] = [halls[code]["id"] for code in item.pop("halls")]
        item["change_note"] = "初始版本"
        created = await create_matter(MatterCreate.model_validate(item), actor=SYSTEM, cache=cache, ttl=0)
        matter_ids[created["code"]] = created["id"]
    # The windows last: a window may serve only some matters.
    for code, hall_windows in windows.items():
        for window in hall_windows:
            await HallWindow.create(
                hall_id=halls[code]["id"],
                number=window["number"],
                name=window["name"],
                department_id=departments[window["department"]]["id"] if window["department"] else None,
                matter_ids=[matter_ids[m] for m in window["matters"]],
                open=window["open"],
            )
    await cache.delete("catalog:halls")
    return {"departments": len(departments), "halls": len(halls), "themes": len(themes), "matters": len(matters)}


# ---- figures for the published statistics ----


async def figures(
    *, key: str, only: int | list[int] | None = None, connection: BaseDBAsyncClient | None = None
) -> dict[int, dict]:
    """Per department_id or hall_id (or only some): its matters, and how many can be applied for online and need no
    visit at all, by each matter's current guide (read on connection: None, the primary)."""
    column = {"department_id": "matter__department_id", "hall_id": "matter__halls__id"}[key]
    current = MatterGuide.filter(version=F("matter__current_version")).using_db(connection)
    return await figures_by(
        column,
        current,
        {
            "matters": None,
            "online_capable": Q(online_depth__gte=ONLINE_DEPTH_MIN),
            "zero_visit": Q(max_visits=0),
        },
        only=only,
    )
