"""The audit log through the console: what is recorded, and the supervisors' view."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from bot.console.auth import USERS_KEY
from tests.console.conftest import PASSWORD, SignIn, create_user

NEW_PASSWORD = "new-horse-staple-77"


async def _audit(client: TestClient) -> list[dict[str, Any]]:
    return await client.app[USERS_KEY].audit.list()


async def test_sign_ins_sign_outs_and_user_changes_are_audited(
    client: TestClient, sign_in: SignIn
) -> None:
    supervisor = await sign_in(client, "banzhang", role="supervisor")
    await client.post("/console/login", json={"username": "banzhang", "password": "wrong-12345"})
    await client.post("/console/login", json={"username": PASSWORD, "password": "wrong-12345"})
    created = await supervisor.post(
        "/console/api/users",
        {"username": "zhangsan", "password": PASSWORD, "role": "agent", "display_name": "张三"},
    )
    assert created.status == 201, await created.text()
    assert (await supervisor.post("/console/api/users/zhangsan/role", {"role": "supervisor"})).ok
    agent = await sign_in(client, "zhangsan")
    changed = await agent.post(
        "/console/api/me/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert changed.status == 200
    assert (await supervisor.post("/console/logout")).status == 200
    rows = list(reversed(await _audit(client)))
    seen = [(r["actor"], r["action"], r["target"]) for r in rows]
    assert seen == [
        ("system", "user_created", "banzhang"),
        ("banzhang", "sign_in", "banzhang"),
        ("banzhang", "sign_in_failed", "banzhang"),
        ("anonymous", "sign_in_failed", ""),  # an unknown name may be a password: not kept
        ("banzhang", "user_created", "zhangsan"),
        ("banzhang", "role_change", "zhangsan"),
        ("zhangsan", "sign_in", "zhangsan"),
        ("zhangsan", "password_change", "zhangsan"),
        ("banzhang", "sign_out", "banzhang"),
    ]
    assert all(r["client_address"] == "127.0.0.1" for r in rows if r["actor"] != "system")
    assert rows[5]["detail"]["from"] == "agent" and rows[5]["detail"]["to"] == "supervisor"
    text = str(rows)
    assert PASSWORD not in text and NEW_PASSWORD not in text and "wrong-12345" not in text


async def test_supervisors_read_the_audit_log_others_get_403(
    client: TestClient, sign_in: SignIn
) -> None:
    supervisor = await sign_in(client, "banzhang", role="supervisor")
    agent = await sign_in(client, "zhangsan")
    department = await sign_in(client, "huanjing", role="department")
    for who in (agent, department):
        assert (await who.get("/console/api/audit")).status == 403
        assert (await who.get("/console/audit")).status == 403
        assert (await who.get("/console/api/users")).status == 403
        assert (
            await who.post("/console/api/users/zhangsan/role", {"role": "supervisor"})
        ).status == 403
    assert (await client.get("/console/api/audit")).status == 401
    page = await supervisor.get("/console/audit")
    assert page.status == 200 and "审计日志" in await page.text()
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]

    body = await supervisor.json("/console/api/audit?action=sign_in")
    assert [i["actor"] for i in body["items"]] == ["huanjing", "zhangsan", "banzhang"]
    assert body["items"][0]["action_name"] == "登录" and body["next_before_id"] is None
    assert body["actions"]["role_change"] == "变更角色"
    mine = await supervisor.json("/console/api/audit?actor=zhangsan")
    assert {i["action"] for i in mine["items"]} == {"sign_in"}

    first = await supervisor.json("/console/api/audit?limit=2")
    assert len(first["items"]) == 2 and first["next_before_id"] == first["items"][-1]["id"]
    rest = await supervisor.json(f"/console/api/audit?limit=50&before_id={first['next_before_id']}")
    ids = [i["id"] for i in first["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == 6  # 3 created, 3 signed in
    assert rest["next_before_id"] is None
    assert (await supervisor.get("/console/api/audit?since=yesterday")).status == 400
    assert (await supervisor.get("/console/api/audit?action=DROP%20TABLE")).status == 400


async def test_supervisor_manages_users(client: TestClient, sign_in: SignIn) -> None:
    supervisor = await sign_in(client, "banzhang", role="supervisor")
    await create_user(client, "zhangsan")
    weak = await supervisor.post("/console/api/users/zhangsan/password", {"password": "short"})
    assert weak.status == 400
    reset = await supervisor.post(
        "/console/api/users/zhangsan/password", {"password": NEW_PASSWORD}
    )
    assert reset.status == 200
    assert (
        await supervisor.post("/console/api/users/nobody/active", {"active": False})
    ).status == 404
    taken = await supervisor.post(
        "/console/api/users", {"username": "zhangsan", "password": PASSWORD, "role": "agent"}
    )
    assert taken.status == 409
    listing = await supervisor.json("/console/api/users")
    assert {u["username"] for u in listing["items"]} == {"banzhang", "zhangsan"}
    login = {"username": "zhangsan", "password": NEW_PASSWORD}
    assert (await client.post("/console/login", json=login)).status == 200


async def test_account_page_is_for_every_signed_in_user(
    client: TestClient, sign_in: SignIn
) -> None:
    agent = await sign_in(client, "zhangsan")
    page = await agent.get("/console/account")
    assert page.status == 200 and "修改我的密码" in await page.text()
    signed_out = await client.get(
        "/console/account", headers={"Accept": "text/html"}, allow_redirects=False
    )
    assert signed_out.status == 302
