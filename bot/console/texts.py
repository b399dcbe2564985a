"""What the front door tells citizens about the human handoff (Simplified Chinese).

Button payloads are handled by the front door itself (``bot.console.citizen``),
never by Rasa.
"""

from __future__ import annotations

from bot.hub_routing import HANDOFF_ACK_TEXT
from bot.messages import Button, OutboundMessage

CANCEL = "/cancel_handoff"
CALLBACK = "/handoff_callback"
RATE = "/rate_handoff"  # "/rate_handoff{"rating": 5}"
COMMENT = "/handoff_comment"
CANCEL_WORDS = ("取消", "不等了", "取消排队", "取消转人工", "不用了", "算了")

CANCEL_BUTTON = Button("取消排队", CANCEL)
CALLBACK_BUTTON = Button("登记回电", CALLBACK)
BACK_BUTTON = Button("返回智能助手", CANCEL)
RATING_LABELS = {5: "非常满意", 4: "满意", 3: "一般", 2: "不满意", 1: "非常不满意"}


def system(text: str, *buttons: Button) -> OutboundMessage:
    return OutboundMessage(text=text, buttons=tuple(buttons), sender="system")


def assistant(text: str, *buttons: Button) -> OutboundMessage:
    """From the assistant: the conversation is back with the bot (widgets show so)."""
    return OutboundMessage(text=text, buttons=tuple(buttons), sender="bot")


def wait_phrase(minutes: int | None) -> str:
    if minutes is None:
        return "暂无法估计等待时间"
    if minutes <= 1:
        return "预计等待不到 1 分钟"
    return f"预计等待约 {minutes} 分钟"


def queue_position(position: int, minutes: int | None) -> OutboundMessage:
    ahead = "您前面没有其他人" if position <= 1 else f"您前面还有 {position - 1} 位"
    text = (
        f"您目前排在第 {position} 位（{ahead}），{wait_phrase(minutes)}。"
        "客服接入后会马上回复您；如不想等待，可点击“取消排队”返回智能助手。"
    )
    return system(text, CANCEL_BUTTON)


def nobody_online(hours: str) -> OutboundMessage:
    """Nobody is online to take the conversation, within service hours.

    No place in the queue (there is nobody to serve it): when agents are
    expected, and the callback first. The conversation stays queued, so an
    agent who comes online sees it.
    """
    text = (
        "抱歉，现在没有人工客服在线，暂时无法为您接通。"
        f"人工客服的服务时间是每天 {hours}，客服上线后会按顺序接入。"
        "建议您点击“登记回电”留下电话，客服上线后会尽快给您回电；"
        "您也可以继续等待，或返回智能助手继续咨询。"
    )
    return system(text, CALLBACK_BUTTON, BACK_BUTTON)


def queued_ack() -> OutboundMessage:
    """A further message while queued, with an agent online."""
    return system(HANDOFF_ACK_TEXT)


def kept_nobody_online() -> OutboundMessage:
    """A further message while queued, with nobody online: no promise of a
    transfer that nobody can make."""
    text = (
        "已收到您的留言。现在没有人工客服在线，客服上线后会看到您的留言并接入。"
        "如需回电，请点击“登记回电”；也可以返回智能助手继续咨询。"
    )
    return system(text, CALLBACK_BUTTON, BACK_BUTTON)


def outside_hours(hours: str) -> OutboundMessage:
    text = (
        f"现在不是人工客服服务时间（每天 {hours}）。您可以登记回电，"
        "客服会在服务时间内尽快给您回电；也可以继续向智能助手咨询。"
    )
    return system(text, CALLBACK_BUTTON, BACK_BUTTON)


def waited_too_long() -> OutboundMessage:
    text = "非常抱歉，目前咨询量较大，让您久等了。您可以登记回电，客服会尽快给您回电。"
    return system(text, CALLBACK_BUTTON, BACK_BUTTON)


ASK_PHONE = "请回复您的手机号码（11 位），客服会在服务时间内给您回电。回复“取消”可放弃登记。"
PHONE_AGAIN = "没有识别到有效的手机号码，请回复 11 位手机号码，或回复“取消”放弃登记。"
CALLBACK_CANCELLED = "好的，已取消登记回电。您可以继续向智能助手咨询。"
CANCELLED = "已为您取消排队。您可以继续向智能助手咨询，需要时再说“转人工”。"
NOTHING_TO_CANCEL = "您当前没有在排队等待人工客服。需要人工帮助时请说“转人工”。"
ALREADY_JOINED = "客服已经接入，请直接描述您的问题。"
CALLBACK_KEPT_QUEUED = "好的，已取消登记回电，您仍在排队等待人工客服。"
STILL_QUEUED = "已收到您的消息，客服接入后会一并看到，请稍候。"
REQUEUED = "客服连接中断，正在为您重新转接，请稍候。"
TRANSFERRED = "正在为您转接其他客服，请稍候。"
CITIZEN_LEFT = "市民已结束会话"
HANDED_BACK = "人工客服已结束服务，接下来由智能助手继续为您服务。还有其他问题可以直接提问。"
RATING_THANKS = "感谢您的评价！如有意见或建议，可点击“补充意见”后留言。"
ASK_COMMENT = "请直接回复您的意见或建议（200 字以内）。"
COMMENT_THANKS = "已收到您的意见，感谢您对东莞12345热线的支持！"


def callback_created(number: str) -> OutboundMessage:
    return system(f"已为您登记回电，工单号 {number}。客服会在服务时间内尽快给您回电，请留意来电。")


def transferred_to_group(name: str) -> OutboundMessage:
    """The citizen's conversation now waits for an agent group (综合组, a department's desk)."""
    return system(f"您的问题已转交{name}，请稍候，工作人员将尽快为您服务。")


def agent_joined(name: str) -> OutboundMessage:
    return system(f"人工客服 {name} 已为您接入，请问有什么可以帮您？")


def closed_with_rating() -> OutboundMessage:
    buttons = tuple(
        Button(f"{n}分 {label}", f'{RATE}{{"rating": {n}}}') for n, label in RATING_LABELS.items()
    )
    return assistant("本次人工服务已结束。请为本次服务打分（5 分为非常满意）：", *buttons)


def rating_thanks() -> OutboundMessage:
    return system(RATING_THANKS, Button("补充意见", COMMENT))
