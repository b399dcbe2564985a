"""Attacks on the console sign-in and sessions, through the whole app over HTTP.

- parallel guesses: the attempt is counted atomically before the password check;
- one address's failures lock out nobody else (no global lock-out), at
  another address or behind the same proxy;
- unknown and known usernames answer alike (no enumeration);
- sessions have an absolute lifetime, end on password and role changes and
  deactivation, and an open console WebSocket closes with its session.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

import bot.console.users as users_module
from bot.console.auth import COOKIE_NAME, SESSIONS_KEY, USERS_KEY
from tests.console.conftest import PASSWORD, MakeReplica, SignIn, connect, create_user, runtime_of

WRONG = "wrong-pass-123"
NEW_PASSWORD = "new-horse-staple-77"


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password verification (argon2) the app runs, by stored hash."""
    seen: list[str] = []
    real = users_module._matches

    def counting(stored_hash: str, password: str) -> bool:
        seen.append(stored_hash)
        return real(stored_hash, password)

    monkeypatch.setattr(users_module, "_matches", counting)
    return seen


@pytest.fixture
async def from_address(client: TestClient) -> AsyncIterator[Callable[[str], aiohttp.ClientSession]]:
    """Browsers connecting from distinct loopback addresses (distinct request.remote)."""
    opened: list[aiohttp.ClientSession] = []

    def make(address: str) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(local_addr=(address, 0))
        session = aiohttp.ClientSession(
            base_url=str(client.make_url("")).rstrip("/") + "/",
            connector=connector,
            cookie_jar=aiohttp.CookieJar(unsafe=True),
        )
        opened.append(session)
        return session

    yield make
    for session in opened:
        await session.close()


async def _login(http: Any, username: str, password: str, **kw: Any) -> aiohttp.ClientResponse:
    resp = await http.post(
        "/console/login", json={"username": username, "password": password}, **kw
    )
    await resp.read()
    return resp


async def test_parallel_guesses_reach_the_password_check_at_most_the_limit(
    client: TestClient, checks: list[str]
) -> None:
    await create_user(client, "zhangsan")
    checks.clear()
    answers = await asyncio.gather(*(_login(client, "zhangsan", WRONG) for _ in range(30)))
    statuses = sorted(resp.status for resp in answers)
    assert len(checks) <= 5, f"{len(checks)} guesses were checked"
    assert statuses == [401] * len(checks) + [429] * (30 - len(checks))
    # and the right password, guessed now, is refused without a check too
    assert (await _login(client, "zhangsan", PASSWORD)).status == 429
    assert len(checks) <= 5


async def test_one_addresss_failures_lock_out_no_one_else(
    client: TestClient, from_address: Callable[[str], aiohttp.ClientSession]
) -> None:
    await create_user(client, "zhangsan")
    await create_user(client, "lisi")
    office, home, attacker = (from_address(a) for a in ("127.0.0.2", "127.0.0.3", "127.0.0.4"))
    # lisi mistypes five times in the office (the whole office shares one address)
    for _ in range(5):
        assert (await _login(office, "lisi", WRONG)).status == 401
    assert (await _login(office, "lisi", PASSWORD)).status == 429
    # ... which locks out neither zhangsan in the same office nor anyone elsewhere
    assert (await _login(office, "zhangsan", PASSWORD)).status == 200
    assert (await _login(home, "lisi", PASSWORD)).status == 200
    # an attacker's five wrong guesses for zhangsan do not lock zhangsan out
    for _ in range(5):
        await _login(attacker, "zhangsan", WRONG)
    assert (await _login(attacker, "zhangsan", WRONG)).status == 429
    assert (await _login(home, "zhangsan", PASSWORD)).status == 200


async def test_clients_behind_the_trusted_proxy_are_told_apart(
    make_replica: MakeReplica,
) -> None:
    client = await make_replica(trusted_proxies=("127.0.0.1",))
    await create_user(client, "zhangsan")
    await create_user(client, "lisi")
    behind = {"X-Forwarded-For": "203.0.113.7"}
    for _ in range(5):
        await _login(client, "lisi", WRONG, headers=behind)
    assert (await _login(client, "lisi", PASSWORD, headers=behind)).status == 429
    other = {"X-Forwarded-For": "198.51.100.9"}
    assert (await _login(client, "lisi", PASSWORD, headers=other)).status == 200
    assert (await _login(client, "zhangsan", PASSWORD, headers=other)).status == 200


async def test_many_usernames_from_one_address_are_throttled(
    client: TestClient, from_address: Callable[[str], aiohttp.ClientSession], checks: list[str]
) -> None:
    sprayer = from_address("127.0.0.5")
    checks.clear()
    answers = [await _login(sprayer, f"user{i}", WRONG) for i in range(30)]
    assert len(checks) == 20  # CONSOLE_LOGIN_PER_ADDRESS
    assert [a.status for a in answers] == [401] * 20 + [429] * 10
    await create_user(client, "zhangsan")
    assert (await _login(from_address("127.0.0.6"), "zhangsan", PASSWORD)).status == 200


