"""Template data that WeChat accepts: every value cut to the limit of its field type, never refused (47003)."""

from __future__ import annotations

import re
from datetime import datetime

from app.core.timeutil import CITY_TZ

# WeChat subscribe-message field types and their length limits (characters); subscribeMessage.send refuses (47003) a
# value that breaks its type's format, so each type is fitted to its format, not only cut to length.
LIMITS = {
    "thing": 20,
    "character_string": 32,
    "phrase": 5,
    "name": 10,
    "number": 32,
    "letter": 32,
    "symbol": 5,
    "car_number": 8,
    "phone_number": 17,
    "amount": 10,  # digits before the decimal point
}
_TYPE = re.compile(r"^([a-z_]+?)\d+$")
_NOT_ASCII_PRINTABLE = re.compile(r"[^\x21-\x7e]")
_NOT_CHINESE = re.compile(r"[^\u4e00-\u9fff]")
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_NOT_LETTER = re.compile(r"[^A-Za-z]")
_NOT_SYMBOL = re.compile(r"[^!-/:-@\[-`{-~]")
_NOT_PHONE = re.compile(r"[^0-9+-]")
_DIGIT = re.compile(r"[0-9]")
_CHINESE = re.compile(r"[\u4e00-\u9fff]")


def field_type(key: str) -> str:
    """thing1 -> thing, character_string2 -> character_string: WeChat names a field after its type."""
    match = _TYPE.match(key)
    return match.group(1) if match else key


def _cut(value: str, limit: int) -> str:
    # A cut value ends in an ellipsis so the reader knows there is more in the app.
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _amount(text: str) -> str:
    """¥12.50: one currency sign, at most 10 digits, two decimals (WeChat: 1个币种符号+10位以内纯数字，可带小数)."""
    match = _DECIMAL.search(text.replace(",", ""))
    whole, _, cents = (match.group(0) if match else "0").partition(".")
    whole = whole.lstrip("0") or "0"
    if len(whole) > LIMITS["amount"]:
        whole, cents = "9" * LIMITS["amount"], "99"
    return f"¥{whole}.{(cents + '00')[:2]}"


def _name(text: str) -> str:
    """A name: no digits; at most 10 characters with Chinese in it, else 20 letters."""
    text = _DIGIT.sub("", text).strip() or "-"
    return text[: LIMITS["name"] if _CHINESE.search(text) else 20]


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
    if kind == "amount":
        return _amount(text)
    if kind == "number":
        match = _DECIMAL.search(text)
        return (match.group(0) if match else "0")[: LIMITS[kind]].rstrip(".")
    if kind == "letter":
        return _NOT_LETTER.sub("", text)[: LIMITS[kind]] or "A"
    if kind == "symbol":
        return _NOT_SYMBOL.sub("", text)[: LIMITS[kind]] or "-"
    if kind == "phone_number":
        return _NOT_PHONE.sub("", text)[: LIMITS[kind]] or "-"
    if kind == "name":
        return _name(text)
    return _cut(text or "-", LIMITS.get(kind, 20))


def render(fields: dict[str, str], values: list[object]) -> dict[str, str]:
    """The template's fields (key -> type, in declared order) filled with values in the same order, each fitted."""
    return {
        key: fit(value, kind or field_type(key)) for (key, kind), value in zip(fields.items(), values, strict=False)
    }
