"""Console sign-in, sessions, CSRF, roles and throttling, through the whole app."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from aiohttp.test_utils import TestClient
from cryptography.fernet import Fernet

from bot.console.auth import COOKIE_NAME, SESSIONS_KEY, USERS_KEY
from bot.console.users import UserExists
from bot.db.schema import users
from tests.console.conftest import (
    ALWAYS_OPEN,
    PASSWORD,
    MakeReplica,
    SignIn,
    create_user,
)


async def test_password_is_stored_as_argon2id(client: TestClient) -> None:
    await create_user(client, "zhangsan", display_name="张三")
    db = client.app[USERS_KEY]._db
    async with db.read() as conn:
        row = (await conn.execute(users.select())).one()
    assert row.password_hash.startswith("$argon2id$")
    assert PASSWORD not in row.password_hash
    with pytest.raises(UserExists):
        await create_user(client, "zhangsan")


@pytest.mark.parametrize(
    ("username", "password", "role", "department"),
    [
        ("a", PASSWORD, "agent", None),  # too short a username
        ("li si", PASSWORD, "agent", None),
        ("lisi", "short1", "agent", None),
        ("lisi", "onlyletterspassword", "agent", None),
        ("lisi", PASSWORD, "boss", None),
        ("lisi", PASSWORD, "department", None),
        ("lisi", PASSWORD, "department", "no_such_dept"),
    ],
)
async def test_bad_users_are_refused(
    client: TestClient, username: str, password: str, role: str, department: str | None
) -> None:
    with pytest.raises(ValueError):
        await client.app[USERS_KEY].create(
            username=username, password=password, role=role, department=department
        )
    assert await client.app[USERS_KEY].list() == []


async def test_sign_in_sets_a_strict_session_cookie(client: TestClient) -> None:
    await create_user(client, "zhangsan", display_name="张三")
    resp = await client.post("/console/login", json={"username": "zhangsan", "password": PASSWORD})
    assert resp.status == 200
    assert (await resp.json())["redirect"] == "/console/"
    header = resp.headers["Set-Cookie"]
    assert header.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in header and "SameSite=Strict" in header and "Path=/console" in header
    assert "Secure" not in header  # plain http in the test
    me = await (await client.get("/console/api/me")).json()
    assert me["username"] == "zhangsan" and me["display_name"] == "张三" and me["role"] == "agent"
    assert len(me["csrf_token"]) >= 32


async def test_cookie_is_secure_when_configured(make_replica: MakeReplica) -> None:
    client = await make_replica(console=dataclasses.replace(ALWAYS_OPEN, cookie_secure=True))
    await create_user(client, "zhangsan")
    resp = await client.post("/console/login", json={"username": "zhangsan", "password": PASSWORD})
    assert "Secure" in resp.headers["Set-Cookie"]


async def test_wrong_password_and_unknown_user_look_the_same(client: TestClient) -> None:
    await create_user(client, "zhangsan")
    wrong = await client.post("/console/login", json={"username": "zhangsan", "password": "x" * 12})
    unknown = await client.post("/console/login", json={"username": "nobody", "password": "x" * 12})
    assert wrong.status == unknown.status == 401
    assert (await wrong.json()) == (await unknown.json())
    assert (await wrong.json())["message"] == "用户名或密码错误"
    assert COOKIE_NAME not in wrong.cookies
    missing = await client.post("/console/login", json={"username": "zhangsan"})
    assert missing.status == 400


async def test_five_failures_for_a_username_at_one_address_are_the_limit(
    client: TestClient,
) -> None:
    await create_user(client, "zhangsan")
    statuses = []
    for _ in range(6):
        resp = await client.post(
            "/console/login", json={"username": "zhangsan", "password": "wrong-pass-1"}
        )
        statuses.append(resp.status)
    assert statuses == [401, 401, 401, 401, 401, 429]  # five are checked, then 429
    body = await resp.json()
    assert "分钟后再试" in body["message"] and int(resp.headers["Retry-After"]) > 0
    # the right password is refused too while the budget is spent
    right = await client.post("/console/login", json={"username": "zhangsan", "password": PASSWORD})
    assert right.status == 429


async def test_failures_for_other_usernames_do_not_lock_out_a_colleague(client: TestClient) -> None:
    for i in range(5):
        await client.post("/console/login", json={"username": f"guess{i}", "password": "pw-123456"})
    await create_user(client, "zhangsan")
    resp = await client.post("/console/login", json={"username": "zhangsan", "password": PASSWORD})
    assert resp.status == 200


async def test_successful_sign_ins_do_not_use_up_the_budget(client: TestClient) -> None:
    await create_user(client, "zhangsan")
    body = {"username": "zhangsan", "password": PASSWORD}
    for _ in range(25):  # a whole office signing in behind one address
        assert (await client.post("/console/login", json=body)).status == 200


async def test_csrf_token_is_required_for_changes(client: TestClient, sign_in: SignIn) -> None:
    agent = await sign_in(client, "zhangsan")
    no_token = await agent.session.post(agent.base + "/console/logout")
    assert no_token.status == 403
    assert (await no_token.json())["error"] == "csrf"
    wrong = await agent.session.post(
        agent.base + "/console/logout", headers={"X-CSRF-Token": "forged"}
    )
    assert wrong.status == 403
    ok = await agent.post("/console/logout")
    assert ok.status == 200
    me = await agent.get("/console/api/me")
    assert me.status == 401


async def test_signed_out_api_is_401_and_pages_redirect(client: TestClient) -> None:
    api = await client.get("/console/api/me")
    assert api.status == 401 and (await api.json())["error"] == "unauthenticated"
    page = await client.get("/console/", headers={"Accept": "text/html"}, allow_redirects=False)
    assert page.status == 302 and page.headers["Location"] == "/console/login"
    post = await client.post("/console/logout")
    assert post.status == 401
    login_page = await client.get("/console/login")
    assert login_page.status == 200 and "登录" in await login_page.text()
    assert "script-src 'self'" in login_page.headers["Content-Security-Policy"]


async def test_roles_are_checked(client: TestClient, sign_in: SignIn) -> None:
    agent = await sign_in(client, "zhangsan")
    supervisor = await sign_in(client, "banzhang", role="supervisor")
    department = await sign_in(client, "huanjing", role="department")
    assert (await agent.get("/console/api/live")).status == 403
    assert (await supervisor.get("/console/api/live")).status == 200
    assert (await department.get("/console/api/queue")).status == 403
    assert (await agent.get("/console/api/queue")).status == 200


async def test_session_lives_in_the_shared_store(client: TestClient, sign_in: SignIn) -> None:
    agent = await sign_in(client, "zhangsan")
    cookie = next(c for c in agent.session.cookie_jar if c.key == COOKIE_NAME)
    session = await client.app[SESSIONS_KEY].get(cookie.value)
    assert session is not None and session.csrf_token == agent.csrf
    await client.app[SESSIONS_KEY].delete(cookie.value)
    assert (await agent.get("/console/api/me")).status == 401


async def test_create_user_command(tmp_path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from bot.console.cli import main

    monkeypatch.setenv("CONSOLE_PASSWORD", PASSWORD)
    monkeypatch.setenv("HOTLINE_DATA_KEYS", Fernet.generate_key().decode())
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    args = ["--database-url", url, "create-user", "--username", "banzhang", "--role", "supervisor"]
    code = await asyncio.to_thread(main, [*args, "--display-name", "王班长"])
    assert code == 0
    assert "created supervisor banzhang (王班长)" in capsys.readouterr().out
    assert await asyncio.to_thread(main, args) == 1  # exists


async def test_user_commands_change_and_audit(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    from bot.console.cli import main
    from bot.db import Database
    from bot.db.crypto import Cipher

    key = Fernet.generate_key().decode()
    monkeypatch.setenv("CONSOLE_PASSWORD", PASSWORD)
    monkeypatch.setenv("HOTLINE_DATA_KEYS", key)
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    base = ["--database-url", url]
    assert (
        await asyncio.to_thread(
            main, [*base, "create-user", "--username", "zhangsan", "--role", "agent"]
        )
        == 0
    )
    monkeypatch.setenv("CONSOLE_PASSWORD", "another-horse-88")
    assert await asyncio.to_thread(main, [*base, "set-password", "--username", "zhangsan"]) == 0
    args = [*base, "set-role", "--username", "zhangsan", "--role", "supervisor"]
    assert await asyncio.to_thread(main, args) == 0
    assert await asyncio.to_thread(main, [*base, "deactivate", "--username", "zhangsan"]) == 0
    assert await asyncio.to_thread(main, [*base, "set-password", "--username", "nobody"]) == 1
    db = Database(url, cipher=Cipher([key]))
    await db.connect()
    try:
        rows = await db.audit.list()
    finally:
        await db.close()
    assert [(r["actor"], r["action"], r["target"]) for r in rows] == [
        ("cli", "user_deactivated", "zhangsan"),
        ("cli", "role_change", "zhangsan"),
        ("cli", "password_change", "zhangsan"),
        ("cli", "user_created", "zhangsan"),
    ]
    assert rows[1]["detail"]["from"] == "agent" and rows[1]["detail"]["to"] == "supervisor"
    assert "another-horse-88" not in str(rows) and PASSWORD not in str(rows)
