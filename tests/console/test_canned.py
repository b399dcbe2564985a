"""Canned replies: seeded from data/canned_replies.yml, searched by agents,
created, edited and deleted by supervisors only (audited, told to consoles)."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient

from bot.console.canned import CannedRepo, seed_items
from bot.db import Database
from tests.console.conftest import SignIn, connect, console_of, runtime_of
from tests.support.waiting import frames_until

API = "/console/api/canned"


async def _audit(client: TestClient, action: str) -> list[dict[str, object]]:
    return await console_of(client).db.audit.list(action=action)


def test_seed_file_is_read_and_checked(tmp_path: Path) -> None:
    seed = seed_items()
    assert seed[0] == {
        "title": "问候",
        "text": "您好，我是东莞12345热线人工客服，很高兴为您服务。请问有什么可以帮您？",
    }
    bad = tmp_path / "seed.yml"
    bad.write_text(
        "- {title: 甲, text: 一}\n- {title: 甲, text: 二}\n- {title: 乙}\n- 3\n", "utf-8"
    )
    assert seed_items(bad) == [{"title": "甲", "text": "一"}]
    bad.write_text("- [unclosed\n", "utf-8")
    assert seed_items(bad) == []
    assert seed_items(tmp_path / "missing.yml") == []


async def test_agents_search_the_seeded_replies(client: TestClient, sign_in: SignIn) -> None:
    agent = await sign_in(client, "zhangsan", display_name="张三")
    items = (await agent.json(API))["items"]
    assert [i["title"] for i in items] == [s["title"] for s in seed_items()]
    # by title, by a piece of the text, case-insensitive, wildcards taken literally
    assert [i["title"] for i in (await agent.json(API + "?q=核实"))["items"]] == ["核实信息"]
    found = (await agent.json(API + "?q=工单号"))["items"]
    assert [i["title"] for i in found] == ["查询进度"]
    assert (await agent.json(API + "?q=12345热线人工"))["items"][0]["title"] == "问候"
    assert (await agent.json(API + "?q=%"))["items"] == []
    assert (await agent.json(API + "?q=_"))["items"] == []


async def test_agents_cannot_edit(client: TestClient, sign_in: SignIn) -> None:
    agent = await sign_in(client, "zhangsan", display_name="张三")
    first = (await agent.json(API))["items"][0]
    assert (await agent.post(API, {"title": "新", "text": "新内容"})).status == 403
    put = await agent.session.put(
        f"{agent.base}{API}/{first['id']}", json={"title": "改", "text": "改"},
        headers=agent.headers(),
    )  # fmt: skip
    assert put.status == 403
    gone = await agent.session.delete(f"{agent.base}{API}/{first['id']}", headers=agent.headers())
    assert gone.status == 403
    assert (await agent.get("/console/canned")).status in (302, 403)
    assert (await agent.json(API))["items"][0] == first
    department = await sign_in(client, "huanbao", role="department", display_name="环保")
    assert (await department.get(API)).status == 403


async def test_supervisors_create_edit_delete(client: TestClient, sign_in: SignIn) -> None:
    boss = await sign_in(client, "boss", role="supervisor", display_name="班长")
    agent = await sign_in(client, "zhangsan", display_name="张三")
    ws = await connect(agent)
    page = await boss.session.get(boss.base + "/console/canned")
    assert page.status == 200 and "常用语管理" in await page.text()

    made = await boss.post(API, {"title": " 停水通知 ", "text": "您好，您所在片区今日计划停水。"})
    assert made.status == 201, await made.text()
    item = (await made.json())["item"]
    assert item["title"] == "停水通知" and item["updated_by"] == "boss"
    await frames_until(ws, lambda fs: any(f["type"] == "canned" for f in fs))
    found = (await agent.json(API + "?q=停水"))["items"]
    assert [(i["id"], i["updated_by_name"]) for i in found] == [(item["id"], "班长")]
    assert (await agent.json(API + "?q=问候"))["items"][0]["updated_by_name"] == "系统"
    assert [i["title"] for i in (await agent.json(API))["items"]][-1] == "停水通知"

    twice = await boss.post(API, {"title": "停水通知", "text": "重复"})
    assert twice.status == 409 and (await twice.json())["message"] == "已有标题为“停水通知”的常用语"
    for body, message in (
        ({"title": "", "text": "x"}, "标题不能为空"),
        ({"title": "x", "text": "  "}, "内容不能为空"),
        ({"title": "长" * 21, "text": "x"}, "标题不能超过 20 字"),
        ({"title": "x", "text": "长" * 2001}, "内容不能超过 2000 字"),
        ({"title": 3, "text": "x"}, "标题不能为空"),
    ):
        bad = await boss.post(API, body)
        assert bad.status == 400 and (await bad.json())["message"] == message
    raw = await boss.session.post(
        boss.base + API, data=b"[1", headers={**boss.headers(), "Content-Type": "application/json"}
    )
    assert raw.status == 400 and (await raw.json())["message"] == "请求格式有误"

    url = f"{boss.base}{API}/{item['id']}"
    edit = {"title": "停水通知", "text": "您好，您所在片区明日 9:00-17:00 停水。"}
    edited = await boss.session.put(url, json=edit, headers=boss.headers())
    assert edited.status == 200 and (await edited.json())["item"]["text"] == edit["text"]
    clash = await boss.session.put(url, json={"title": "问候", "text": "x"}, headers=boss.headers())
    assert clash.status == 409
    deleted = await boss.session.delete(url, headers=boss.headers())
    assert deleted.status == 200
    again = await boss.session.delete(url, headers=boss.headers())
    assert again.status == 404 and (await again.json())["message"] == "该常用语不存在或已被删除"
    missing = await boss.session.put(url, json=edit, headers=boss.headers())
    assert missing.status == 404
    assert (await agent.json(API + "?q=停水"))["items"] == []

    created = await _audit(client, "canned.create")
    assert [(a["actor"], a["target"], a["detail"]) for a in created] == [
        ("boss", f"canned:{item['id']}", {"title": "停水通知"})
    ]
    updated = await _audit(client, "canned.update")
    assert [a["detail"]["text_changed"] for a in updated] == [True]
    removed = await _audit(client, "canned.delete")
    assert removed[0]["detail"] == {"title": "停水通知", "text": edit["text"]}


async def test_the_seed_is_copied_in_once(
    client: TestClient, sign_in: SignIn, console_db: Database, tmp_path: Path
) -> None:
    """Deleted replies stay deleted: neither this replica nor another one (a
    new repository on the same database) copies the seed in again."""
    boss = await sign_in(client, "boss", role="supervisor", display_name="班长")
    items = (await boss.json(API))["items"]
    assert len(items) == len(seed_items())
    for item in items:
        gone = await boss.session.delete(f"{boss.base}{API}/{item['id']}", headers=boss.headers())
        assert gone.status == 200
    assert (await boss.json(API))["items"] == []
    assert await runtime_of(client).canned.seed_once() == 0
    other = CannedRepo(console_db)
    assert await other.items() == []


async def test_a_fresh_database_is_seeded_on_first_read(tmp_path: Path) -> None:
    from cryptography.fernet import Fernet

    from bot.db.crypto import Cipher

    seed = tmp_path / "seed.yml"
    seed.write_text("- {title: 甲, text: 第一条}\n- {title: 乙, text: 第二条}\n", "utf-8")
    db = Database(
        f"sqlite:///{tmp_path / 'fresh.db'}", cipher=Cipher([Fernet.generate_key().decode()])
    )
    await db.connect()
    try:
        first, second = CannedRepo(db, seed), CannedRepo(db, seed)
        assert [c.title for c in await first.items()] == ["甲", "乙"]
        assert await second.seed_once() == 0  # another replica: already done
        assert [c.title for c in await second.items("第二")] == ["乙"]
    finally:
        await db.close()
