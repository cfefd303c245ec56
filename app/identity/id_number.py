"""Resident ID numbers (GB 11643-1999), mainland mobile numbers, and how both are shown masked."""

from __future__ import annotations

import re
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_DIGITS = "10X98765432"
_EIGHTEEN = re.compile(r"^\d{17}[\dX]$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


class InvalidIdNumber(ValueError):
    """Why an ID number is not acceptable, in words for the citizen."""


def check_digit(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits."""
    return _CHECK_DIGITS[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def normalise_id_number(raw: str) -> str:
    """An 18-character ID number with upper-case X, or InvalidIdNumber saying what is wrong."""
    value = raw.strip().upper()
    if re.fullmatch(r"\d{15}", value):
        raise InvalidIdNumber("15 位旧身份证号码已停止使用，请填写 18 位居民身份证号码")
    if not _EIGHTEEN.match(value):
        raise InvalidIdNumber("居民身份证号码应为 18 位（最后一位可为 X）")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidIdNumber("身份证号码中的出生日期无效") from None
    if born.year < 1900 or born > date.today():
        raise InvalidIdNumber("身份证号码中的出生日期无效")
    if check_digit(value[:17]) != value[17]:
        raise InvalidIdNumber("身份证号码校验位不正确，请核对")
    return value


def mask_id_number(value: str) -> str:
    """110***********1234: the region's first three and the last four."""
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def is_mobile(value: str) -> bool:
    """A mainland mobile number (11 digits starting 13-19)."""
    return bool(_MOBILE.match(value))


def mask_phone(value: str) -> str:
    """138****1234."""
    return value[:3] + "****" + value[-4:]
