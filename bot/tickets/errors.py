"""Errors of the ticket service, each with the HTTP status it becomes.

The console and the REST API answer every one as ``{"error": "<detail in
English>", "message": "<the same for people, in Chinese>"}`` with that status
(and ``current_version`` for a stale version); nothing on the ticket changed.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web


class TicketError(Exception):
    status = 400
    message_zh = "请求有误"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def response(self) -> web.Response:
        body = {"error": self.message, "message": self.message_zh, **self.extra}
        return web.json_response(body, status=self.status)


class BadInput(TicketError):
    status = 400
    message_zh = "输入有误，请检查后重试"


class Forbidden(TicketError):
    status = 403
    message_zh = "您没有权限执行此操作"


class NotFound(TicketError):
    status = 404
    message_zh = "工单不存在，或不属于本部门"


class Conflict(TicketError):
    """An invalid transition, or a stale version (``current_version`` says the new one)."""

    status = 409
    message_zh = "工单已被更新或当前状态不允许此操作，请刷新后重试"


class TooLarge(TicketError):
    status = 413
    message_zh = "内容过长"
