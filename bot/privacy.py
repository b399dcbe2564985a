"""Masking and validation of citizens' personal data (phone, name, ID number).

Masked values are what citizens, lists and departments without a need to
know see; the full values are stored encrypted (see ``bot.db.crypto``) and
never written to a log line.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

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


# --- free text -----------------------------------------------------------
# hotline_rasa/masking.py holds the same code for Rasa's process (which must
# not import ``bot``); both are held to tests/data/masking_cases.json.
ENCRYPTED_PREFIX = "enc:"
#: A Fernet token (version byte 0x80 and a 64-bit time: "gAAAAA", 100+ characters),
#: so "enc:" typed before a number by a citizen does not escape masking.
_ENCRYPTED = re.compile(r"^enc:gAAAAA[A-Za-z0-9_\-]{60,}={0,2}$")

# Full-width digits, X and plus as ASCII, one character for one (spans stay put).
_ASCII = str.maketrans("０１２３４５６７８９Ｘｘ＋", "0123456789Xx+")
_S = "[ \\-\u2010-\u2015\u3000\uff0d]?"  # one optional separator between digits
_D = "[0-9]"
#: (pattern, digits kept at the start, digits kept at the end), longest first.
_RULES: tuple[tuple[re.Pattern[str], int, int], ...] = (
    # resident ID number: 17 digits and a digit or X
    (re.compile(rf"(?<![0-9])[1-9](?:{_S}{_D}){{16}}{_S}[0-9Xx](?![0-9A-Za-z])"), 6, 4),
    # bank card (16-19 digits) or a 15-digit first-generation ID number
    (re.compile(rf"(?<![0-9])[1-9](?:{_S}{_D}){{14,18}}(?![0-9])"), 0, 4),
    # landline with its area code: 0 + 2-3 digits, then 7-8 digits
    (re.compile(rf"(?<![0-9])0{_D}{{2,3}}{_S}{_D}(?:{_S}{_D}){{6,7}}(?![0-9])"), 3, 4),
    # mainland mobile, with or without +86 / 86
    (re.compile(rf"(?<![0-9])(?:\+?86{_S})?1[3-9](?:{_S}{_D}){{9}}(?![0-9])"), 3, 4),
)


def mask_text(text: str) -> str:
    """Mask every phone, ID and bank-card number in ``text``, keeping a tail.

    ``"电话138 1234 5678"`` -> ``"电话138 **** 5678"``; separators and the
    rest of the text stay as typed. An ``enc:`` value is returned unchanged.
    """
    if not text or _ENCRYPTED.match(text):
        return text
    flat = text.translate(_ASCII)
    if not any(c.isdigit() for c in flat):
        return text
    chars = list(text)
    for pattern, head, tail in _RULES:
        for match in pattern.finditer(flat):
            _mask_span(chars, flat, match.start(), match.end(), head, tail)
        flat = "".join("*" if c == "*" else f for c, f in zip(chars, flat, strict=True))
    return "".join(chars)


def _mask_span(chars: list[str], flat: str, start: int, end: int, head: int, tail: int) -> None:
    positions = [i for i in range(start, end) if flat[i].isdigit() or flat[i] in "Xx"]
    if flat[start] == "+" or flat[start : start + 2] == "86" and len(positions) == 13:
        positions = positions[2:]  # the country code is not part of the number
    for i in positions[head : len(positions) - tail]:
        chars[i] = "*"


def mask_value(value: Any) -> Any:
    """:func:`mask_text` applied to every string inside lists and dicts."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [mask_value(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    return value
