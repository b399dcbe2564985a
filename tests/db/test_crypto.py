"""Encryption at rest: MultiFernet keys from the environment or a local key file."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.db.crypto import Cipher, DataKeyError, load_cipher


def test_round_trip_and_none() -> None:
    cipher = Cipher([Fernet.generate_key().decode()])
    token = cipher.encrypt("13812345678")
    assert token is not None and "13812345678" not in token
    assert cipher.decrypt(token) == "13812345678"
    assert cipher.encrypt(None) is None and cipher.decrypt(None) is None


def test_decrypts_a_token_made_by_plain_fernet() -> None:
    key = Fernet.generate_key()
    token = Fernet(key).encrypt("王小明".encode()).decode()
    assert Cipher([key.decode()]).decrypt(token) == "王小明"


def test_rotation_moves_to_the_first_key() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = Cipher([old]).encrypt("13812345678")
    rotated = Cipher([new, old]).rotate(token)
    assert Cipher([new]).decrypt(rotated) == "13812345678"
    with pytest.raises(DataKeyError):
        Cipher([old]).decrypt(rotated)


def test_keys_from_environment() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = Cipher([old]).encrypt("x")
    cipher = load_cipher(f" {new} , {old} ")
    assert cipher.decrypt(token) == "x"


def test_bad_key_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="HOTLINE_DATA_KEYS"):
        load_cipher("not-a-key")


def test_key_file_is_created_once_with_mode_0600(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "var" / "data.key"
    with caplog.at_level(logging.WARNING):
        first = load_cipher(None, key_file=path)
    assert "HOTLINE_DATA_KEYS" in caplog.text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = first.encrypt("13812345678")
    assert load_cipher(None, key_file=path).decrypt(token) == "13812345678"
    assert [p.name for p in path.parent.iterdir()] == ["data.key"]
