"""Delivery state of agents' messages: sending, sent, failed and why.

The state is stored with the message, in its transcript row (columns
``delivery``, ``delivery_reason``, ``request_id``; migration 0005), and
pushed live to the consoles (event ``delivery``, bot/console/events.py).

Sending once: the console gives every message it composes an id
(``request_id``), unique per conversation in SQL, so a resubmitted or
double-clicked send finds the row already there and sends nothing new. Only
the request that moves a row from ``failed`` to ``sending`` (one conditional
UPDATE) sends it again: a retry of a failed message re-sends it once, a
retry of a sent or still sending message does nothing.

Personal data: the row's ``text`` and ``data`` are masked like every other
transcript entry (phone, ID and bank-card numbers; bot/privacy.py), since
that is what the console shows and what a dump of the database holds. The
exact text, which a retry must send again, is kept beside it encrypted with
the data key ring (``data["resend"]``, an ``enc:`` value, bot/db/crypto.py)
and removed once the message is delivered; a message that never got through
keeps it, encrypted, for the agent's retry until retention removes the row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.db.engine import inserted_key
from bot.db.models import LOCAL_TZ
from bot.db.schema import transcripts
from bot.privacy import ENCRYPTED_PREFIX, mask_text, mask_value

if TYPE_CHECKING:
    from bot.db.database import Database

SENDING, SENT, FAILED = "sending", "sent", "failed"
REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
#: ``data`` key of the exact text, encrypted, until the message is delivered.
RESEND = "resend"

#: Why a message did not reach the citizen, as the agent reads it.
REASON_TEXTS = {
    "outside_window": "超过48小时客服消息时限，请电话联系",
    "quota": "市民回复前可发送的客服消息已达上限，请等待市民回复或电话联系",
    "not_subscribed": "市民已取消关注公众号，请电话联系",
    "invalid_openid": "市民账号无效，请电话联系",
    "too_long": "消息过长，请缩短后重试",
    "blocked": "市民已屏蔽或停用机器人，请电话联系",
    "rate_limited": "发送过于频繁，请稍后重试",
    "not_configured": "该渠道未启用，无法发送",
    "no_channel": "该渠道未启用，无法发送",
    "unknown": "发送结果未知（服务曾中断），请确认市民是否收到后再重试",
    "invalid_template": "模板消息的模板ID无效（请管理员检查配置），请电话联系",
    "refused": "市民已拒收公众号通知，请电话联系",
    "bad_template_data": "模板消息内容不符合模板要求（请管理员检查配置），请电话联系",
    "channel_unavailable": "该渠道未启用，无法发送",
}
OTHER_REASON = "渠道接口暂时异常，请稍后重试"


def describe(state: str, reason: str | None) -> str:
    """The state in the agent's words."""
    if state == SENT:
        return "已送达"
    if state == SENDING:
        return "发送中…"
    return "未送达：" + REASON_TEXTS.get(reason or "", OTHER_REASON)


@dataclasses.dataclass(frozen=True)
class AgentMessage:
    """An agent's message; ``text`` is the exact text (what is sent), ``data``
    the stored (masked) data."""

    seq: int
    conversation_id: str
    sender: str
    text: str
    data: dict[str, Any]
    state: str
    reason: str | None
    request_id: str | None

    def delivery(self) -> dict[str, Any]:
        text = describe(self.state, self.reason)
        return {"state": self.state, "reason": self.reason, "text": text}

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "request_id": self.request_id, "delivery": self.delivery()}


