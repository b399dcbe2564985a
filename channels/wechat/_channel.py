"""WeChat Official Account channel: ``GET``/``POST /webhooks/wechat``.

Replies: WeChat waits 5 s for the answer to a message and retries up to three
times, so the hub gets at most ~4 s (the whole request stays under 4.5 s).
If the replies are ready they go back as one passive text reply: several
replies are joined with blank lines. When the joined text exceeds WeChat's
2048-byte limit, or the answer is not ready in time (status "pending"), the
request is answered with an empty "success" and the replies follow as
customer-service messages (``send``), in order, packed into as few messages
of at most 2048 bytes as possible (WeChat limits how many may follow one
citizen message). A retried message (status "duplicate") is acknowledged
with "success". ``send`` raises :class:`WeChatSendError` when WeChat refuses
a message (45015 outside the 48-hour window, 45047 quota, ...), after
logging it without content and recording a ``wechat_send_failed`` event.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from aiohttp import web

from bot.config import Settings
from bot.inbound import DeliveryMode, InboundPort
from bot.messages import BUSY_TEXT, InboundMessage, OutboundMessage, TicketNotice
from bot.store.base import StoreUnavailable
from channels.base import Channel, Delivery, DeliveryFailed, payload_for_choice
from channels.wechat._api import SendResult, WeChatApi
from channels.wechat._auth import (
    RequestAuth,
    WebhookRejected,
    check_query,
    open_body,
    read_body,
    seal_reply,
)
from channels.wechat._crypto import WeChatCrypto
from channels.wechat._inbound import Inbound, to_inbound
from channels.wechat._notice import WINDOW_REASONS, template_body
from channels.wechat._render import join_for_passive, render_messages, reply_buttons, split_for_push
from channels.wechat._xml import WeChatXmlError, render_text_reply

log = logging.getLogger(__name__)

#: The whole POST must be answered within this many seconds (WeChat gives up at
#: 5); 4.0 leaves room for time the request waited before this handler ran
#: (measured 4.56-4.59 s with 4.5 under a burst, docs/adr/0003-wechat-response-deadline.md).
RESPONSE_DEADLINE = 4.0
#: The most the hub is asked to wait for Rasa.
HUB_WAIT = 3.5
BUTTONS_TTL = 24 * 3600.0
EVENT_DEDUPE_TTL = 600.0
#: Seconds one "Typing" state is held before it may be sent again (WeChat refuses a repeat).
TYPING_EVERY = 10.0


class WeChatSendError(DeliveryFailed):
    """``send`` could not deliver a customer-service message (see ``result``)."""

    def __init__(self, result: SendResult) -> None:
        super().__init__(result.reason)
        self.args = (f"WeChat send failed: errcode={result.errcode} reason={result.reason}",)
        self.result = result


class WeChatChannel(Channel):
    """The Official Account's webhook and customer-service message sender."""

    name = "wechat"

    def __init__(
        self, inbound: InboundPort, settings: Settings, api: WeChatApi | None = None
    ) -> None:
        self.inbound = inbound
        #: The channel's keys in the shared store (``wechat:...``).
        self.store = inbound.store(self.name)
        self.settings = settings
        self._token = str(settings.wechat_token or "")
        key = settings.wechat_encoding_aes_key
        self._crypto = WeChatCrypto(str(key), settings.wechat_app_id or "") if key else None
        self.api = api or WeChatApi(settings, self.store)
        self._tasks: set[asyncio.Task[Any]] = set()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/webhooks/wechat", self.handle_verify)
        app.router.add_post("/webhooks/wechat", self.handle_message)

    async def stop(self) -> None:
        """Let late deliveries finish (briefly), then close the API client."""
        if self._tasks:
            _, pending = await asyncio.wait(list(self._tasks), timeout=5)
            for task in pending:
                task.cancel()
        await self.api.close()

    # --- webhook ----------------------------------------------------------
    async def handle_verify(self, request: web.Request) -> web.Response:
        """URL verification: echo ``echostr`` when the signature is right."""
        try:
            check_query(request.query, self._token, aes_required=False)
        except WebhookRejected as exc:
            log.warning("wechat: rejected URL verification: %s", exc.reason)
            return web.Response(status=exc.status, text="forbidden")
        return web.Response(text=request.query.get("echostr", ""), content_type="text/plain")

    async def handle_message(self, request: web.Request) -> web.Response:
        """One message or event from WeChat; always answered within 4.5 s."""
        started = time.monotonic()
        try:
            auth = check_query(request.query, self._token, aes_required=self._crypto is not None)
            body = await read_body(request, self.settings.max_body_bytes)
            fields = open_body(body, auth, request.query, self._token, self._crypto)
            plan = to_inbound(fields)
        except WebhookRejected as exc:
            log.warning("wechat: rejected message (%s): %s", exc.status, exc.reason)
            return web.Response(status=exc.status, text=_status_text(exc.status))
        except WeChatXmlError as exc:
            log.warning("wechat: rejected message (400): %s", exc.reason)
            return web.Response(status=400, text=_status_text(400))
        try:
            text = await self._answer(plan, started)
        except StoreUnavailable as exc:  # nothing was recorded: WeChat sends it again
            log.warning("wechat: shared store unavailable, answering 503: %s", exc)
            return web.Response(status=503, text=_status_text(503))
        if not text:
            return _ack()
        return self._passive(text, fields, auth)

    def _passive(self, text: str, fields: dict[str, str], auth: RequestAuth) -> web.Response:
        xml = render_text_reply(
            to_user=fields["FromUserName"],
            from_user=fields.get("ToUserName", ""),
            content=text,
            create_time=int(time.time()),
        )
        if auth.aes and self._crypto is not None:
            xml = seal_reply(xml, self._token, self._crypto)
        return web.Response(body=xml, content_type="application/xml", charset="utf-8")

    # --- turning a message into an answer -----------------------------------
    async def _answer(self, plan: Inbound, started: float) -> str:
        """The passive reply text, or "" for an empty "success" acknowledgement."""
        if plan.record is not None:
            return await self._record_only(plan)
        if plan.message is None:
            return plan.reply or ""
        ack = [plan.reply] if plan.reply else []
        try:
            msg = await self._map_choice(plan.message)
            replies = await self._handle_in_time(msg, started)
        except StoreUnavailable:
            raise  # the hub recorded nothing (after that it gives the busy reply itself)
        except Exception:  # the hub failed: say so politely
            log.exception("wechat: handling a message failed")
            return BUSY_TEXT
        if not replies:
            return join_for_passive(ack) or ""
        await self._remember_buttons(msg.channel_user_id, replies)
        texts = ack + render_messages(replies)
        passive = join_for_passive(texts)
        if passive is None:
            self._spawn(self._push_texts(msg.channel_user_id, texts))
            return ""
        return passive

    async def _handle_in_time(self, msg: InboundMessage, started: float) -> list[OutboundMessage]:
        """Replies ready within the deadline; later ones are pushed by us or the hub."""
        remaining = RESPONSE_DEADLINE - (time.monotonic() - started)
        wait = max(0.0, min(HUB_WAIT, remaining - 0.4))
        mode = DeliveryMode.answer_within(wait)
        task = asyncio.ensure_future(self.inbound.handle(msg, mode))
        try:
            result = await asyncio.wait_for(
                asyncio.shield(task), timeout=max(0.05, remaining - 0.2)
            )
        except TimeoutError:
            log.warning("wechat: hub did not answer in time; acknowledging")
            task.add_done_callback(lambda t: self._late_result(msg.channel_user_id, t))
            return []
        if result.status in ("duplicate", "pending"):
            return []
        return list(result.replies)

    def _late_result(self, openid: str, task: asyncio.Future[Any]) -> None:
        """The hub returned after we acknowledged: its replies are ours to push."""
        if task.cancelled():
            return
        if task.exception() is not None:
            log.warning("wechat: late hub call failed: %s", type(task.exception()).__name__)
            return
        result = task.result()
        if result.status not in ("duplicate", "pending") and result.replies:
            self._spawn(self.send(openid, list(result.replies)))

    async def _map_choice(self, msg: InboundMessage) -> InboundMessage:
        """A reply "2" to numbered choices becomes that button's payload."""
        if msg.payload or not msg.text or not msg.text.strip().isdecimal():
            return msg
        try:
            stored = await self.store.get(_buttons_key(msg.channel_user_id))
            buttons = [(str(t), str(p)) for t, p in json.loads(stored or "[]")]
        except (StoreUnavailable, ValueError, TypeError):
            log.warning("wechat: numbered choices unavailable; passing the text on")
            return msg
        payload = payload_for_choice(msg.text, buttons)
        return replace(msg, payload=payload) if payload else msg

    async def _remember_buttons(self, openid: str, replies: Sequence[OutboundMessage]) -> None:
        buttons = reply_buttons(replies)
        try:
            if buttons:
                value = json.dumps(buttons, ensure_ascii=False)
                await self.store.set(_buttons_key(openid), value, BUTTONS_TTL)
            else:
                await self.store.delete(_buttons_key(openid))
        except StoreUnavailable:
            log.warning("wechat: could not remember the numbered choices")

    async def _record_only(self, plan: Inbound) -> str:
        """Events without a reply (unsubscribe): recorded once, in the background."""
        msg = plan.message
        if plan.record is not None and msg is not None:
            self._spawn(self._record_once(plan.record, msg))
        return ""

    async def _record_once(self, kind: str, msg: InboundMessage) -> None:
        try:
            first = await self.store.claim(f"event:{msg.message_id}", EVENT_DEDUPE_TTL)
        except StoreUnavailable:
            first = True
        if first:
            await self._record(kind, msg.conversation_id, {"event": kind})

    # --- pushing (customer-service messages) --------------------------------
    async def send(self, channel_user_id: str, messages: Sequence[OutboundMessage]) -> None:
        """Deliver replies as customer-service messages; raises :class:`WeChatSendError`."""
        await self._remember_buttons(channel_user_id, messages)
        await self._push_texts(channel_user_id, render_messages(messages), raise_on_error=True)

    async def deliver_notice(
        self, channel_user_id: str, messages: Sequence[OutboundMessage], notice: TicketNotice
    ) -> Delivery:
        """A ticket notice: as customer-service messages while the 48-hour window
        is open, else as a template message (``WECHAT_TEMPLATE_*``); the
        refusal of the last way tried when neither got through."""
        delivery = await self.deliver(channel_user_id, messages)
        if delivery.ok:
            return Delivery(True, via="message")
        template = self.settings.wechat_notices.template_for(notice.kind)
        if delivery.reason not in WINDOW_REASONS or not template:
            return delivery
        body = template_body(channel_user_id, template, notice, self.settings.wechat_notices)
        result = await self.api.send_template(channel_user_id, body)
        cid = f"wechat:{channel_user_id}"
        if result.ok:
            await self._record("wechat_template_sent", cid, {"kind": notice.kind})
            return Delivery(True, via="template")
        data = {"errcode": result.errcode, "reason": result.reason, "template": True}
        await self._record("wechat_send_failed", cid, data)
        return Delivery(False, result.reason)

    async def _push_texts(
        self, openid: str, texts: Sequence[str], raise_on_error: bool = False
    ) -> None:
        for part in split_for_push(texts):
            result = await self.api.send_text(openid, part)
            if not result.ok:
                data = {"errcode": result.errcode, "reason": result.reason}
                await self._record("wechat_send_failed", f"wechat:{openid}", data)
                if raise_on_error:
                    raise WeChatSendError(result)
                return

    async def typing(self, channel_user_id: str, on: bool) -> None:
        """The agent is typing: WeChat's customer-service typing state ("对方正在
        输入"), ``Typing`` at most once per :data:`TYPING_EVERY` s per citizen,
        ``CancelTyping`` only after a ``Typing``. A refusal (45080: the citizen
        wrote nothing in the last 30 s; 45081) is logged, never raised."""
        if not self.api.configured:
            return
        key = f"typing:{channel_user_id}"
        try:
            if on and not await self.store.claim(key, TYPING_EVERY):
                return
            if not on and not await self.store.delete(key):
                return
        except StoreUnavailable:
            return
        errcode = await self.api.set_typing(channel_user_id, on)
        if errcode:
            log.info("wechat: typing state refused errcode=%s", errcode)

    async def _record(self, kind: str, conversation_id: str | None, data: dict[str, Any]) -> None:
        """Record a statistics event; a failure is logged, never raised."""
        try:
            await self.inbound.record_event(kind, conversation_id, data)
        except Exception:
            log.exception("wechat: could not record event %s", kind)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("wechat: background delivery failed: %s", task.exception())


def _ack() -> web.Response:
    """WeChat's empty acknowledgement: no passive reply, no retry."""
    return web.Response(text="success", content_type="text/plain")


def _buttons_key(openid: str) -> str:
    return f"buttons:{openid}"  # wechat:buttons:<openid> in the store


def _status_text(status: int) -> str:
    texts = {400: "bad request", 403: "forbidden", 413: "payload too large", 503: "busy"}
    return texts.get(status, "error")


__all__ = ["WeChatChannel", "WeChatSendError"]
