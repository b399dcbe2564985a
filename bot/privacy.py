"""Masking and validation of citizens' personal data (phone, name, ID number).

Masked values are what citizens, lists and departments without a need to
know see; the full values are stored encrypted (see ``bot.db.crypto``) and
never written to a log line.
"""

from __future__ import annotations

import re
import unicodedata

_PHONE_SEPARATORS = re.compile(r"[\s\-()]")  # after NFKC, full-width forms are ASCII
_PHONE_DIGITS = re.compile(r"^\d{7,12}$")
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"


def normalize_phone(phone: str) -> str:
    """Return the phone number as digits only, without a +86 prefix.

    Accepts mobile numbers ("138 0013 8000", "+86 13800138000") and landlines
    ("0769-22345678"). Raises ``ValueError`` for anything else.
    """
    digits = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", phone).strip())
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not _PHONE_DIGITS.match(digits):
        raise ValueError("contact_phone must be a mobile or landline number (7 to 12 digits)")
    return digits


def validate_id_number(id_number: str) -> str:
    """Return a resident ID number (18 characters) upper-cased, checksum verified."""
    value = id_number.strip().upper()
    if not _ID_NUMBER.match(value):
        raise ValueError("id_number must have 17 digits followed by a digit or X")
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK_CHARS[total % 11] != value[17]:
        raise ValueError("id_number has a wrong check digit")
    return value


def mask_phone(phone: str | None) -> str:
    """ "13812345678" -> "138****5678"; short or missing numbers are fully masked."""
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_name(name: str | None) -> str:
    """ "王小明" -> "王**", "王明" -> "王*"; a single character stays as it is."""
    if not name:
        return ""
    name = name.strip()
    if len(name) <= 1:
        return name
    return name[0] + "*" * (len(name) - 1)


def mask_id_number(id_number: str | None) -> str:
    """ "11010519491231002X" -> "110105********002X" (region and last four)."""
    if not id_number:
        return ""
    if len(id_number) < 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def phone_last4(phone: str | None) -> str | None:
    """The last four digits a citizen gives to look up their own ticket."""
    if not phone or len(phone) < 4:
        return None
    return phone[-4:]
