"""The application form, checked against the fields of the case's guide (drafts, window filing, submission)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from app.cases.errors import InvalidForm


def check_form(form: dict[str, Any], fields: list[dict], *, complete: bool) -> dict[str, Any]:
    """The form checked against the guide's fields; complete=True also demands every required field."""
    by_name = {field["name"]: field for field in fields}
    problems = []
    cleaned: dict[str, Any] = {}
    for name, value in form.items():
        field = by_name.get(name)
        if field is None:
            problems.append({"field": f"form.{name}", "message": "该事项没有这个字段"})
            continue
        if value is None or value == "":
            continue
        kind = field["type"]
        if kind == "number":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif kind == "date":
            ok = isinstance(value, str) and is_date(value)
        elif kind == "select":
            ok = isinstance(value, str) and value in (field.get("options") or [])
        elif kind == "phone":
            ok = isinstance(value, str) and bool(re.fullmatch(r"1[3-9]\d{9}|0\d{2,3}-?\d{7,8}", value))
        else:
            ok = isinstance(value, str) and len(value) <= (field.get("max_length") or 2000)
        if not ok:
            problems.append({"field": f"form.{name}", "message": f"「{field['label']}」填写有误"})
        else:
            cleaned[name] = value
    if complete:
        for field in fields:
            if field.get("required") and cleaned.get(field["name"]) in (None, ""):
                problems.append({"field": f"form.{field['name']}", "message": f"请填写「{field['label']}」"})
    if problems:
        raise InvalidForm(details={"fields": problems})
    return cleaned


def is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
        return True
    except ValueError:
        return False
