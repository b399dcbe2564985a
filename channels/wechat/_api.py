"""WeChat Official Account API client: access token, customer-service and
template messages, the custom menu.

The access token is shared by every replica through the shared store: it is
cached with its expiry minus a margin and refreshed under a store lock, so
only one replica calls ``/cgi-bin/token`` and the others wait and re-read.
WeChat invalidates the previous token whenever a new one is fetched, which is
why a refresh storm from many replicas would break them all.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.config import Settings
from bot.inbound import ChannelStore
from bot.store.base import StoreUnavailable

log = logging.getLogger(__name__)

#: Refresh this many seconds before WeChat's expiry (7200 s) is reached.
TOKEN_MARGIN = 300.0
TOKEN_LOCK_TTL = 15.0
TOKEN_LOCK_WAIT = 12.0
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=10)

TEMPLATE_SEND = "/cgi-bin/message/template/send"
MENU_CREATE = "/cgi-bin/menu/create"

#: errcodes meaning "this access token is no longer valid".
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
SEND_PATH = "/cgi-bin/message/custom/send"
TYPING_PATH = "/cgi-bin/message/custom/typing"
ERROR_REASONS = {
    45015: "outside_window",  # the citizen has not written in the last 48 hours
    45047: "quota",  # too many customer-service messages since the citizen's last one
    43004: "not_subscribed",
    40003: "invalid_openid",
    45002: "too_long",
    40037: "invalid_template",  # the template id is not one of the account's
    43101: "refused",  # the citizen turned the account's notices off
    45009: "rate_limited",  # the account's daily API quota is used up
    47003: "bad_template_data",  # a template field's value does not fit its type
}


class WeChatApiError(Exception):
    """A WeChat API call that failed; ``errcode``/``reason`` are safe to log."""

    def __init__(self, errcode: int, reason: str) -> None:
        super().__init__(f"WeChat API error {errcode} ({reason})")
        self.errcode = errcode
        self.reason = reason


@dataclass(frozen=True)
class SendResult:
    """Outcome of one customer-service message.

    ``reason``: "ok", "outside_window" (45015), "quota" (45047), "token"
    (still rejected after one refresh), "http_..." (network / HTTP error),
    "not_configured", "store_unavailable", or "error"; ``errcode`` is
    WeChat's (-1 when WeChat did not answer).
    """

    ok: bool
    errcode: int = 0
    reason: str = "ok"


def mask_openid(openid: str) -> str:
    """An OpenID shortened for log lines (never logged in full)."""
    return f"{openid[:4]}…{openid[-2:]}" if len(openid) > 8 else "…"


class WeChatApi:
    """Calls to ``WECHAT_API_BASE_URL`` for one Official Account."""

    def __init__(
        self, settings: Settings, store: ChannelStore, session: aiohttp.ClientSession | None = None
    ) -> None:
        self._base = settings.wechat_api_base_url.rstrip("/")
        self._app_id = settings.wechat_app_id or ""
        self._secret = str(settings.wechat_app_secret or "")
        self._store = store
        self._session = session
        self._own_session = session is None
        #: ``wechat:access_token:<app id>`` in the store (its lock: ``lock:wechat:...``).
        self._token_key = f"access_token:{self._app_id}"
        self.token_fetches = 0  # how many times this instance called /cgi-bin/token

    @property
    def configured(self) -> bool:
        """True when AppID and AppSecret are set (pushing is possible)."""
        return bool(self._app_id and self._secret)

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=HTTP_TIMEOUT)
            self._own_session = True
        return self._session

    async def close(self) -> None:
        """Close the HTTP session if this client opened it."""
        if self._own_session and self._session is not None and not self._session.closed:
            await self._session.close()

    # --- access token -----------------------------------------------------
    async def access_token(self, stale: str | None = None) -> str:
        """A valid access token; ``stale`` is one WeChat just rejected.

        One caller refreshes under the store lock; the others poll the cached
        value (not the lock) so they all continue as soon as it is written.
        """
        deadline = time.monotonic() + TOKEN_LOCK_WAIT
        delay = 0.01
        while True:
            cached = await self._store.get(self._token_key)
            if cached and cached != stale:
                return cached
            held = await self._store.try_lock(self._token_key, TOKEN_LOCK_TTL)
            if held is not None:
                async with held:
                    return await self._refresh_locked(stale)
            if time.monotonic() >= deadline:
                raise WeChatApiError(-1, "token_lock_timeout")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)

    async def _refresh_locked(self, stale: str | None) -> str:
        cached = await self._store.get(self._token_key)
        if cached and cached != stale:
            return cached  # another replica refreshed it just before we took the lock
        token, expires_in = await self._fetch_token()
        await self._store.set(self._token_key, token, max(60.0, expires_in - TOKEN_MARGIN))
        return token

    async def _fetch_token(self) -> tuple[str, float]:
        if not self.configured:
            raise WeChatApiError(-1, "not_configured")
        self.token_fetches += 1
        params = {"grant_type": "client_credential", "appid": self._app_id, "secret": self._secret}
        data = await self._request("GET", "/cgi-bin/token", params=params)
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            errcode = int(data.get("errcode") or -1)
            log.error("wechat: access token refresh failed errcode=%s", errcode)
            raise WeChatApiError(errcode, "token")
        log.info("wechat: access token refreshed")
        return token, float(data.get("expires_in") or 7200)

    # --- customer-service and template messages ------------------------------
    async def send_text(self, openid: str, content: str) -> SendResult:
        """Send one customer-service text message; never raises."""
        body = {"touser": openid, "msgtype": "text", "text": {"content": content}}
        return await self.send_custom(openid, body)

    async def set_typing(self, openid: str, on: bool) -> int:
        """The customer-service typing state (``Typing`` / ``CancelTyping``): the
        errcode, 0 when shown; never raises, logs nothing (the caller decides).
        WeChat refuses it without a message from the citizen in the last 30 s
        (45080) and a repeated ``Typing`` (45081)."""
        body = {"touser": openid, "command": "Typing" if on else "CancelTyping"}
        try:
            data = await self.call(TYPING_PATH, body)
        except WeChatApiError as exc:
            return exc.errcode
        except StoreUnavailable:
            return -1
        return _errcode(data)

    async def send_custom(self, openid: str, body: dict[str, Any]) -> SendResult:
        """POST ``body`` to ``/cgi-bin/message/custom/send``, refreshing a bad token once."""
        return await self._send(openid, SEND_PATH, body, "customer-service message")

    async def send_template(self, openid: str, body: dict[str, Any]) -> SendResult:
        """POST ``body`` (``touser``, ``template_id``, ``url``?, ``data``) to
        ``/cgi-bin/message/template/send``; never raises. Outside the 48-hour
        window this is how a citizen still hears of their ticket."""
        return await self._send(openid, TEMPLATE_SEND, body, "template message")

    async def create_menu(self, menu: dict[str, Any]) -> SendResult:
        """POST ``menu`` (``{"button": [...]}``) to ``/cgi-bin/menu/create``."""
        try:
            data = await self.call(MENU_CREATE, menu)
        except WeChatApiError as exc:
            return SendResult(ok=False, errcode=exc.errcode, reason=exc.reason)
        errcode = _errcode(data)
        if errcode == 0:
            return SendResult(ok=True)
        log.error("wechat: menu/create failed errcode=%s", errcode)
        return SendResult(ok=False, errcode=errcode, reason=_reason(errcode))

    async def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body`` to ``path`` with the access token; a token WeChat calls
        invalid (40001, 42001...) is refreshed once and the call repeated.
        Raises :class:`WeChatApiError` (no token, HTTP failure) and
        ``StoreUnavailable``; WeChat's own refusals come back in the answer."""
        token = await self.access_token()
        data = await self._post(path, token, body)
        if _errcode(data) in TOKEN_ERRORS:
            log.info("wechat: access token rejected, refreshing once")
            token = await self.access_token(stale=token)
            data = await self._post(path, token, body)
        return data

    async def _send(self, openid: str, path: str, body: dict[str, Any], what: str) -> SendResult:
        try:
            data = await self.call(path, body)
        except WeChatApiError as exc:
            return self._failed(openid, exc.errcode, exc.reason, what)
        except StoreUnavailable:
            return self._failed(openid, -1, "store_unavailable", what)
        errcode = _errcode(data)
        if errcode == 0:
            return SendResult(ok=True)
        return self._failed(openid, errcode, _reason(errcode), what)

    async def _post(self, path: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        return await self._request("POST", path, params={"access_token": token}, data=payload)

    def _failed(self, openid: str, errcode: int, reason: str, what: str) -> SendResult:
        log.warning(
            "wechat: %s to %s failed errcode=%s reason=%s",
            what,
            mask_openid(openid),
            errcode,
            reason,
        )
        return SendResult(ok=False, errcode=errcode, reason=reason)

    async def _request(
        self, method: str, path: str, params: dict[str, str], data: bytes | None = None
    ) -> dict[str, Any]:
        """One API call; the URL (it holds the secret or token) is never logged."""
        headers = {"Content-Type": "application/json; charset=utf-8"} if data else None
        try:
            async with self._http().request(
                method, self._base + path, params=params, data=data, headers=headers
            ) as resp:
                if resp.status != 200:
                    raise WeChatApiError(-1, f"http_{resp.status}")
                result = json.loads(await resp.read())
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise WeChatApiError(-1, f"http_{type(exc).__name__}") from exc
        if not isinstance(result, dict):
            raise WeChatApiError(-1, "http_bad_json")
        return result


def _reason(errcode: int) -> str:
    return "token" if errcode in TOKEN_ERRORS else ERROR_REASONS.get(errcode, "error")


def _errcode(data: dict[str, Any]) -> int:
    try:
        return int(data.get("errcode") or 0)
    except (TypeError, ValueError):
        return -1
