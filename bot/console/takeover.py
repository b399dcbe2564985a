"""Taking over a conversation from the assistant or a colleague, and transfers.

An agent or supervisor may take over a conversation the assistant is
handling (from the supervisor's live view). That runs under the
conversation's processing lock (``ConsoleHub.lock``), so it never
interleaves with a Rasa turn of the same conversation; a supervisor may
also take one over from an agent.
"""

from __future__ import annotations

import logging
import time

from bot.console import texts
from bot.console.desk import CLAIM_TTL, Desk, DeskError, agent_token, as_agent
from bot.console.queue import claim_key, front_score
from bot.console.users import User
from bot.conversations import ConversationState
from bot.store.base import LockTimeout

log = logging.getLogger(__name__)

HOLDER_ROLES = ("agent", "supervisor")


async def take_over(desk: Desk, user: User, cid: str) -> None:
    """Hold ``cid`` whatever its state: claim it, take it from the bot or an agent."""
    state = await desk.console.state(cid)
    if state is ConversationState.QUEUED:
        await desk.claim(user, cid)
        return
    if state is ConversationState.WITH_AGENT:
        await _from_colleague(desk, user, cid)
        return
    if not await desk.console.hub.history(cid, limit=1):
        raise DeskError(404, "unknown", "找不到该会话")
    try:
        async with desk.console.hub.lock(cid, timeout=15):
            state = await desk.console.state(cid)
            if state.with_agents:
                raise DeskError(409, "changed", "会话状态刚刚发生变化，请刷新后重试")
            handoff_id = await _open_taken_over(desk, user, cid)
    except LockTimeout:
        raise DeskError(409, "busy", "会话正在处理中，请稍后重试") from None
    desk.console.hub.wake(cid)
    await desk.seat(user, cid, str(handoff_id))


async def _open_taken_over(desk: Desk, user: User, cid: str) -> int:
    channel = cid.split(":", 1)[0]
    summary = {"taken_over_by": user.display_name}
    handoff_id = await desk.console.handoffs.open(
        conversation_id=cid, channel=channel, reason="taken_over", priority="normal",
        summary=summary,
    )  # fmt: skip
    await desk.console.store.acquire_lock(claim_key(str(handoff_id)), agent_token(user), CLAIM_TTL)
    await desk.console.conversations.mark_taken_over(cid, handoff_id, time.time())
    await desk.console.hub.record("handoff_taken_over", cid, {"handoff_id": handoff_id})
    return handoff_id


async def _from_colleague(desk: Desk, user: User, cid: str) -> None:
    conv = await desk.console.conv(cid)
    if conv.held_by(user.id):
        return
    if user.role != "supervisor":
        raise DeskError(409, "taken", f"已被 {conv.agent_name or '其他坐席'} 接入")
    await _reassign(desk, user, cid, user, f"班长 {user.display_name} 接管了会话")


async def transfer(desk: Desk, user: User, cid: str, to_user_id: int) -> None:
    """Hand a held conversation to another present agent."""
    await desk.holder_conv(user, cid, supervisor_ok=True)
    present = await desk.console.presence.get(to_user_id)
    target = await desk.console.users.get(to_user_id)
    if present is None or target is None or target.role not in HOLDER_ROLES:
        raise DeskError(409, "offline", "对方不在线，无法转接")
    conv = await desk.console.conv(cid)
    if conv.held_by(target.id):
        raise DeskError(400, "same", "会话已由对方负责")
    note = f"{user.display_name} 将会话转给 {target.display_name}"
    await _reassign(desk, user, cid, target, note)
    await desk.console.notifier.notice(target.id, f"{user.display_name} 将一个会话转给了您", cid)


async def transfer_to_group(
    desk: Desk, user: User, cid: str, group_key: str, client_address: str | None = None
) -> int:
    """Put a held conversation in agent group ``group_key``'s queue (综合组, a
    department's desk): its stay ends as ``requeued`` and a new one waits at the
    front of the queue for the group's members (bot/console/groups.py); the
    citizen is told, the group's members online get a notice, the move is
    audited. Refused while no member (other than the actor) is online: the
    citizen would wait for nobody. The new handoff row's id."""
    console = desk.console
    group = console.groups.get(group_key)
    if group is None:
        raise DeskError(400, "unknown_group", "找不到该坐席组")
    conv = await desk.holder_conv(user, cid, supervisor_ok=True)
    serving = [
        p for p in await console.presence.all()
        if p.username in group.members and p.user_id != user.id
    ]  # fmt: skip
    if not serving:
        raise DeskError(
            409, "group_offline", f"{group.name}当前无人在线，无法转入，请选择其他坐席组或同事"
        )
    handoff_id = conv.handoff_id or ""
    row = await console.handoffs.get(int(handoff_id)) if handoff_id else None
    if row is None or not await console.handoffs.end(row.id, "requeued"):
        raise DeskError(409, "ended", "该会话已结束")
    first = float(conv.first_queued_at or conv.queued_at or time.time())
    summary = {**row.summary, "group": group.key, "transferred_by": user.display_name}
    new_id = await console.handoffs.open(
        conversation_id=cid, channel=row.channel, reason="transferred",
        priority=row.priority, summary=summary,
    )  # fmt: skip
    await console.conversations.requeue(
        cid, handoff_id=new_id, priority=row.priority, first_queued_at=first,
        score=front_score(row.priority, first, row.reason), group=group.key,
    )  # fmt: skip
    await desk.notices.due(cid)
    await console.notes.add(cid, user.display_name, f"{user.display_name} 将会话转至{group.name}")
    try:  # in the transcript already; a channel refusing it undoes nothing
        await console.hub.push(cid, [texts.transferred_to_group(group.name)])
    except Exception as exc:
        log.warning(
            "group transfer notice on %s not delivered: %s", row.channel, type(exc).__name__
        )
    detail = {"group": group.key, "from_handoff": row.id, "handoff": new_id}
    await console.db.audit.record(
        user.username, "conversation.transfer_group", cid,
        client_address=client_address, detail=detail,
    )  # fmt: skip
    await console.hub.record("handoff_transferred", cid, {"handoff_id": new_id, "group": group.key})
    await console.notifier.conversation_changed(cid, "state")
    await desk.queue_changed()
    for present in serving:
        await console.notifier.notice(
            present.user_id, f"{user.display_name} 将一个会话转入{group.name}队列", cid
        )
    return new_id


async def _reassign(desk: Desk, actor: User, cid: str, target: User, note: str) -> None:
    conv = await desk.console.conv(cid)
    handoff_id = conv.handoff_id or ""
    if not handoff_id or not await desk.console.handoffs.transfer(int(handoff_id), target.username):
        raise DeskError(409, "ended", "该会话已结束")
    await desk.console.conversations.transfer(cid, as_agent(target))
    await desk.console.notes.add(cid, actor.display_name, note)
    joined = [texts.system(texts.TRANSFERRED), texts.agent_joined(target.display_name)]
    await desk.console.hub.push(cid, joined)
    await desk.console.hub.record("handoff_transferred", cid, {"handoff_id": handoff_id})
    await desk.console.notifier.conversation_changed(cid, "state")
    await desk.console.notifier.queue_changed()
