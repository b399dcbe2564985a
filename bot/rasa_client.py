"""HTTP client of the Rasa server (loopback only; the front door is its only client).

With ``auth_token`` (``RASA_AUTH_TOKEN`` or the generated ``var/rasa_auth.token``)
every turn carries ``Authorization: Bearer <token>`` (checked by
``hotline_rasa.channel.TokenRestInput``) and ``GET /status`` carries
``?token=`` (how Rasa's ``--auth-token`` API check reads it).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp
from yarl import URL

logger = logging.getLogger(__name__)


#: The most a turn waits for the TCP connection to one Rasa server (within
#: its whole limit): a server that does not even accept the connection is
#: down, and the turn can still go to another (bot/rasa_pool.py).
CONNECT_TIMEOUT = 2.0


class RasaUnavailable(Exception):
    """Rasa did not give a usable answer: down, too slow, 5xx or not JSON.

    ``reached`` is False only when the request never got to Rasa (the
    connection was refused or could not be made in time): sending it to
    another server cannot answer the citizen twice. ``server_fault`` is True
    when the server itself failed (no connection, the connection dropped, too
    slow) rather than answering badly (an HTTP error, not JSON); ``timed_out``
    when it was reached but did not answer within the limit (busy or stuck).
    ``no_reply`` when Rasa answered the turn with no message at all: what
    Rasa 3.6 does when a custom action could not run (see :data:`NO_REPLY`).
    """

    def __init__(
        self,
        text: str,
        *,
        reached: bool = True,
        server_fault: bool = False,
        timed_out: bool = False,
        no_reply: bool = False,
    ) -> None:
        super().__init__(text)
        self.reached = reached
        self.server_fault = server_fault
        self.timed_out = timed_out
        self.no_reply = no_reply


#: Why an empty reply list is a failed turn, not a silent one. When Rasa 3.6
#: cannot run a custom action (no action server answers: ``RemoteAction.run``
#: raises), ``MessageProcessor._run_action`` logs "Bot will continue, but the
#: actions events are lost", records the action as executed with no events,
#: and the REST webhook answers ``200 []``. The dialogue has then moved past
#: the action: the citizen's resend (确认 of a complaint) is no longer
#: understood. Every turn of this assistant says something, so the client
#: undoes such a turn (a ``rewind`` event, Rasa's ``UserUtteranceReverted``:
#: the tracker as before the citizen's message) and reports it; the resend is
#: then the same turn again. Tickets are created once per submission (the
#: action's idempotency key), so a turn whose action did run cannot double one.
#: Characters a conversation id may have to be put in a Rasa API path as it is.
PATH_SAFE = ":@=-._~"
NO_REPLY = "rasa answered no message (a custom action could not run); the turn was undone"


class RasaApi(Protocol):
    """What the hub and the health check use of Rasa: one server
    (:class:`RasaClient`) or several (:class:`bot.rasa_pool.RasaPool`)."""

    async def send(
        self, sender: str, message: str, metadata: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]: ...

    async def parse(self, text: str, timeout: float | None = None) -> dict[str, Any]: ...

    async def find_turn(self, sender: str, message_id: str) -> list[dict[str, Any]] | None: ...

    async def status(self, timeout: float | None = None) -> dict[str, Any]: ...

    async def model_loaded(self, timeout: float | None = None) -> bool: ...

    async def close(self) -> None: ...


class RasaClient:
    """Sends one citizen turn to Rasa's REST webhook and reads its status.

    The aiohttp session is created on first use (inside the running loop)
    unless one is injected; :meth:`close` closes only a session it created.
    """

    def __init__(
        self,
        base_url: str,
        timeout: float,
        session: aiohttp.ClientSession | None = None,
        auth_token: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._auth_headers = {"Authorization": f"Bearer {auth_token}"} if auth_token else None
        self._auth_params = {"token": auth_token} if auth_token else None
        self._session = session
        self._owns_session = session is None
        # Built once: every turn goes to the same URL with the same limit.
        self._urls: dict[str, URL] = {}
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # Rasa sets no cookies: a cookie jar would only cost time per request.
            self._session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
            self._owns_session = True
        return self._session

    def _url(self, path: str) -> URL:
        text = self.base_url + path
        url = self._urls.get(text)
        if url is None:
            url = self._urls[text] = URL(text)
        return url

    def _timeout(self, limit: float) -> aiohttp.ClientTimeout:
        timeout = self._timeouts.get(limit)
        if timeout is None:
            timeout = self._timeouts[limit] = aiohttp.ClientTimeout(
                total=limit, sock_connect=min(limit, CONNECT_TIMEOUT)
            )
        return timeout

    def use_session(self, session: aiohttp.ClientSession) -> None:
        """Send through ``session`` (owned by the caller: :meth:`close` leaves it open)."""
        self._session = session
        self._owns_session = False

    async def send(
        self,
        sender: str,
        message: str,
        metadata: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> list[dict[str, Any]]:
        """One turn: Rasa's reply list (``text``, ``buttons``, ``image``, ``custom``)."""
        body = {"sender": sender, "message": message, "metadata": metadata or {}}
        data = await self._request(
            "POST",
            "/webhooks/rest/webhook",
            timeout=timeout,
            json=body,
            headers=self._auth_headers,
        )
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise RasaUnavailable("webhook answer is not a list of messages")
        if not data:
            undone = await self._undo_turn(sender, timeout)
            text = NO_REPLY if undone else "rasa answered no message; the turn could not be undone"
            raise RasaUnavailable(text, no_reply=True)
        return data

    async def _undo_turn(self, sender: str, timeout: float | None) -> bool:
        """Append ``rewind`` to the conversation's tracker (see :data:`NO_REPLY`);
        false (logged) when Rasa refused or failed."""
        # Rasa's server (Sanic) does not unquote the conversation id of the path:
        # a sender that would need quoting cannot be named (senders are made of
        # URL-safe characters, channels/*).
        if quote(sender, safe=PATH_SAFE) != sender:
            logger.warning("a turn with no reply was not undone: the sender needs quoting")
            return False
        params = {"include_events": "NONE", **(self._auth_params or {})}
        try:
            await self._request(
                "POST",
                f"/conversations/{sender}/tracker/events",
                timeout=timeout,
                json={"event": "rewind"},
                params=params,
                per_conversation=True,
            )
        except RasaUnavailable as exc:
            logger.warning("a turn with no reply was not undone: %s", exc)
            return False
        return True

    async def find_turn(
        self, sender: str, message_id: str, timeout: float | None = None
    ) -> list[dict[str, Any]] | None:
        """The replies Rasa gave to the front door's message ``message_id``
        (sent with ``metadata.message_id``; hotline_rasa/channel.py keeps it
        on the user event as ``hotline_message_id``), in the webhook's shape,
        or None when the tracker holds no such message: Rasa never ran it.

        Read from ``GET /conversations/<sender>/tracker`` (since the last
        restart); only when a replica takes over a message another one may
        have sent (bot/hub_routing.py), never per turn."""
        if quote(sender, safe=PATH_SAFE) != sender:
            return None  # cannot be named in the path (see _undo_turn)
        params = {"include_events": "AFTER_RESTART", **(self._auth_params or {})}
        data = await self._request(
            "GET",
            f"/conversations/{sender}/tracker",
            timeout=timeout,
            params=params,
            per_conversation=True,
        )
        events = data.get("events") if isinstance(data, dict) else None
        return replies_to(events or [], sender, message_id)

    async def parse(self, text: str, timeout: float | None = None) -> dict[str, Any]:
        """Rasa's ``POST /model/parse``: the NLU result of ``text`` (intent,
        its ranking, the FAQ response selector's choice); touches no tracker."""
        data = await self._request(
            "POST", "/model/parse", json={"text": text}, timeout=timeout, params=self._auth_params
        )
        if not isinstance(data, dict):
            raise RasaUnavailable("parse answer is not an object")
        return data

    async def status(self, timeout: float | None = None) -> dict[str, Any]:
        """Rasa's ``GET /status``; an empty dict when no model is loaded (409)."""
        data = await self._request(
            "GET", "/status", allow_conflict=True, timeout=timeout, params=self._auth_params
        )
        return data if isinstance(data, dict) else {}

    async def model_loaded(self, timeout: float | None = None) -> bool:
        """True when Rasa answers and has a model loaded."""
        return bool((await self.status(timeout)).get("model_file"))

    async def _request(
        self,
        method: str,
        path: str,
        allow_conflict: bool = False,
        timeout: float | None = None,
        per_conversation: bool = False,
        **kwargs: Any,
    ) -> Any:
        limit = self.timeout if timeout is None else timeout
        # A conversation's own path (already quoted) is not kept in the cache.
        url = URL(self.base_url + path, encoded=True) if per_conversation else self._url(path)
        try:
            async with self._http().request(
                method, url, timeout=self._timeout(limit), **kwargs
            ) as resp:
                if allow_conflict and resp.status == 409:
                    return {}
                if resp.status >= 400:
                    raise RasaUnavailable(f"rasa answered HTTP {resp.status} to {path}")
                # JSON is UTF-8 (RFC 8259); naming it skips parsing Content-Type.
                return await resp.json(encoding="utf-8", content_type=None)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            # Before the request was written: Rasa never saw it.
            raise RasaUnavailable(
                f"rasa {self.base_url} not reached on {path}: {type(exc).__name__}",
                reached=False,
                server_fault=True,
            ) from exc
        except TimeoutError as exc:
            raise RasaUnavailable(
                f"rasa {self.base_url} timed out after {limit}s on {path}",
                server_fault=True,
                timed_out=True,
            ) from exc
        except aiohttp.ClientError as exc:
            raise RasaUnavailable(
                f"rasa {self.base_url} unreachable on {path}: {type(exc).__name__}",
                server_fault=True,
            ) from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RasaUnavailable(f"rasa answered non-JSON on {path}") from exc

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None


