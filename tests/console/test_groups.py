"""Transfer to an agent group's queue (综合组, a department's desk): who sees and
claims it, what the citizen is told, the audit record, a Redis loss."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from bot.console.context import Console
from bot.console.groups import AgentGroups
from bot.console.sweep import Sweeper
from tests.console.conftest import (
    Agent,
    SignIn,
    connect,
    console_of,
    forget_conversations,
    runtime_of,
    said_to,
    say,
)
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

CID = "rest:t:g1"
CONV = f"/console/api/conversations/{CID}"
GROUPS = """
- key: general
  name: 综合组
  members: [zhaoliu]
- key: social_security
  name: 社保组
  department: social_security
  members: [wangwu, zhaoliu]
- {key: "Bad Key", name: 坏组, members: []}
"""


@pytest.fixture
def groups_file(tmp_path: Path, client: TestClient) -> Path:
    path = tmp_path / "agent_groups.yml"
    path.write_text(GROUPS, encoding="utf-8")
    console_of(client).groups = AgentGroups(path)
    return path


async def _online(client: TestClient, sign_in: SignIn, username: str, name: str) -> Agent:
    """A group member signed in and present (as while their console is open)."""
    member = await sign_in(client, username, display_name=name)
    user = await console_of(client).users.get(member.id)
    assert user is not None
    await console_of(client).presence.beat(user)
    return member


async def _held(client: TestClient, sign_in: SignIn) -> Agent:
    agent = await sign_in(client, "zhangsan", display_name="张三")
    await say(client, "g1", "转人工")
    resp = await agent.post(CONV + "/claim")
    assert resp.status == 200, await resp.text()
    return agent


def test_groups_file_is_read_and_a_bad_entry_skipped(groups_file: Path) -> None:
    groups = AgentGroups(groups_file)
    assert [g.key for g in groups.all()] == ["general", "social_security"]
    assert [g.name for g in groups.of("zhaoliu")] == ["综合组", "社保组"]
    assert groups.visible("wangwu", "agent") == frozenset({"social_security"})
    assert groups.visible("anyone", "supervisor") is None
    assert groups.may_claim("lisi", "agent", "") and not groups.may_claim(
        "lisi", "agent", "general"
    )


def test_the_shipped_groups_file_loads() -> None:
    groups = AgentGroups()
    keys = [g.key for g in groups.all()]
    assert "general" in keys and "social_security" in keys
    general = groups.get("general")
    assert general is not None and general.name == "综合组"


async def test_transfer_to_a_group(client: TestClient, sign_in: SignIn, groups_file: Path) -> None:
    agent = await _held(client, sign_in)
    member = await sign_in(client, "wangwu", display_name="王五")
    outsider = await sign_in(client, "lisi", display_name="李四")
    boss = await sign_in(client, "boss", role="supervisor", display_name="班长")
    ws = await connect(member)
    listed = await member.json("/console/api/groups")
    assert [(g["key"], g["name"], g["members"], g["mine"]) for g in listed["items"]] == [
        ("general", "综合组", ["zhaoliu"], False),
        ("social_security", "社保组", ["wangwu", "zhaoliu"], True),
    ]

    unknown = await agent.post(CONV + "/transfer", {"group": "nope"})
    assert unknown.status == 400 and (await unknown.json())["message"] == "找不到该坐席组"
    assert (await outsider.post(CONV + "/transfer", {"group": "social_security"})).status == 403
    resp = await agent.post(CONV + "/transfer", {"group": "social_security"})
    assert resp.status == 200, await resp.text()

    console = console_of(client)
    assert await console.state(CID) == "queued"
    told = [t for _, t in await said_to(client, CID)]
    assert "您的问题已转交社保组，请稍候，工作人员将尽快为您服务。" in told
    # (generous: under a loaded CI machine the socket's frames queue behind snapshots)
    frames = await frames_until(ws, lambda fs: any(f["type"] == "notice" for f in fs), 15)
    assert any(f.get("text") == "张三 将一个会话转入社保组队列" for f in frames)
    # the member and the supervisor see it waiting; an agent of no such group does not
    seen = await member.json("/console/api/queue")
    assert [(i["conversation_id"], i["group_name"]) for i in seen["items"]] == [(CID, "社保组")]
    assert (await boss.json("/console/api/queue"))["total"] == 1
    hidden = await outsider.json("/console/api/queue")
    assert hidden["items"] == [] and hidden["total"] == 0
    refused = await outsider.post(CONV + "/claim")
    assert refused.status == 403
    assert (await refused.json())["message"] == "该会话在社保组队列中，请由该组坐席接入"
    # the former holder cannot talk any more; the member claims it
    assert (await agent.post(CONV + "/messages", {"text": "还在吗"})).status == 409
    assert (await member.post(CONV + "/claim")).status == 200
    assert "人工客服 王五 已为您接入，请问有什么可以帮您？" in [
        t for _, t in await said_to(client, CID)
    ]
    rows = [r for r in await console.handoffs.between(*_today(console)) if r.conversation_id == CID]
    assert [(r.outcome, r.claimed_by, r.reason) for r in rows] == [
        ("requeued", "zhangsan", "citizen_request"),
        (None, "wangwu", "transferred"),
    ]
    assert rows[1].summary["group"] == "social_security"
    notes = [n["text"] for n in (await member.json(CONV))["notes"]]
    assert "张三 将会话转至社保组" in notes
    audit = await console.db.audit.list(action="conversation.transfer_group")
    assert [(a["actor"], a["target"], a["detail"]["group"]) for a in audit] == [
        ("zhangsan", CID, "social_security")
    ]
    # out of the queue: the group index forgets it
    assert await console.conversations.queue_groups() == {}


async def test_a_supervisor_transfers_and_claims_any_group(
    client: TestClient, sign_in: SignIn, groups_file: Path
) -> None:
    await _held(client, sign_in)
    boss = await sign_in(client, "boss", role="supervisor", display_name="班长")
    await _online(client, sign_in, "zhaoliu", "赵六")
    assert (await boss.post(CONV + "/transfer", {"group": "general"})).status == 200
    assert (await boss.post(CONV + "/claim")).status == 200


async def test_a_new_handoff_is_for_everyone_again(
    client: TestClient, sign_in: SignIn, groups_file: Path
) -> None:
    agent = await _held(client, sign_in)
    member = await _online(client, sign_in, "zhaoliu", "赵六")
    assert (await agent.post(CONV + "/transfer", {"group": "general"})).status == 200
    assert (await member.post(CONV + "/claim")).status == 200
    assert (await member.post(CONV + "/handback")).status == 200
    await say(client, "g1", "转人工")
    outsider = await sign_in(client, "lisi", display_name="李四")
    assert (await outsider.json("/console/api/queue"))["total"] == 1
    assert (await outsider.post(CONV + "/claim")).status == 200


async def test_the_group_survives_a_store_loss(
    client: TestClient, sign_in: SignIn, groups_file: Path
) -> None:
    agent = await _held(client, sign_in)
    await _online(client, sign_in, "zhaoliu", "赵六")
    assert (await agent.post(CONV + "/transfer", {"group": "general"})).status == 200
    console = console_of(client)
    await forget_conversations(console.store)
    await console.store.delete("handoff:queue:groups")
    await Sweeper(runtime_of(client).desk).run_once()
    assert await console.state(CID) == "queued"
    assert await console.conversations.queue_groups() == {CID: "general"}
    outsider = await sign_in(client, "lisi", display_name="李四")
    assert (await outsider.post(CONV + "/claim")).status == 403


async def test_bad_transfer_bodies(client: TestClient, sign_in: SignIn, groups_file: Path) -> None:
    agent = await _held(client, sign_in)
    for body in ({"group": ""}, {"group": 3}):
        resp = await agent.post(CONV + "/transfer", body)
        assert resp.status == 400 and (await resp.json())["message"] == "请选择要转入的坐席组"
    assert await console_of(client).state(CID) == "with_agent"


def _today(console: Console) -> tuple[dt.datetime, dt.datetime]:
    now = console.handoffs.now()
    return now - dt.timedelta(hours=1), now + dt.timedelta(hours=1)


async def test_no_member_online_is_refused(
    client: TestClient, sign_in: SignIn, groups_file: Path
) -> None:
    agent = await _held(client, sign_in)
    refused = await agent.post(CONV + "/transfer", {"group": "general"})
    assert refused.status == 409
    assert (await refused.json())["message"] == (
        "综合组当前无人在线，无法转入，请选择其他坐席组或同事"
    )
    assert await console_of(client).state(CID) == "with_agent"
    assert [t for _, t in await said_to(client, CID)][
        -1
    ] == "人工客服 张三 已为您接入，请问有什么可以帮您？"


async def test_a_requeue_keeps_the_group(
    client: TestClient, sign_in: SignIn, groups_file: Path
) -> None:
    """The member who claimed it goes away: back to the group's queue, not everyone's."""
    agent = await _held(client, sign_in)
    member = await _online(client, sign_in, "zhaoliu", "赵六")
    assert (await agent.post(CONV + "/transfer", {"group": "general"})).status == 200
    assert (await member.post(CONV + "/claim")).status == 200
    assert await runtime_of(client).desk.requeue(CID, "坐席 zhaoliu 连接中断")
    assert await console_of(client).conversations.queue_groups() == {CID: "general"}
    detail = await member.json(CONV)
    assert detail["state"] == "queued" and detail["group_name"] == "综合组"
    assert (await agent.post(CONV + "/claim")).status == 403


async def test_wechat_refusing_the_notice_does_not_undo_the_transfer(
    full_app: TestClient, sign_in: SignIn, fake_wechat: FakeWeChatApi, tmp_path: Path
) -> None:
    """Outside WeChat's 48-hour window (45015) the notice is refused: the
    conversation still waits for the group, and the line is in the transcript."""
    path = tmp_path / "agent_groups.yml"
    path.write_text(GROUPS, encoding="utf-8")
    console_of(full_app).groups = AgentGroups(path)
    agent = await sign_in(full_app, "zhangsan", display_name="张三")
    await _online(full_app, sign_in, "wangwu", "王五")
    platform = FakeWeChatPlatform(token=TOKEN, encoding_aes_key=AES_KEY)
    encrypt = platform.encrypt(text_xml("转人工", msg_id="910001"))
    resp = await full_app.post(URL, params=platform.query(encrypt), data=platform.envelope(encrypt))
    assert resp.status == 200
    wx = f"wechat:{OPENID}"
    conv = f"/console/api/conversations/{wx}"
    await eventually(lambda: _queued(full_app, wx))
    assert (await agent.post(conv + "/claim")).status == 200
    await eventually(lambda: any("已为您接入" in t for t in fake_wechat.sent_texts))
    fake_wechat.fail_next(45015)
    moved = await agent.post(conv + "/transfer", {"group": "social_security"})
    assert moved.status == 200, await moved.text()
    notice = "您的问题已转交社保组，请稍候，工作人员将尽快为您服务。"
    assert notice not in fake_wechat.sent_texts
    assert notice in [t for _, t in await said_to(full_app, wx)]
    assert await console_of(full_app).conversations.queue_groups() == {wx: "social_security"}


async def _queued(client: TestClient, cid: str) -> bool:
    conv = await console_of(client).conv(cid)
    return conv.state == "queued" and bool(conv.handoff_id)