class DeliveryRepo:
    """Agents' messages in ``transcripts`` with their delivery state."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self, *, conversation_id: str, sender: str, text: str, data: dict[str, Any],
        request_id: str,
    ) -> tuple[AgentMessage, bool]:  # fmt: skip
        """Store a new message as ``sending``; (the row, True), or (the row
        already stored under ``request_id``, False). Stored masked, with the
        exact text encrypted for a retry (see the module doc)."""
        sealed = self._db.cipher.encrypt(text)
        stored = {**mask_value(dict(data)), RESEND: f"{ENCRYPTED_PREFIX}{sealed}"}
        values = {
            "conversation_id": conversation_id,
            "channel": conversation_id.split(":", 1)[0],
            "direction": "out",
            "sender": sender[:100],
            "message_id": None,
            "text": mask_text(text),
            "data": stored,
            "created_at": self._db.now().astimezone(LOCAL_TZ),
            "delivery": SENDING,
            "request_id": request_id,
            "delivery_at": self._db.now(),
        }
        try:
            async with self._db.write() as conn:
                result = await conn.execute(transcripts.insert().values(**values))
        except IntegrityError:
            existing = await self.by_request(conversation_id, request_id)
            if existing is None:
                raise
            return existing, False
        seq = inserted_key(result)
        entry = AgentMessage(seq, conversation_id, sender, text, stored, SENDING, None, request_id)
        return entry, True

    async def by_request(self, conversation_id: str, request_id: str) -> AgentMessage | None:
        return await self._one(
            sa.and_(
                transcripts.c.conversation_id == conversation_id,
                transcripts.c.request_id == request_id,
            )
        )

    async def get(self, conversation_id: str, seq: int) -> AgentMessage | None:
        return await self._one(
            sa.and_(transcripts.c.conversation_id == conversation_id, transcripts.c.seq == seq)
        )

    async def take_for_retry(self, seq: int) -> bool:
        """``failed`` -> ``sending``; true for the one caller that may send it again."""
        stmt = (
            transcripts.update()
            .where(transcripts.c.seq == seq, transcripts.c.delivery == FAILED)
            .values(delivery=SENDING, delivery_reason=None, delivery_at=self._db.now())
        )
        async with self._db.write() as conn:
            result = await conn.execute(stmt)
        return bool(result.rowcount)

    async def finish(self, seq: int, state: str, reason: str | None) -> None:
        """Store the outcome; a delivered message loses its encrypted exact text."""
        values: dict[str, Any] = {
            "delivery": state, "delivery_reason": reason, "delivery_at": self._db.now(),
        }  # fmt: skip
        async with self._db.write() as conn:
            if state == SENT:
                select = sa.select(transcripts.c.data).where(transcripts.c.seq == seq)
                data = (await conn.execute(select)).scalar()
                if isinstance(data, dict) and RESEND in data:
                    values["data"] = {k: v for k, v in data.items() if k != RESEND}
            await conn.execute(transcripts.update().where(transcripts.c.seq == seq).values(values))

    async def settle_stale(self, older_than: dt.datetime) -> list[AgentMessage]:
        """Messages still ``sending`` since before ``older_than`` (their replica
        stopped mid-send): ``failed`` for reason ``unknown``, so the agent can
        check with the citizen and retry. The settled messages."""
        # the literal lets the partial index ix_transcripts_sending serve the query
        stale = sa.and_(sa.text("delivery = 'sending'"), transcripts.c.delivery_at < older_than)
        stmt = sa.select(transcripts.c.conversation_id, transcripts.c.seq).where(stale)
        async with self._db.read() as conn:
            rows = (await conn.execute(stmt.limit(500))).all()
        settled = []
        for cid, seq in rows:
            update = (
                transcripts.update()
                .where(transcripts.c.seq == seq, stale)
                .values(delivery=FAILED, delivery_reason="unknown", delivery_at=self._db.now())
            )
            async with self._db.write() as conn:
                done = (await conn.execute(update)).rowcount
            if done:
                entry = await self.get(cid, int(seq))
                if entry is not None:
                    settled.append(entry)
        return settled

    async def states(self, conversation_id: str, seqs: list[int]) -> dict[int, dict[str, Any]]:
        """The delivery of the listed entries that have one, by ``seq``."""
        if not seqs:
            return {}
        stmt = sa.select(
            transcripts.c.seq, transcripts.c.delivery, transcripts.c.delivery_reason
        ).where(
            transcripts.c.conversation_id == conversation_id,
            transcripts.c.seq.between(min(seqs), max(seqs)),
            transcripts.c.delivery.isnot(None),
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(stmt)).all()
        return {
            int(seq): {"state": state, "reason": reason, "text": describe(state, reason)}
            for seq, state, reason in rows
        }

    async def _one(self, where: Any) -> AgentMessage | None:
        stmt = sa.select(
            transcripts.c.seq, transcripts.c.conversation_id, transcripts.c.sender,
            transcripts.c.text, transcripts.c.data, transcripts.c.delivery,
            transcripts.c.delivery_reason, transcripts.c.request_id,
        ).where(where, transcripts.c.delivery.isnot(None))  # fmt: skip
        async with self._db.read() as conn:
            row = (await conn.execute(stmt)).first()
        if row is None:
            return None
        data = dict(row.data or {})
        return AgentMessage(
            int(row.seq), row.conversation_id, row.sender, self._exact(row.text, data), data,
            row.delivery, row.delivery_reason, row.request_id,
        )  # fmt: skip

    def _exact(self, text: str | None, data: dict[str, Any]) -> str:
        """The text to send: the encrypted exact text while there is one (a
        row stored before that was not masked: its ``text`` is exact)."""
        sealed = data.get(RESEND)
        if isinstance(sealed, str) and sealed.startswith(ENCRYPTED_PREFIX):
            return self._db.cipher.decrypt(sealed[len(ENCRYPTED_PREFIX) :]) or ""
        return text or ""
