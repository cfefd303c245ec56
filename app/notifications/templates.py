"""Template data that WeChat accepts: every value cut to the limit of its field type, never refused (47003)."""

from __future__ import annotations

import re
from datetime import datetime

from app.core.timeutil import CITY_TZ

# WeChat subscribe-message field types and their length limits (characters).
LIMITS = {
    "thing": 20,
    "character_string": 32,
    "phrase": 5,
    "name": 10,
    "number": 32,
    "letter": 32,
    "car_number": 8,
    "phone_number": 17,
    "amount": 12,
}
_TYPE = re.compile(r"^([a-z_]+?)\d+$")
_NOT_ASCII_PRINTABLE = re.compile(r"[^\x21-\x7e]")
_NOT_CHINESE = re.compile(r"[^\u4e00-\u9fff]")
_NOT_NUMBER = re.compile(r"[^0-9.]")


def field_type(key: str) -> str:
    """thing1 -> thing, character_string2 -> character_string: WeChat names a field after its type."""
    match = _TYPE.match(key)
    return match.group(1) if match else key


def _cut(value: str, limit: int) -> str:
    # A cut value ends in an ellipsis so the reader knows there is more in the app.
    return value if len(value) <= limit else value[: limit - 1] + "…"


def fit(value: object, kind: str) -> str:
    """The value as a field of this type may carry it."""
    if kind in ("time", "date"):
        if isinstance(value, datetime):
            value = value.astimezone(CITY_TZ).isoformat()
        text = str(value)
        if kind == "date" and re.match(r"\d{4}-\d{2}-\d{2}", text):
            return f"{text[:4]}年{text[5:7]}月{text[8:10]}日"
        return text[:16].replace("T", " ")
    text = " ".join(str(value if value is not None else "").split())
    if kind == "character_string":
        text = _NOT_ASCII_PRINTABLE.sub("", text) or "-"
        return text[: LIMITS[kind]]
    if kind == "phrase":
        return _NOT_CHINESE.sub("", text)[: LIMITS[kind]] or "更新"
    if kind in ("number", "amount"):
        return _NOT_NUMBER.sub("", text)[: LIMITS[kind]] or "0"
    return _cut(text or "-", LIMITS.get(kind, 20))


def render(fields: dict[str, str], values: list[object]) -> dict[str, str]:
    """The template's fields (key -> type, in declared order) filled with values in the same order, each fitted."""
    return {
        key: fit(value, kind or field_type(key)) for (key, kind), value in zip(fields.items(), values, strict=False)
    }
