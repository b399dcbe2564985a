"""Encryption at rest of citizens' personal data (name, phone, ID number).

Keys come from ``HOTLINE_DATA_KEYS``: comma-separated Fernet keys, the first
one encrypts, all of them decrypt. Rotation: put a new key first, keep the old
ones behind it, run ``python -m bot.db rotate-keys``, then drop the old keys.
Without the variable a key is generated once into ``var/data.key`` so that a
single-machine trial works; production must set the variable (every replica
needs the same keys).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot import config

log = logging.getLogger(__name__)

KEYS_ENV = "HOTLINE_DATA_KEYS"


class DataKeyError(RuntimeError):
    """The configured keys cannot decrypt data stored in the database."""


class Cipher:
    """Encrypts and decrypts short text fields with a MultiFernet."""

    def __init__(self, keys: Sequence[str | bytes]) -> None:
        if not keys:
            raise ValueError("at least one data key is required")
        try:
            fernets = [Fernet(k.encode() if isinstance(k, str) else k) for k in keys]
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{KEYS_ENV} holds an invalid Fernet key: {exc}") from None
        self._fernet = MultiFernet(fernets)

    def encrypt(self, value: str | None) -> str | None:
        """Encrypt ``value`` with the current key; ``None`` stays ``None``."""
        if value is None:
            return None
        return self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str | None) -> str | None:
        """Decrypt a stored token with any configured key."""
        if token is None:
            return None
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise DataKeyError(
                f"stored personal data cannot be decrypted: {KEYS_ENV} does not hold "
                "the key it was encrypted with"
            ) from None

    def rotate(self, token: str | None) -> str | None:
        """Re-encrypt a stored token with the current (first) key."""
        if token is None:
            return None
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise DataKeyError(
                f"cannot rotate: {KEYS_ENV} does not hold the key a value was encrypted with"
            ) from None


def load_cipher(keys: str | None, key_file: Path | None = None) -> Cipher:
    """Build the cipher from ``keys`` (the value of ``HOTLINE_DATA_KEYS``,
    ``settings.data_keys``) or, without keys, the local development key file."""
    ring = [k.strip() for k in (keys or "").split(",") if k.strip()]
    if ring:
        return Cipher(ring)
    path = key_file or (config.VAR_DIR / "data.key")
    log.warning(
        "%s is not set: using the local key file %s. Production must set %s "
        "(the same keys on every replica).",
        KEYS_ENV,
        path,
        KEYS_ENV,
    )
    return Cipher([_read_or_create_key(path)])


def _read_or_create_key(path: Path) -> bytes:
    """Read the key file, creating it (mode 0600) if it is missing.

    The key is written to a private temporary file and hard-linked into place,
    so two processes starting together never see a half-written key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key() + b"\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_bytes().strip()
