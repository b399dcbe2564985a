"""Delivery state of agents' messages: stored with the message, shown live, retried once.

WeChat refuses a customer-service message outside the 48-hour window (45015):
the console shows it as failed and why, in Chinese; a retry sends it once
(the fake WeChat API then succeeds), a retry of a sent message does nothing,
two retries at once (a double click) send once, and resubmitting the same
composed message records and sends nothing new. Telegram's "blocked" too.
SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from bot.config import Settings
from bot.db import Database
from bot.db.schema import transcripts
from bot.store import SharedStore
from tests.console.conftest import (
    Agent,
    SignIn,
    connect,
    runtime_of,
    start_channels_app,
    telegram_asks_for_agent,
)
from tests.console.test_half_done import any_db  # noqa: F401  (fixture)
from tests.db.conftest import pg_factory  # noqa: F401  (fixture)
from tests.db.dump import ID_NUMBER, PHONE, assert_no_plaintext, dump_text
from tests.fakes.rasa import FakeRasa
from tests.fakes.telegram_api import FakeTelegramApi
from tests.fakes.wechat_api import (
    AES_KEY,
    OPENID,
    TOKEN,
    URL,
    FakeWeChatApi,
    FakeWeChatPlatform,
    text_xml,
)
from tests.support.waiting import eventually, frames_until

CHAT = 770001
WX = f"wechat:{OPENID}"
OUTSIDE_WINDOW = "未送达：超过48小时客服消息时限，请电话联系"


@pytest.fixture
async def app_client(
    store: SharedStore,
    any_db: Database,  # noqa: F811
    rasa_handoff: FakeRasa,
    fake_wechat: FakeWeChatApi,
    fake_telegram: FakeTelegramApi,
    make_settings: Callable[..., Settings],
) -> AsyncIterator[TestClient]:
    client = await start_channels_app(
        make_settings, store, any_db, rasa_handoff.url, fake_wechat, fake_telegram
    )
    for _ in range(500):  # the start-up sweep holds its lock meanwhile
        if runtime_of(client).sweeper.rounds:
            break
        await asyncio.sleep(0.01)
    yield client
    await client.close()


async def _sql_delivery(db: Database, seq: int) -> tuple[str | None, str | None]:
    stmt = sa.select(transcripts.c.delivery, transcripts.c.delivery_reason).where(
        transcripts.c.seq == seq
    )
    async with db.read() as conn:
        row = (await conn.execute(stmt)).one()
    return row[0], row[1]


async def _post(agent: Agent, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    resp = await agent.post(path, body)
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


async def test_wechat_outside_window_then_retry_sends_once(
    app_client: TestClient,
    sign_in: SignIn,
    fake_wechat: FakeWeChatApi,
    any_db: Database,  # noqa: F811
) -> None:
    agent = await sign_in(app_client, "zhangsan", display_name="张三")
    ws = await connect(agent)
    platform = FakeWeChatPlatform(token=TOKEN, encoding_aes_key=AES_KEY)
    encrypt = platform.encrypt(text_xml("转人工", msg_id="900001"))
    resp = await app_client.post(
        URL, params=platform.query(encrypt), data=platform.envelope(encrypt)
    )
    assert resp.status == 200
    conv = f"/console/api/conversations/{WX}"
    for _ in range(100):  # the handoff is queued once WeChat's turn is done
        if (await agent.post(conv + "/claim")).status == 200:
            break
        await asyncio.sleep(0.05)
    await eventually(lambda: any("已为您接入" in t for t in fake_wechat.sent_texts))

    fake_wechat.fail_next(45015)
    text = "您好，请提供您的联系电话"
    body = await _post(agent, conv + "/messages", {"text": text, "request_id": "req-0001-abc"})
    seq = body["message"]["seq"]
    assert body["message"]["delivery"] == {
        "state": "failed", "reason": "outside_window", "text": OUTSIDE_WINDOW,
    }  # fmt: skip
    assert text not in fake_wechat.sent_texts
    assert await _sql_delivery(any_db, seq) == ("failed", "outside_window")
    # pushed live to the agent's console
    frames = await frames_until(
        ws, lambda fs: any(f["type"] == "delivery" and f["seq"] == seq for f in fs)
    )
    live = [f for f in frames if f["type"] == "delivery" and f["seq"] == seq][-1]
    assert live["conversation_id"] == WX and live["delivery"]["text"] == OUTSIDE_WINDOW
    # and in the transcript the console shows
    detail = await agent.json(conv)
    entry = [e for e in detail["entries"] if e["seq"] == seq][0]
    assert entry["delivery"]["state"] == "failed" and entry["text"] == text

    # resubmitting the same composed message: no second row, one more attempt only as a retry
    again = await _post(agent, conv + "/messages", {"text": text, "request_id": "req-0001-abc"})
    assert again["message"]["seq"] == seq
    assert again["message"]["delivery"]["state"] == "sent"
    assert fake_wechat.sent_texts.count(text) == 1
    # a retry of a sent message does nothing
    retried = await _post(agent, f"{conv}/messages/{seq}/retry")
    assert retried["message"]["delivery"]["state"] == "sent"
    await _post(agent, conv + "/messages", {"text": text, "request_id": "req-0001-abc"})
    assert fake_wechat.sent_texts.count(text) == 1
    assert await _sql_delivery(any_db, seq) == ("sent", None)
    rows = [e for e in (await agent.json(conv))["entries"] if e["text"] == text]
    assert len(rows) == 1 and rows[0]["delivery"]["text"] == "已送达"


async def test_double_click_retry_sends_once(
    app_client: TestClient, sign_in: SignIn, fake_wechat: FakeWeChatApi
) -> None:
    agent = await sign_in(app_client, "zhangsan", display_name="张三")
    await connect(agent)
    platform = FakeWeChatPlatform(token=TOKEN, encoding_aes_key=AES_KEY)
    encrypt = platform.encrypt(text_xml("转人工", msg_id="900001"))
    await app_client.post(URL, params=platform.query(encrypt), data=platform.envelope(encrypt))
    conv = f"/console/api/conversations/{WX}"
    for _ in range(100):
        if (await agent.post(conv + "/claim")).status == 200:
            break
        await asyncio.sleep(0.05)
    fake_wechat.fail_next(45015)
    text = "请问还在吗？"
    body = await _post(agent, conv + "/messages", {"text": text, "request_id": "req-0002-abc"})
    seq = body["message"]["seq"]
    assert body["message"]["delivery"]["state"] == "failed"
    fake_wechat.send_delay = 0.2  # both clicks arrive while the first is sending
    results = await asyncio.gather(
        _post(agent, f"{conv}/messages/{seq}/retry"),
        _post(agent, f"{conv}/messages/{seq}/retry"),
        _post(agent, conv + "/messages", {"text": text, "request_id": "req-0002-abc"}),
    )
    await asyncio.sleep(0.5)
    assert fake_wechat.sent_texts.count(text) == 1
    states = sorted(r["message"]["delivery"]["state"] for r in results)
    assert "sent" in states and set(states) <= {"sent", "sending"}
    final = [e for e in (await agent.json(conv))["entries"] if e["seq"] == seq][0]
    assert final["delivery"]["state"] == "sent"


async def test_telegram_blocked_is_shown_as_failed(
    app_client: TestClient,
    sign_in: SignIn,
    fake_telegram: FakeTelegramApi,
    any_db: Database,  # noqa: F811
) -> None:
    agent = await sign_in(app_client, "zhangsan", display_name="张三")
    ws = await connect(agent)
    await telegram_asks_for_agent(app_client, fake_telegram, CHAT)
    conv = f"/console/api/conversations/telegram:{CHAT}"
    assert (await agent.post(conv + "/claim")).status == 200
    fake_telegram.block(CHAT)
    body = await _post(agent, conv + "/messages", {"text": "您好，我是张三"})
    seq = body["message"]["seq"]
    blocked = "未送达：市民已屏蔽或停用机器人，请电话联系"
    assert body["message"]["delivery"] == {"state": "failed", "reason": "blocked", "text": blocked}
    assert await _sql_delivery(any_db, seq) == ("failed", "blocked")
    await frames_until(ws, lambda fs: any(f["type"] == "delivery" for f in fs))
    fake_telegram.blocked_chats.discard(CHAT)
    retried = await _post(agent, f"{conv}/messages/{seq}/retry")
    assert retried["message"]["delivery"]["state"] == "sent"
    assert fake_telegram.sent_texts(CHAT).count("您好，我是张三") == 1


async def test_sweep_settles_a_message_left_sending(
    app_client: TestClient,
    sign_in: SignIn,
    fake_telegram: FakeTelegramApi,
    any_db: Database,  # noqa: F811
) -> None:
    """A replica stopped between recording a message and its outcome."""
    agent = await sign_in(app_client, "zhangsan", display_name="张三")
    ws = await connect(agent)
    await telegram_asks_for_agent(app_client, fake_telegram, CHAT)
    cid = f"telegram:{CHAT}"
    conv = f"/console/api/conversations/{cid}"
    assert (await agent.post(conv + "/claim")).status == 200
    runtime = runtime_of(app_client)
    entry, _ = await runtime.desk.deliveries.record(
        conversation_id=cid, sender="agent:张三", text="请稍等", data={"text": "请稍等"},
        request_id="req-stuck-0001",
    )  # fmt: skip
    just_now = await runtime.sweeper.run_once()
    assert just_now.unsettled == []  # still within SENDING_STALE
    async with any_db.write() as conn:
        await conn.execute(
            transcripts.update()
            .where(transcripts.c.seq == entry.seq)
            .values(delivery_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))
        )
    report = await runtime.sweeper.run_once()
    assert report.unsettled == [cid]
    assert await _sql_delivery(any_db, entry.seq) == ("failed", "unknown")
    frames = await frames_until(
        ws, lambda fs: any(f["type"] == "delivery" and f["seq"] == entry.seq for f in fs)
    )
    shown = [f for f in frames if f["type"] == "delivery"][-1]["delivery"]["text"]
    assert shown == "未送达：发送结果未知（服务曾中断），请确认市民是否收到后再重试"
    retried = await _post(agent, f"{conv}/messages/{entry.seq}/retry")
    assert retried["message"]["delivery"]["state"] == "sent"
    assert fake_telegram.sent_texts(CHAT).count("请稍等") == 1


async def test_agent_message_with_a_number_is_stored_masked_and_retried_exactly(
    app_client: TestClient,
    sign_in: SignIn,
    fake_wechat: FakeWeChatApi,
    any_db: Database,  # noqa: F811
) -> None:
    """The transcripts table never holds the number an agent typed; the exact
    text, kept encrypted for a retry, is sent once and then dropped."""
    agent = await sign_in(app_client, "zhangsan", display_name="张三")
    await connect(agent)
    platform = FakeWeChatPlatform(token=TOKEN, encoding_aes_key=AES_KEY)
    encrypt = platform.encrypt(text_xml("转人工", msg_id="900001"))
    await app_client.post(URL, params=platform.query(encrypt), data=platform.envelope(encrypt))
    conv = f"/console/api/conversations/{WX}"
    for _ in range(100):
        if (await agent.post(conv + "/claim")).status == 200:
            break
        await asyncio.sleep(0.05)

    fake_wechat.fail_next(45015)
    text = f"您好，我们将回拨您的电话{PHONE}，身份证号{ID_NUMBER}已登记"
    body = await _post(agent, conv + "/messages", {"text": text, "request_id": "req-0003-abc"})
    seq = body["message"]["seq"]
    assert body["message"]["delivery"]["state"] == "failed"
    dumped = await dump_text(any_db)
    assert "您好，我们将回拨您的电话138****5678" in dumped  # the row is there, masked
    assert_no_plaintext(dumped)
    shown = [e for e in (await agent.json(conv))["entries"] if e["seq"] == seq][0]
    assert shown["text"] == "您好，我们将回拨您的电话138****5678，身份证号110105********002X已登记"

    retried = await _post(agent, f"{conv}/messages/{seq}/retry")
    assert retried["message"]["delivery"]["state"] == "sent"
    await _post(agent, f"{conv}/messages/{seq}/retry")  # sent: nothing more
    assert fake_wechat.sent_texts.count(text) == 1  # the exact text, once
    async with any_db.read() as conn:
        data = (
            await conn.execute(sa.select(transcripts.c.data).where(transcripts.c.seq == seq))
        ).scalar()
    assert "resend" not in data  # delivered: the encrypted copy is gone
    assert_no_plaintext(await dump_text(any_db))
