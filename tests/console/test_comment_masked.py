"""Review: a citizen's comment after an agent's service keeps no plaintext number at rest."""

from __future__ import annotations

import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from bot.db.schema import handoffs
from tests.console.conftest import SignIn, connect, console_of, say

CID = "rest:t:c1"
CONV = f"/console/api/conversations/{CID}"


async def test_handoff_comment_is_stored_masked(client: TestClient, sign_in: SignIn) -> None:
    agent = await sign_in(client, "zhangsan", display_name="张三")
    await connect(agent)
    await say(client, "c1", "转人工")
    assert (await agent.post(CONV + "/claim")).status == 200
    assert (await agent.post(CONV + "/close")).status == 200
    await say(client, "c1", '/rate_handoff{"rating": 2}')
    await say(client, "c1", "/handoff_comment")
    await say(client, "c1", "请回电13812345678，身份证440101199001011234")
    console = console_of(client)
    async with console.db.read() as conn:
        stored = (await conn.execute(sa.select(handoffs.c.comment))).scalars().all()
    text = " ".join(c or "" for c in stored)
    assert "请回电138****5678" in text, stored
    assert "13812345678" not in text and "199001011234" not in text
