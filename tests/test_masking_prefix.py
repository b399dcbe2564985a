"""Review: only a real Fernet token after ``enc:`` escapes masking.

The ``enc:`` exception exists for sealed slot values (the complaint form's
phone, bot.db.crypto); a citizen who types "enc:" before a number must not
get it stored in plaintext (SQL transcripts, Rasa's tracker in Redis).
"""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from bot.privacy import mask_text
from hotline_rasa.masking import mask_text as rasa_mask_text


@pytest.mark.parametrize("mask", [mask_text, rasa_mask_text])
def test_typed_enc_prefix_does_not_escape_masking(mask: object) -> None:
    assert callable(mask)
    assert mask("enc:13812345678") == "enc:138****5678"
    assert mask("enc:440101199001011234") == "enc:440101********1234"


@pytest.mark.parametrize("mask", [mask_text, rasa_mask_text])
def test_sealed_values_pass_unchanged(mask: object) -> None:
    assert callable(mask)
    sealed = "enc:" + Fernet(Fernet.generate_key()).encrypt(b"13812345678").decode()
    assert mask(sealed) == sealed
