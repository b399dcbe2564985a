"""WeChat Official Account signatures and message encryption (safe / compatible mode).

WeChat signs a request with ``sha1(sorted(token, timestamp, nonce[, encrypt]))``
and encrypts a message as ``base64(AES-256-CBC(key, iv=key[:16],
pkcs7_32(random16 + len32be + xml + app_id)))`` where ``key`` is
``base64(EncodingAESKey + "=")``. wechatpy implements the same scheme but
compares signatures with ``!=`` and accepts any padding; here every check is
strict and signatures are compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

#: WeChat pads to 32-byte blocks (not AES's 16).
PAD_BLOCK = 32
_RANDOM_LEN = 16
_LEN_FIELD = 4


class WeChatCryptoError(ValueError):
    """An encrypted payload that cannot be accepted; ``reason`` is safe to log."""

    reason = "invalid encrypted payload"

    def __str__(self) -> str:
        return self.reason


class InvalidBase64Error(WeChatCryptoError):
    reason = "encrypt is not valid base64"


class InvalidCiphertextError(WeChatCryptoError):
    reason = "ciphertext length is not a multiple of the AES block"


class InvalidPaddingError(WeChatCryptoError):
    reason = "bad PKCS#7 padding"


class InvalidLengthError(WeChatCryptoError):
    reason = "message length field out of range"


class InvalidAppIdError(WeChatCryptoError):
    reason = "AppID in the payload does not match"


def signature(token: str, *parts: str) -> str:
    """WeChat's request signature: SHA-1 of the sorted, concatenated parts."""
    joined = "".join(sorted([token, *parts]))
    return hashlib.sha1(joined.encode("utf-8"), usedforsecurity=False).hexdigest()


def signature_matches(given: str | None, token: str, *parts: str) -> bool:
    """Whether ``given`` is the signature of ``parts``, compared in constant time."""
    if not given:
        return False
    expected = signature(token, *parts)
    return hmac.compare_digest(given.strip().lower().encode(), expected.encode())


def decode_aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key from the 43-character EncodingAESKey."""
    if len(encoding_aes_key) != 43:
        raise ValueError("EncodingAESKey must be 43 characters")
    key = base64.b64decode(encoding_aes_key + "=", validate=True)
    if len(key) != 32:
        raise ValueError("EncodingAESKey must decode to 32 bytes")
    return key


def pkcs7_pad(data: bytes, block: int = PAD_BLOCK) -> bytes:
    """Pad to a multiple of ``block`` (1..block bytes, each the pad length)."""
    count = block - len(data) % block
    return data + bytes([count]) * count


def pkcs7_unpad(data: bytes, block: int = PAD_BLOCK) -> bytes:
    """Remove padding, checking every pad byte."""
    if not data:
        raise InvalidPaddingError()
    count = data[-1]
    if not 1 <= count <= block or count > len(data):
        raise InvalidPaddingError()
    if not hmac.compare_digest(data[-count:], bytes([count]) * count):
        raise InvalidPaddingError()
    return data[:-count]


class WeChatCrypto:
    """Encrypts and decrypts message bodies for one Official Account."""

    def __init__(self, encoding_aes_key: str, app_id: str) -> None:
        self._key = decode_aes_key(encoding_aes_key)
        self._app_id = app_id.encode("utf-8")

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def encrypt(self, plaintext: bytes, random_prefix: bytes | None = None) -> str:
        """The base64 ``Encrypt`` value for ``plaintext`` (an XML document)."""
        prefix = random_prefix if random_prefix is not None else _random_prefix()
        if len(prefix) != _RANDOM_LEN:
            raise ValueError("random prefix must be 16 bytes")
        body = prefix + struct.pack(">I", len(plaintext)) + plaintext + self._app_id
        encryptor = self._cipher().encryptor()
        ciphertext = encryptor.update(pkcs7_pad(body)) + encryptor.finalize()
        return base64.b64encode(ciphertext).decode("ascii")

    def decrypt(self, encrypted: str) -> bytes:
        """The plaintext XML inside ``encrypted``; raises :class:`WeChatCryptoError`."""
        try:
            ciphertext = base64.b64decode(encrypted.strip(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidBase64Error() from exc
        if not ciphertext or len(ciphertext) % 16:
            raise InvalidCiphertextError()
        decryptor = self._cipher().decryptor()
        body = pkcs7_unpad(decryptor.update(ciphertext) + decryptor.finalize())
        return self._split_body(body)

    def _split_body(self, body: bytes) -> bytes:
        if len(body) < _RANDOM_LEN + _LEN_FIELD:
            raise InvalidLengthError()
        (length,) = struct.unpack(">I", body[_RANDOM_LEN : _RANDOM_LEN + _LEN_FIELD])
        start = _RANDOM_LEN + _LEN_FIELD
        if start + length > len(body):
            raise InvalidLengthError()
        app_id = body[start + length :]
        if not hmac.compare_digest(app_id, self._app_id):
            raise InvalidAppIdError()
        return body[start : start + length]


def _random_prefix() -> bytes:
    """16 random printable bytes, as WeChat's own SDKs use."""
    alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return bytes(alphabet[b % len(alphabet)] for b in os.urandom(_RANDOM_LEN))
