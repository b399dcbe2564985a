"""Masking of phone, ID and bank-card numbers in free text, for Rasa's process.

A self-contained copy of ``bot.privacy.mask_text``: this package runs inside
Rasa's own environment (Python 3.10), which does not have ``bot``. Both copies
are held to the same cases (tests/data/masking_cases.json: hotline_rasa/tests/
test_masking.py here, tests/db/test_privacy.py in the app environment), so
they cannot drift apart.

Values the action server encrypted (``enc:`` followed by a Fernet token) are
left as they are: they are not plaintext, and the complaint form needs them
back unchanged on the next turn.
"""

from __future__ import annotations

import re
from typing import Any

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
