"""Review: a malformed paging parameter of the audit log is a clear 400, not a 500."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from tests.console.conftest import SignIn


@pytest.mark.parametrize("query", ["limit=²", "before_id=³", "limit=-1", "before_id=x"])
async def test_bad_paging_is_400(client: TestClient, sign_in: SignIn, query: str) -> None:
    supervisor = await sign_in(client, "banzhang", role="supervisor")
    resp = await supervisor.get(f"/console/api/audit?{query}")
    assert resp.status == 400, await resp.text()
    assert (await resp.json())["message"] == "分页参数无效"
