"""Turns one Telegram ``Update`` into what the channel does with it.

Pure functions, no I/O: the result says which chat it concerns, what goes
to the hub (an :class:`~bot.messages.InboundMessage`) and which notice the
channel answers by itself (help, an acknowledgement, "not supported").
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import CallbackQuery, Chat, Location, Message, Update

from bot.messages import Attachment, InboundMessage

CHANNEL = "telegram"

HELP_TEXT = (
    "您好，这里是东莞12345政务服务便民热线在线服务。\n"
    "您可以直接发送文字，咨询政策和办事指南，或者反映投诉、提出建议；"
    "也可以发送图片或位置作为补充。\n"
    "发送 /start 重新开始；需要人工服务时，请发送“转人工”。\n"
    "如遇紧急情况，请直接拨打 110、119 或 120。"
)
PHOTO_ACK_TEXT = (
    "已收到您发送的图片，我们会把它和您反映的问题一并记录。如需补充说明，请直接发送文字。"
)
UNSUPPORTED_TEXT = (
    "抱歉，目前暂不支持接收语音、视频、文件等类型的消息。"
    "请用文字描述您的问题，也可以发送图片或位置。"
)
UNKNOWN_COMMAND_TEXT = "抱歉，暂不支持该指令。请直接用文字描述您的问题，或发送 /help 查看使用说明。"
BUTTON_EXPIRED_TEXT = "抱歉，这个按钮已失效，请重新选择或直接输入您的问题。"
BUTTONS_ONLY_TEXT = "请选择："

GREET_PAYLOAD = "/greet"


@dataclass(frozen=True)
class ParsedUpdate:
    """What to do with one update.

    ``inbound`` goes to the hub; ``notice`` is answered by the channel itself
    (after the hub turn when both are set); ``callback_data`` is the raw data
    of a pressed button, still to be decoded into ``inbound.payload``.
    """

    update_id: int
    chat_id: int
    inbound: InboundMessage | None = None
    notice: str | None = None
    callback_query_id: str | None = None
    callback_data: str | None = None
    callback_title: str | None = None


def parse_update(update: Update) -> ParsedUpdate | None:
    """Parse a message or button press from a private chat; None: ignore it."""
    if update.callback_query is not None:
        return _parse_callback(update.update_id, update.callback_query)
    message = update.message
    if message is None or message.chat.type != Chat.PRIVATE:
        return None
    return _parse_message(update.update_id, message)


def _inbound(
    update_id: int,
    chat_id: int,
    message: Message | None,
    *,
    text: str | None = None,
    payload: str | None = None,
    attachments: tuple[Attachment, ...] = (),
) -> InboundMessage:
    metadata: dict[str, object] = {"update_id": update_id}
    if message is not None:
        metadata["telegram_message_id"] = message.message_id
        if message.from_user is not None and message.from_user.language_code:
            metadata["language_code"] = message.from_user.language_code
    return InboundMessage(
        channel=CHANNEL,
        channel_user_id=str(chat_id),
        message_id=f"u{update_id}",
        text=text,
        payload=payload,
        attachments=attachments,
        metadata=metadata,
    )


def _parse_message(update_id: int, message: Message) -> ParsedUpdate:
    chat_id = message.chat.id
    if message.text is not None:
        return _parse_text(update_id, message)
    if message.photo:
        photo = message.photo[-1]  # the largest size
        attachment = Attachment(
            kind="image",
            data={"file_id": photo.file_id, "width": photo.width, "height": photo.height},
        )
        inbound = _inbound(
            update_id, chat_id, message, text=message.caption, attachments=(attachment,)
        )
        return ParsedUpdate(update_id, chat_id, inbound=inbound, notice=PHOTO_ACK_TEXT)
    if message.location is not None:
        return _parse_location(update_id, message, message.location)
    return ParsedUpdate(update_id, chat_id, notice=UNSUPPORTED_TEXT)


def _parse_text(update_id: int, message: Message) -> ParsedUpdate:
    chat_id = message.chat.id
    text = message.text or ""
    if not text.startswith("/"):
        return ParsedUpdate(
            update_id, chat_id, inbound=_inbound(update_id, chat_id, message, text=text)
        )
    # "/start deep-link" or "/help@SomeBot": the command is the first word.
    command = text.split(maxsplit=1)[0].split("@", 1)[0].lower()
    if command == "/start":
        inbound = _inbound(update_id, chat_id, message, text="/start", payload=GREET_PAYLOAD)
        return ParsedUpdate(update_id, chat_id, inbound=inbound)
    if command == "/help":
        return ParsedUpdate(update_id, chat_id, notice=HELP_TEXT)
    # Other slash texts would reach Rasa as intents ("/restart"): not from citizens.
    return ParsedUpdate(update_id, chat_id, notice=UNKNOWN_COMMAND_TEXT)


def _parse_location(update_id: int, message: Message, location: Location) -> ParsedUpdate:
    chat_id = message.chat.id
    data: dict[str, object] = {"latitude": location.latitude, "longitude": location.longitude}
    description = f"纬度 {location.latitude:.5f}，经度 {location.longitude:.5f}"
    if message.venue is not None:
        data.update(title=message.venue.title, address=message.venue.address)
        description = f"{message.venue.title}（{message.venue.address}）"
    attachment = Attachment(kind="location", data=data)
    text = f"我的位置：{description}"
    inbound = _inbound(update_id, chat_id, message, text=text, attachments=(attachment,))
    return ParsedUpdate(update_id, chat_id, inbound=inbound)


def _parse_callback(update_id: int, query: CallbackQuery) -> ParsedUpdate | None:
    message = query.message
    if message is not None and message.chat.type != Chat.PRIVATE:
        return None
    chat_id = message.chat.id if message is not None else query.from_user.id
    return ParsedUpdate(
        update_id,
        chat_id,
        callback_query_id=query.id,
        callback_data=query.data or "",
        callback_title=_button_title(query),
    )


def _button_title(query: CallbackQuery) -> str | None:
    """The title of the pressed button, read from the message's own keyboard."""
    markup = getattr(query.message, "reply_markup", None)
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == query.data:
                return str(button.text)
    return None


def callback_inbound(parsed: ParsedUpdate, payload: str) -> InboundMessage:
    """The hub message for a pressed button once its payload is known."""
    return _inbound(
        parsed.update_id, parsed.chat_id, None, text=parsed.callback_title, payload=payload
    )