#: The keys of a bot event's ``data`` that Rasa's REST channel returns (CollectingOutputChannel).
_REPLY_KEYS = ("buttons", "image", "attachment", "elements", "quick_replies", "custom")


def _message_id_of(event: dict[str, Any]) -> Any:
    for metadata in (event.get("metadata"), (event.get("parse_data") or {}).get("metadata")):
        if isinstance(metadata, dict) and "hotline_message_id" in metadata:
            return metadata["hotline_message_id"]
    return None


def replies_to(
    events: list[dict[str, Any]], sender: str, message_id: str
) -> list[dict[str, Any]] | None:
    """The bot messages after the user event of ``message_id`` (up to the next
    user message), as the REST webhook returns them; None when it is absent.
    A turn that was undone (``rewind``) after it counts as not run."""
    start = None
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if event.get("event") == "user" and _message_id_of(event) == message_id:
            start = index
            break
    if start is None:
        return None
    replies: list[dict[str, Any]] = []
    for event in events[start + 1 :]:
        kind = event.get("event")
        if kind == "user":
            break
        if kind == "rewind":
            return None
        if kind == "bot":
            reply: dict[str, Any] = {"recipient_id": sender}
            if event.get("text") is not None:
                reply["text"] = event["text"]
            data = event.get("data") or {}
            reply.update({k: data[k] for k in _REPLY_KEYS if data.get(k)})
            replies.append(reply)
    return replies
