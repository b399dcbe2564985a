"""hotline_rasa.masking: Rasa's copy of the front door's masking.

It must pass exactly the cases bot.privacy.mask_text passes
(tests/db/test_privacy.py and tests/test_masking_prefix.py read the same
file, tests/data/masking_cases.json, in the app's environment), so the two
copies cannot drift apart although no process imports both.
"""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet

from hotline_rasa.masking import mask_text, mask_value
from hotline_rasa.tests.conftest import ROOT

CASES = json.loads((ROOT / "tests" / "data" / "masking_cases.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("raw", "masked"), [tuple(case) for case in CASES["mask"]])
def test_masks_phone_id_and_card_numbers_as_the_front_door_does(raw: str, masked: str) -> None:
    assert mask_text(raw) == masked
    assert mask_text(masked) == masked  # idempotent


@pytest.mark.parametrize("text", CASES["keep"])
def test_keeps_other_numbers_as_the_front_door_does(text: str) -> None:
    assert mask_text(text) == text


# --- only a real Fernet token after ``enc:`` escapes masking (review) -----------
# The ``enc:`` exception exists for sealed slot values (the complaint form's
# phone); a citizen who types "enc:" before a number must not get it stored
# in plaintext in Rasa's tracker in Redis.


@pytest.mark.parametrize(("raw", "masked"), [tuple(c) for c in CASES["typed_enc_prefix"]])
def test_typed_enc_prefix_does_not_escape_masking(raw: str, masked: str) -> None:
    assert mask_text(raw) == masked


def test_sealed_values_pass_unchanged() -> None:
    sealed = "enc:" + Fernet(Fernet.generate_key()).encrypt(b"13812345678").decode()
    assert mask_text(sealed) == sealed


def test_mask_value_walks_lists_and_dicts() -> None:
    value = {"a": ["13812345678", 3, None], "b": {"c": "电话13812345678"}}
    assert mask_value(value) == {"a": ["138****5678", 3, None], "b": {"c": "电话138****5678"}}
