"""The application form, checked against the fields of the case's guide (drafts, window filing, submission), and
its personal numbers (id_number and phone fields) kept apart: encrypted at rest, masked in the stored form."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from app.cases.errors import InvalidForm
from app.core.crypto import FieldCipher
from app.identity import id_number as ids

# Field types whose values are personal numbers: never stored or shown in clear but to the handling staff.
SECRET_TYPES = frozenset({"id_number", "phone"})
SECRETS_CONTEXT = "case_form_secrets"


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
        elif kind == "id_number":
            try:
                value = ids.normalise_id_number(value) if isinstance(value, str) else None
            except ids.InvalidIdNumber as exc:
                problems.append({"field": f"form.{name}", "message": f"「{field['label']}」：{exc}"})
                continue
            ok = value is not None
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


def mask_value(kind: str, value: str) -> str:
    """How a personal number of this field type is shown: 110***********1234, 138****5678."""
    return ids.mask_id_number(value) if kind == "id_number" else ids.mask_phone(value)


def seal(cleaned: dict[str, Any], fields: list[dict], *, cipher: FieldCipher) -> tuple[dict[str, Any], str]:
    """The form as stored (personal numbers masked) and the encrypted JSON of their clear values ("" for none)."""
    kinds = {field["name"]: field["type"] for field in fields}
    stored, secrets = dict(cleaned), {}
    for name, value in cleaned.items():
        if kinds.get(name) in SECRET_TYPES and isinstance(value, str) and value:
            secrets[name] = value
            stored[name] = mask_value(kinds[name], value)
    if not secrets:
        return stored, ""
    return stored, cipher.encrypt(json.dumps(secrets, ensure_ascii=False), context=SECRETS_CONTEXT)


def secrets_of(sealed: str, *, cipher: FieldCipher) -> dict[str, str]:
    """The clear personal numbers of a stored form, by field name."""
    return json.loads(cipher.decrypt(sealed, context=SECRETS_CONTEXT)) if sealed else {}


def reveal(stored: dict[str, Any], sealed: str, *, cipher: FieldCipher) -> dict[str, Any]:
    """The stored form with its personal numbers in clear (for the handling staff and the submission check)."""
    return {**stored, **secrets_of(sealed, cipher=cipher)} if sealed else dict(stored)


def keep_unchanged(form: dict[str, Any], stored: dict[str, Any], sealed: str, *, cipher: FieldCipher) -> dict:
    """The citizen sees only masked numbers: one sent back exactly as shown keeps the number stored behind it."""
    secrets = secrets_of(sealed, cipher=cipher)
    return {
        name: secrets[name] if name in secrets and value == stored.get(name) else value for name, value in form.items()
    }
