"""Turning one parsed WeChat message or event into what the channel does next.

Each WeChat message becomes one of: an :class:`~bot.messages.InboundMessage`
for the hub (text, recognised voice, image, location, subscribe, menu click),
an immediate polite reply that never reaches the hub (unsupported kinds,
unrecognised voice), or nothing (VIEW and other notification events).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.messages import Attachment, InboundMessage
from channels.wechat._xml import WeChatXmlError

log = logging.getLogger(__name__)

CHANNEL = "wechat"

UNSUPPORTED_TEXT = "暂不支持这种消息类型，请发送文字或语音。"
VOICE_NOT_RECOGNISED_TEXT = "抱歉，没有听清您的语音，请您用文字描述一下问题，我们马上为您解答。"
IMAGE_RECEIVED_TEXT = "已收到您发送的图片，我们会把它保存在您的诉求记录中。"
MENU_UNKNOWN_TEXT = "该菜单暂不可用，请直接发送文字描述您的问题。"

#: Payload sent to Rasa when a citizen follows the account.
GREET_PAYLOAD = "/greet"

#: Menu keys configured in the WeChat admin panel without a leading "/".
#: Keys that already start with "/" are used as the payload unchanged.
MENU_PAYLOADS: dict[str, str] = {
    "GREET": "/greet",
    "FAQ": "/faq",
    "CONSULT": "/consult",
    "COMPLAIN": "/complain",
    "SUGGEST": "/suggest",
    "CHECK_TICKET": "/check_ticket",
    "SERVICE_GUIDE": "/request_service_guide",
    "HUMAN": "/request_human",
}


@dataclass(frozen=True)
class Inbound:
    """The channel's plan for one WeChat message.

    ``message`` goes to the hub; ``reply`` is said at once (before any hub
    reply); ``record`` names an event to record instead (``message`` then
    only identifies the citizen and is not handed to the hub).
    """

    message: InboundMessage | None = None
    reply: str | None = None
    record: str | None = None


def message_id(fields: dict[str, str]) -> str:
    """WeChat's MsgId, or for events ``"<FromUserName>:<CreateTime>:<Event>"``."""
    msg_id = fields.get("MsgId", "").strip()
    if msg_id:
        return msg_id
    return f"{fields['FromUserName']}:{fields.get('CreateTime', '')}:{fields.get('Event', '')}"


def to_inbound(fields: dict[str, str]) -> Inbound:
    """Decide what to do with one parsed message; raises on a missing sender/type."""
    if not fields.get("FromUserName", "").strip() or not fields.get("MsgType", "").strip():
        raise WeChatXmlError("missing FromUserName or MsgType")
    kind = fields["MsgType"].strip().lower()
    handler = _HANDLERS.get(kind)
    if handler is None:
        log.info("wechat: unsupported message type %s", kind[:20])
        return Inbound(reply=UNSUPPORTED_TEXT)
    return handler(fields)


def _message(
    fields: dict[str, str],
    text: str | None = None,
    payload: str | None = None,
    attachments: tuple[Attachment, ...] = (),
) -> InboundMessage:
    metadata = {"wechat_msg_type": fields["MsgType"].strip().lower()}
    if fields.get("Event"):
        metadata["wechat_event"] = fields["Event"].strip()
    return InboundMessage(
        channel=CHANNEL,
        channel_user_id=fields["FromUserName"].strip(),
        message_id=message_id(fields),
        text=text,
        payload=payload,
        attachments=attachments,
        metadata=metadata,
    )


def _text(fields: dict[str, str]) -> Inbound:
    return Inbound(message=_message(fields, text=fields.get("Content", "")))


def _voice(fields: dict[str, str]) -> Inbound:
    recognition = fields.get("Recognition", "").strip()
    if not recognition:
        return Inbound(reply=VOICE_NOT_RECOGNISED_TEXT)
    voice = Attachment(kind="voice", data={"media_id": fields.get("MediaId", "")})
    return Inbound(message=_message(fields, text=recognition, attachments=(voice,)))


def _image(fields: dict[str, str]) -> Inbound:
    image = Attachment(
        kind="image", url=fields.get("PicUrl") or None, data={"media_id": fields.get("MediaId", "")}
    )
    return Inbound(message=_message(fields, attachments=(image,)), reply=IMAGE_RECEIVED_TEXT)


def _location(fields: dict[str, str]) -> Inbound:
    lat, lon = fields.get("Location_X", ""), fields.get("Location_Y", "")
    label = fields.get("Label", "").strip()
    data = {"latitude": lat, "longitude": lon, "scale": fields.get("Scale", ""), "label": label}
    place = Attachment(kind="location", data=data)
    text = f"我的位置:{label or f'{lat},{lon}'}"
    return Inbound(message=_message(fields, text=text, attachments=(place,)))


def _event(fields: dict[str, str]) -> Inbound:
    event = fields.get("Event", "").strip().lower()
    key = fields.get("EventKey", "").strip()
    if event == "subscribe":
        msg = _message(fields, payload=GREET_PAYLOAD)
        if key.startswith("qrscene_"):
            msg.metadata["wechat_scene"] = key[len("qrscene_") :][:64]
        return Inbound(message=msg)
    if event == "unsubscribe":
        return Inbound(message=_message(fields), record="wechat_unsubscribe")
    if event == "click":
        payload = menu_payload(key)
        if payload is None:
            log.warning("wechat: unknown menu key %r", key[:64])
            return Inbound(reply=MENU_UNKNOWN_TEXT)
        return Inbound(message=_message(fields, payload=payload))
    # VIEW (a menu link was opened), SCAN, LOCATION reports, job notifications...
    return Inbound()


def menu_payload(event_key: str) -> str | None:
    """The Rasa payload for a CLICK menu's EventKey, or ``None`` if unknown."""
    if event_key.startswith("/") and len(event_key) > 1:
        return event_key
    return MENU_PAYLOADS.get(event_key.upper())


_HANDLERS: dict[str, Callable[[dict[str, str]], Inbound]] = {
    "text": _text,
    "voice": _voice,
    "image": _image,
    "location": _location,
    "event": _event,
}
