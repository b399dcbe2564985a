"""Authenticating WeChat webhook requests before their body is parsed.

Order of checks for ``POST /webhooks/wechat``:

1. query: ``timestamp`` within 5 minutes and ``signature`` (token, timestamp,
   nonce) correct, in constant time -> else 403;
2. body read up to ``max_body_bytes`` -> else 413;
3. AES mode: the ``Encrypt`` value is located without an XML parser and
   ``msg_signature`` (token, timestamp, nonce, Encrypt) checked -> else 403;
   only then is the body parsed (DTDs refused) and decrypted -> else 400.

When an EncodingAESKey is configured, only AES requests (safe or compatible
mode) are accepted: in plaintext mode WeChat's signature does not cover the
body, so plaintext must not be a way around the message signature.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web

from channels.wechat._crypto import WeChatCrypto, WeChatCryptoError, signature, signature_matches
from channels.wechat._xml import (
    WeChatXmlError,
    extract_encrypt,
    parse_message,
    render_encrypted_reply,
)

#: WeChat's timestamp may differ from ours by at most this many seconds.
MAX_CLOCK_SKEW = 300


class WebhookRejected(Exception):
    """A request answered with ``status``; ``reason`` is safe to log."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class RequestAuth:
    """What an authenticated request's query said."""

    timestamp: str
    nonce: str
    aes: bool


def check_query(
    query: Mapping[str, str], token: str, aes_required: bool, now: float | None = None
) -> RequestAuth:
    """Check ``timestamp`` and ``signature``; raise :class:`WebhookRejected` (403)."""
    timestamp = query.get("timestamp", "")
    nonce = query.get("nonce", "")
    if not token:
        raise WebhookRejected(403, "WECHAT_TOKEN is not configured")
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise WebhookRejected(403, "missing or malformed timestamp")
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > MAX_CLOCK_SKEW:
        raise WebhookRejected(403, "stale timestamp")
    if not signature_matches(query.get("signature"), token, timestamp, nonce):
        raise WebhookRejected(403, "bad signature")
    aes = query.get("encrypt_type", "raw").lower() == "aes"
    if aes_required and not aes:
        raise WebhookRejected(403, "plaintext request while AES mode is configured")
    return RequestAuth(timestamp=timestamp, nonce=nonce, aes=aes)


async def read_body(request: web.Request, limit: int) -> bytes:
    """The request body, or 413 as soon as it exceeds ``limit`` bytes."""
    if request.content_length is not None and request.content_length > limit:
        raise WebhookRejected(413, "body too large")
    body = bytearray()
    while chunk := await request.content.read(64 * 1024):
        body.extend(chunk)
        if len(body) > limit:
            raise WebhookRejected(413, "body too large")
    return bytes(body)


def open_body(
    body: bytes,
    auth: RequestAuth,
    query: Mapping[str, str],
    token: str,
    crypto: WeChatCrypto | None,
) -> dict[str, str]:
    """The message fields of an authenticated body (decrypted in AES mode)."""
    if not auth.aes:
        return _parse(body)
    if crypto is None:
        raise WebhookRejected(400, "AES request but no EncodingAESKey configured")
    try:
        encrypt = extract_encrypt(body)
    except WeChatXmlError as exc:
        raise WebhookRejected(400, exc.reason) from exc
    msg_signature = query.get("msg_signature")
    if not signature_matches(msg_signature, token, auth.timestamp, auth.nonce, encrypt):
        raise WebhookRejected(403, "bad msg_signature")
    outer = _parse(body)  # only now, after the body is authenticated
    if not hmac.compare_digest(outer.get("Encrypt", "").strip().encode(), encrypt.encode()):
        raise WebhookRejected(400, "Encrypt element is ambiguous")
    try:
        inner = crypto.decrypt(encrypt)
    except WeChatCryptoError as exc:
        raise WebhookRejected(400, exc.reason) from exc
    return _parse(inner)


def _parse(body: bytes) -> dict[str, str]:
    try:
        return parse_message(body)
    except WeChatXmlError as exc:
        raise WebhookRejected(400, exc.reason) from exc


def seal_reply(xml: bytes, token: str, crypto: WeChatCrypto) -> bytes:
    """Encrypt and sign a passive reply for safe / compatible mode."""
    timestamp = str(int(time.time()))
    nonce = str(secrets.randbelow(10**10))
    encrypt = crypto.encrypt(xml)
    return render_encrypted_reply(
        encrypt, signature(token, timestamp, nonce, encrypt), timestamp, nonce
    )
