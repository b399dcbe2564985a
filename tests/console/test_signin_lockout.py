"""Review: guesses spread over a few addresses must not lock an agent out.

The per-username budget (CONSOLE_LOGIN_PER_USER, 20 per 15 minutes from any
address) stops distributed guessing; spent by an attacker from four
addresses, it must not also refuse the agent's own sign-in from the browser
the agent signed in with before (a device the server remembers).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from tests.console.conftest import PASSWORD, SignIn, create_user

WRONG = "wrong-pass-123"


@pytest.fixture
async def from_address(client: TestClient) -> AsyncIterator[Callable[[str], aiohttp.ClientSession]]:
    opened: list[aiohttp.ClientSession] = []

    def make(address: str) -> aiohttp.ClientSession:
        session = aiohttp.ClientSession(
            base_url=str(client.make_url("")).rstrip("/") + "/",
            connector=aiohttp.TCPConnector(local_addr=(address, 0)),
            cookie_jar=aiohttp.CookieJar(unsafe=True),
        )
        opened.append(session)
        return session

    yield make
    for session in opened:
        await session.close()


async def _login(http: aiohttp.ClientSession, username: str, password: str) -> int:
    resp = await http.post("/console/login", json={"username": username, "password": password})
    await resp.read()
    return resp.status


async def test_guesses_from_four_addresses_do_not_lock_the_agent_out(
    client: TestClient, from_address: Callable[[str], aiohttp.ClientSession]
) -> None:
    await create_user(client, "zhangsan")
    office = from_address("127.0.0.2")
    assert await _login(office, "zhangsan", PASSWORD) == 200  # yesterday, say
    attackers = [from_address(f"127.0.1.{i}") for i in range(1, 6)]
    statuses = [await _login(a, "zhangsan", WRONG) for a in attackers for _ in range(5)]
    assert statuses.count(401) == 20 and statuses.count(429) == 5  # the user budget holds
    # the agent, back at the office browser, still signs in
    assert await _login(office, "zhangsan", PASSWORD) == 200
    # a browser the server has never seen is still held to the spent budget
    assert await _login(from_address("127.0.0.9"), "zhangsan", PASSWORD) == 429


async def test_a_spent_username_budget_does_not_stop_a_signed_in_password_change(
    client: TestClient,
    from_address: Callable[[str], aiohttp.ClientSession],
    sign_in: SignIn,
) -> None:
    agent = await sign_in(client, "zhangsan", display_name="张三")
    attackers = [from_address(f"127.0.2.{i}") for i in range(1, 6)]
    for attacker in attackers:
        for _ in range(5):
            await _login(attacker, "zhangsan", WRONG)
    resp = await agent.post(
        "/console/api/me/password",
        {"current_password": PASSWORD, "new_password": "new-horse-staple-77"},
    )
    assert resp.status == 200, await resp.text()
