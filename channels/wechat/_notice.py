"""Ticket notices as WeChat template messages (模板消息).

A result or a progress step usually reaches a citizen days after they last
wrote: outside the 48-hour customer-service window WeChat refuses the
ordinary push (45015), and after a run of pushes it refuses more until the
citizen writes again (45047). A template message is WeChat's own way to tell
a follower of something they asked for, and needs neither. The template
(chosen in the Official Account's admin) has keywords of fixed types; which
keyword carries which field of the notice is configuration
(``WECHAT_TEMPLATE_FIELDS``), and each value is cut to what its type takes
(``thing`` 20 characters, ``character_string`` 32, ``phrase`` 5), so WeChat
does not refuse it (47003).
"""

from __future__ import annotations

from typing import Any

from bot.config import WeChatNoticeSettings
from bot.messages import TicketNotice

#: The most characters a template keyword of each type takes; others: 200.
TYPE_LIMITS = {"thing": 20, "character_string": 32, "phrase": 5, "time": 32, "number": 32}
OTHER_LIMIT = 200

#: Customer-service refusals a template message gets round.
WINDOW_REASONS = frozenset({"outside_window", "quota"})


def keyword_limit(keyword: str) -> int:
    """How many characters the template keyword ``keyword`` (``thing3``) takes."""
    kind = keyword.rstrip("0123456789")
    return TYPE_LIMITS.get(kind, OTHER_LIMIT)


def fit(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` characters, an ellipsis marking a cut."""
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def template_body(
    openid: str, template_id: str, notice: TicketNotice, settings: WeChatNoticeSettings
) -> dict[str, Any]:
    """The body of ``/cgi-bin/message/template/send`` for ``notice``."""
    values = {
        "number": notice.number,
        "status": notice.status,
        "detail": notice.detail,
        "at": notice.at,
        "due": notice.due,
    }
    data = {
        keyword: {"value": fit(values[name], keyword_limit(keyword))}
        for name, keyword in settings.fields
    }
    body: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": data}
    if settings.url:
        body["url"] = settings.url.replace("{number}", notice.number)
    return body