async def test_unknown_and_known_usernames_answer_alike(
    client: TestClient, from_address: Callable[[str], aiohttp.ClientSession], checks: list[str]
) -> None:
    await create_user(client, "zhangsan")
    seen: dict[str, list[Any]] = {}
    for username, address in (("zhangsan", "127.0.0.7"), ("nobody", "127.0.0.8")):
        http = from_address(address)
        checks.clear()
        answers = []
        for _ in range(7):
            resp = await _login(http, username, WRONG)
            answers.append(
                (
                    resp.status,
                    await resp.json(),
                    "Retry-After" in resp.headers,
                    COOKIE_NAME in resp.cookies,
                )
            )
        seen[username] = [answers, len(checks)]
    assert seen["zhangsan"] == seen["nobody"]
    assert seen["nobody"][1] == 5  # the unknown user's guesses are hashed like real ones
    statuses = [a[0] for a in seen["nobody"][0]]
    assert statuses == [401] * 5 + [429] * 2


async def test_session_past_its_absolute_lifetime_is_refused(
    client: TestClient, sign_in: SignIn
) -> None:
    now = [time.time()]
    client.app[SESSIONS_KEY].clock = lambda: now[0]
    agent = await sign_in(client, "zhangsan")
    now[0] += 11 * 3600  # in use all day: the idle timeout never runs out
    assert (await agent.get("/console/api/me")).status == 200
    now[0] += 3600 + 1  # 12 h after the sign-in
    assert (await agent.get("/console/api/me")).status == 401


async def test_password_change_ends_every_session_and_closes_the_socket(
    client: TestClient, sign_in: SignIn
) -> None:
    first = await sign_in(client, "zhangsan")
    second = await sign_in(client, "zhangsan")
    ws = await connect(first)
    resp = await second.post(
        "/console/api/me/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert resp.status == 200, await resp.text()
    assert (await first.get("/console/api/me")).status == 401  # the old cookie is refused
    msg = await _closed(ws)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    # the browser that changed it goes on with a new session
    assert (await second.get("/console/api/me")).status == 200
    assert (await _login(client, "zhangsan", PASSWORD)).status == 401
    assert (await _login(client, "zhangsan", NEW_PASSWORD)).status == 200


async def _closed(ws: aiohttp.ClientWebSocketResponse) -> aiohttp.WSMessage:
    while True:
        msg = await ws.receive(timeout=5)
        if msg.type != aiohttp.WSMsgType.TEXT:
            return msg


async def test_role_change_and_deactivation_end_sessions(
    client: TestClient, sign_in: SignIn
) -> None:
    supervisor = await sign_in(client, "banzhang", role="supervisor")
    agent = await sign_in(client, "zhangsan")
    other = await sign_in(client, "lisi")
    resp = await supervisor.post("/console/api/users/zhangsan/role", {"role": "supervisor"})
    assert resp.status == 200, await resp.text()
    assert (await agent.get("/console/api/me")).status == 401
    resp = await supervisor.post("/console/api/users/lisi/active", {"active": False})
    assert resp.status == 200, await resp.text()
    assert (await other.get("/console/api/me")).status == 401
    assert (await _login(client, "lisi", PASSWORD)).status == 401
    again = await sign_in(client, "zhangsan")
    assert (await again.json("/console/api/me"))["role"] == "supervisor"


async def test_socket_closes_when_the_session_ends_elsewhere(
    client: TestClient, sign_in: SignIn
) -> None:
    """A password set by the command line (another process): the socket's
    periodic re-check and its next message both find the session gone."""
    agent = await sign_in(client, "zhangsan")
    ws = await connect(agent)
    quiet = await connect(await sign_in(client, "zhangsan"))
    await client.app[USERS_KEY].set_password("zhangsan", NEW_PASSWORD, actor="cli")
    await ws.send_json({"type": "ping"})  # the next message it would act on
    assert (await _closed(ws)).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    await runtime_of(client).sockets.recheck_all()  # what the periodic re-check runs
    assert (await _closed(quiet)).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_an_ipv6_network_shares_one_address_budget(make_replica: MakeReplica) -> None:
    """One IPv6 line holds a whole /64: rotating addresses within it gains nothing."""
    client = await make_replica(trusted_proxies=("127.0.0.1",))
    for i in range(20):
        head = {"X-Forwarded-For": f"2001:db8:1:2::{i + 1:x}"}
        assert (await _login(client, f"user{i}", WRONG, headers=head)).status == 401
    head = {"X-Forwarded-For": "2001:db8:1:2:abcd::99"}
    assert (await _login(client, "user99", WRONG, headers=head)).status == 429
    other = {"X-Forwarded-For": "2001:db8:1:3::1"}
    assert (await _login(client, "user99", WRONG, headers=other)).status == 401
