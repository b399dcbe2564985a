"""Review: only a real Fernet token after ``enc:`` escapes masking.

The ``enc:`` exception exists for sealed slot values (the complaint form's
phone, bot.db.crypto); a citizen who types "enc:" before a number must not
get it stored in plaintext (SQL transcripts, Rasa's tracker in Redis).

This is the front door's bot.privacy; Rasa's copy (hotline_rasa.masking)
passes the same cases in Rasa's own environment
(hotline_rasa/tests/test_masking.py, same tests/data/masking_cases.json).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.privacy import mask_text

CASES = json.loads(
    (Path(__file__).resolve().parent / "data" / "masking_cases.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize(("raw", "masked"), [tuple(c) for c in CASES["typed_enc_prefix"]])
def test_typed_enc_prefix_does_not_escape_masking(raw: str, masked: str) -> None:
    assert mask_text(raw) == masked


def test_sealed_values_pass_unchanged() -> None:
    sealed = "enc:" + Fernet(Fernet.generate_key()).encrypt(b"13812345678").decode()
    assert mask_text(sealed) == sealed
