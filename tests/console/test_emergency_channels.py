"""Emergency mode on every channel: the notice on the greeting (WeChat's passive
reply, Telegram's Bot API, the web widget's socket, REST), and the broadcast to
citizens active recently within each channel's rules, against the fake WeChat
and Telegram APIs on 127.0.0.1 (WeChat's 48-hour window checked before sending
and its 45015 answer, Telegram's blocked chat and its flood answer retried by
the channel's rate limiter, the widget's open socket, REST's next answer)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from bot.db.schema import transcripts
from bot.emergency import switch_on
from bot.emergency.frontdoor import greeting_texts
from bot.emergency.records import PeriodRepo
from bot.emergency.report import incident_report
from bot.emergency.web import EMERGENCY_KEY
from channels.telegram import AUTH_HEADER, WEBHOOK_PATH
from tests.console.conftest import TG_SECRET, console_of
from tests.console.test_channels import (  # noqa: F401 - fixtures
    CHAT,
    _widget_until,
)
from tests.fakes.rasa import FakeRasa
from tests.fakes.telegram_api import FakeTelegramApi, text_update
from tests.fakes.wechat_api import (
    AES_KEY,
    OPENID,
    TOKEN,
    URL,
    FakeWeChatApi,
    FakeWeChatPlatform,
    text_xml,
)
from tests.support.rest_auth import REST_AUTH, rest_cid

NOTICE = "受台风影响，今晚全市部分区域停电，抢修正在进行，请市民注意安全。"
BANNER = "【应急通知】" + NOTICE
GREETING = sorted(greeting_texts())[0]


async def emergency_on(client: TestClient, **extra: Any) -> int:
    desk = client.app[EMERGENCY_KEY]
    done = await switch_on(
        desk.board, desk.db, notice=NOTICE, faq=["ut_power_outage"], keywords=["停电"],
        actor="banzhang", **extra,
    )  # fmt: skip
    return done.period_id


async def test_the_greeting_starts_with_the_notice_on_every_channel(
    full_app: TestClient,
    rasa_handoff: FakeRasa,
    fake_telegram: FakeTelegramApi,
) -> None:
    rasa_handoff.replies["你好"] = [{"text": GREETING}]
    rasa_handoff.replies["/greet"] = [{"text": GREETING}]
    await emergency_on(full_app)

    # WeChat: following the account (subscribe -> /greet), the passive reply
    platform = FakeWeChatPlatform(token=TOKEN, encoding_aes_key=AES_KEY)
    encrypt = platform.encrypt(text_xml("你好", msg_id="910001"))
    resp = await full_app.post(URL, params=platform.query(encrypt), data=platform.envelope(encrypt))
    assert resp.status == 200
    content = platform.open_reply(await resp.read())["Content"]
    assert content.startswith(BANNER + "\n\n" + GREETING), content

    # Telegram: /start is the greeting
    resp = await full_app.post(
        WEBHOOK_PATH, data=json.dumps(text_update(1, CHAT, "/start")),
        headers={AUTH_HEADER: TG_SECRET},
    )  # fmt: skip
    assert resp.status == 200
    await fake_telegram.wait_for("sendMessage", 1)
    assert fake_telegram.sent_texts(CHAT)[0].startswith(BANNER + "\n\n" + GREETING)

    # the web widget's socket
    session = await (await full_app.post("/webchat/session")).json()
    widget = await full_app.ws_connect("/webchat/ws", params={"token": session["token"]})
    await widget.send_json({"type": "message", "id": "w1", "text": "你好"})
    frame = await _widget_until(widget, lambda f: f.get("direction") == "out")
    assert frame["text"].startswith(BANNER + "\n\n" + GREETING)
    await widget.close()

    # REST
    body = {"sender": "r1", "message": "你好"}
    resp = await full_app.post("/webhooks/rest/webhook", json=body, headers=REST_AUTH)
    assert (await resp.json())[0]["text"].startswith(BANNER)


async def _citizen_wrote(client: TestClient, cid: str, at: dt.datetime) -> None:
    row = {
        "conversation_id": cid, "channel": cid.split(":", 1)[0], "direction": "in",
        "sender": "citizen", "message_id": None, "text": None, "data": {}, "created_at": at,
    }  # fmt: skip
    async with console_of(client).db.write() as conn:
        await conn.execute(transcripts.insert().values(**row))


async def test_the_broadcast_keeps_each_channels_rules_and_records_every_send(
    full_app: TestClient,
    fake_wechat: FakeWeChatApi,
    fake_telegram: FakeTelegramApi,
) -> None:
    now = dt.datetime.now(dt.UTC)
    minutes = lambda n: now - dt.timedelta(minutes=n)  # noqa: E731
    session = await (await full_app.post("/webchat/session")).json()
    widget_cid = session["conversation_id"]
    widget = await full_app.ws_connect("/webchat/ws", params={"token": session["token"]})
    # latest first: the order the broadcast goes in
    await _citizen_wrote(full_app, "wechat:o-refused", minutes(1))  # WeChat answers 45015
    await _citizen_wrote(full_app, f"wechat:{OPENID}", minutes(2))
    await _citizen_wrote(full_app, "telegram:880001", minutes(3))  # flooded once
    await _citizen_wrote(full_app, "telegram:880002", minutes(4))  # blocked the bot
    await _citizen_wrote(full_app, widget_cid, minutes(5))
    await _citizen_wrote(full_app, rest_cid("partner-1"), minutes(6))  # its next request gets it
    await _citizen_wrote(full_app, "line:u1", minutes(7))  # a channel not enabled here
    await _citizen_wrote(full_app, "wechat:o-old", now - dt.timedelta(hours=50))
    await _citizen_wrote(full_app, "wechat:o-gone", now - dt.timedelta(hours=80))
    fake_wechat.fail_next(45015)
    fake_telegram.flood_once("sendMessage", retry_after=1)
    fake_telegram.block(880002)

    desk = full_app.app[EMERGENCY_KEY]
    desk.window_hours = 72.0  # "o-old" is a candidate, outside WeChat's 48 hours
    period = await emergency_on(full_app)
    task = desk.start_broadcast(await desk.board.fresh(), "banzhang")
    summary = await task

    sends = await PeriodRepo(console_of(full_app).db).sends(period)
    outcome = {s["conversation_id"]: (s["ok"], s["reason"]) for s in sends}
    assert outcome == {
        "wechat:o-refused": (False, "outside_window"),
        f"wechat:{OPENID}": (True, "sent"),
        "telegram:880001": (True, "sent"),
        "telegram:880002": (False, "blocked"),
        widget_cid: (True, "sent"),
        rest_cid("partner-1"): (True, "sent"),
        "line:u1": (False, "no_channel"),
        "wechat:o-old": (False, "outside_window"),
    }
    assert summary == {
        "recipients": 8,
        "outcomes": {"sent": 4, "outside_window": 2, "blocked": 1, "no_channel": 1},
    }
    assert fake_wechat.sent_texts == [BANNER]  # o-old was never tried, o-refused refused
    assert fake_telegram.sent_texts(880001) == [BANNER]
    frame = await _widget_until(widget, lambda f: f.get("text") == BANNER)
    assert frame["sender"] == "system"
    await widget.close()

    audit = await console_of(full_app).db.audit.list(action="emergency_broadcast")
    assert audit[0]["detail"]["outcomes"] == summary["outcomes"]
    report = await incident_report(console_of(full_app).db, period)
    assert report is not None and report["broadcast"] == summary
    # what was sent is in the transcript of the citizens who got it
    async with console_of(full_app).db.read() as conn:
        out = (
            await conn.execute(
                sa.select(transcripts.c.conversation_id)
                .where(transcripts.c.direction == "out", transcripts.c.sender == "system")
                .order_by(transcripts.c.conversation_id)
            )
        ).scalars().all()
    assert sorted(out) == sorted(
        [f"wechat:{OPENID}", "telegram:880001", widget_cid, rest_cid("partner-1")]
    )
    body = {"sender": "partner-1", "message": "你好"}
    resp = await full_app.post("/webhooks/rest/webhook", json=body, headers=REST_AUTH)
    texts = [r.get("text") for r in await resp.json()]
    assert texts == [BANNER, "echo: 你好"]  # the notice once, then the answer
