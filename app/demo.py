"""The demo city (data/demo/*.json): catalog, appointment schedules and staff, loaded into an empty database."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from app.core.auth import SYSTEM
from app.core.cache import Cache
from app.core.config import Settings


def _read(data_dir: Path, name: str) -> Any:
    return json.loads((data_dir / name).read_text(encoding="utf-8"))


async def seed(data_dir: Path, *, cache: Cache, settings: Settings) -> tuple[dict[str, int] | None, list[dict]]:
    """Load the demo city into an empty database: (counts, or None when it had a catalog; new staff accounts with
    their one-time passwords, empty when it had staff)."""
    from app.catalog import service as catalog
    from app.identity import service as identity

    counts = await catalog.seed_demo(data_dir, cache=cache)
    if counts is not None:
        counts["schedules"] = await _seed_schedules(data_dir, cache=cache, settings=settings)
    departments = await catalog.department_ids_by_code()
    staff = await identity.seed_demo_staff(departments)
    if staff is None:
        return counts, []
    codes = {department_id: code for code, department_id in departments.items()}
    staff = [{**account, "department_code": codes.get(account["department_id"])} for account in staff]
    # The role accounts above sit in one department; these make the matters of several others workable.
    for item in _read(data_dir, "staff.json"):
        password = "Demo" + secrets.token_urlsafe(9) + "7"
        account = await identity.create_staff(
            username=item["username"],
            password=password,
            roles=item["roles"],
            name=item["name"],
            department_id=departments[item["department"]],
            actor="seed",
        )
        staff.append({**account, "password": password, "department_code": item["department"]})
    return counts, staff


async def _seed_schedules(data_dir: Path, *, cache: Cache, settings: Settings) -> int:
    """Every bookable demo matter open for booking at its halls, in the halls' hours; slots drawn from today."""
    from app.booking import service as booking
    from app.booking.schemas import ScheduleIn
    from app.catalog import service as catalog

    data = _read(data_dir, "schedules.json")
    matters = {matter["code"]: matter["id"] for matter in await catalog.matters_of()}
    halls = {hall["code"]: hall["id"] for hall in await catalog.list_halls(cache=cache, ttl=0)}
    created = 0
    for item in data["schedules"]:
        for hall in item["halls"]:
            rules = {**data["rules"], "ranges": data["hall_hours"][hall], **item.get("rules", {})}
            schedule = ScheduleIn.model_validate(
                {**rules, "hall_id": halls[hall], "matter_id": matters[item["matter"]]}
            )
            await booking.create_schedule(
                schedule, actor=SYSTEM, cache=cache, catalog_ttl=settings.catalog.cache_seconds
            )
            created += 1
    return created
