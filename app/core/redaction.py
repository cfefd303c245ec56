"""Masking ID and mobile numbers in free text before it is copied out of where it was written (events, pushes,
staff alerts, audit rows, logs): the one place that knows what a personal number looks like in text."""

from __future__ import annotations

import re
from typing import Any

# An 18-character resident ID number (GB 11643 shape: 17 digits and a digit or X), not part of a longer token.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
# A mainland mobile number, also as people write it: 138 1234 5678, 138-1234-5678, +86 13812345678.
_MOBILE = re.compile(r"(?<![0-9A-Za-z])(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?![0-9A-Za-z])")


def mask_personal_numbers(text: str) -> str:
    """The text with every ID number shown as 110***********1234 and every mobile number as 138****5678."""
    if not text:
        return text
    text = _ID_NUMBER.sub(lambda m: m.group(1)[:3] + "*" * 11 + m.group(2)[-4:], text)
    return _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(3), text)


def mask_in(value: Any) -> Any:
    """A JSON-like value (dicts, lists, strings) with personal numbers masked in every string it holds."""
    if isinstance(value, str):
        return mask_personal_numbers(value)
    if isinstance(value, dict):
        return {key: mask_in(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_in(item) for item in value]
    return value
