"""WeChat API client against a fake WeChat server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.config import Secret, Settings
from bot.inbound import ChannelStore
from bot.store.base import SharedStore
from bot.store.memory import MemoryStore
from bot.store.sealed import InProcessValues
from channels.wechat._api import TOKEN_MARGIN, WeChatApi, mask_openid
from tests.fakes.wechat_api import APP_ID, APP_SECRET, FakeWeChatApi


def wechat_store(store: SharedStore) -> ChannelStore:
    """The store as the WeChat channel sees it (keys ``wechat:...``)."""
    return ChannelStore(store, "wechat", InProcessValues())


OPENID = "oUser1234567890abcdefghijk"


@pytest.fixture
def fake() -> FakeWeChatApi:
    return FakeWeChatApi()


@pytest.fixture
async def settings(fake: FakeWeChatApi, aiohttp_server) -> Settings:  # type: ignore[no-untyped-def]
    server = await aiohttp_server(fake.app)
    return _settings(str(server.make_url("")).rstrip("/"))


def _settings(base_url: str, secret: str = APP_SECRET) -> Settings:
    return Settings(
        wechat_app_id=APP_ID, wechat_app_secret=Secret(secret), wechat_api_base_url=base_url
    )


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
async def api(settings: Settings, store: MemoryStore) -> AsyncIterator[WeChatApi]:
    client = WeChatApi(settings, wechat_store(store))
    yield client
    await client.close()


async def test_send_text_fetches_token_once_and_caches_it(
    api: WeChatApi, fake: FakeWeChatApi, store: MemoryStore
) -> None:
    assert (await api.send_text(OPENID, "您好")).ok
    assert (await api.send_text(OPENID, "第二条")).ok
    assert fake.token_calls == 1
    assert fake.sent == [
        {"touser": OPENID, "msgtype": "text", "text": {"content": "您好"}},
        {"touser": OPENID, "msgtype": "text", "text": {"content": "第二条"}},
    ]
    ttl = await store.ttl(f"wechat:access_token:{APP_ID}")  # the key name is unchanged
    assert ttl is not None and 7200 - TOKEN_MARGIN - 5 < ttl <= 7200 - TOKEN_MARGIN


async def test_invalid_token_is_refreshed_once_and_retried(
    api: WeChatApi, fake: FakeWeChatApi
) -> None:
    assert (await api.send_text(OPENID, "一")).ok
    fake.fail_next(40001)
    result = await api.send_text(OPENID, "二")
    assert result.ok
    assert fake.token_calls == 2
    assert fake.sent_texts == ["一", "二"]


async def test_token_still_rejected_after_refresh_gives_up(
    api: WeChatApi, fake: FakeWeChatApi
) -> None:
    assert (await api.send_text(OPENID, "一")).ok
    fake.fail_next(40001, 42001)
    result = await api.send_text(OPENID, "二")
    assert (result.ok, result.errcode, result.reason) == (False, 42001, "token")
    assert fake.token_calls == 2  # refreshed once, not in a loop


@pytest.mark.parametrize(
    ("errcode", "reason"), [(45015, "outside_window"), (45047, "quota"), (40003, "invalid_openid")]
)
async def test_send_errors_are_reported_not_raised(
    api: WeChatApi,
    fake: FakeWeChatApi,
    errcode: int,
    reason: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.fail_next(errcode)
    result = await api.send_text(OPENID, "不应出现在日志里的内容")
    assert (result.ok, result.errcode, result.reason) == (False, errcode, reason)
    assert "不应出现在日志里的内容" not in caplog.text
    assert OPENID not in caplog.text
    assert str(errcode) in caplog.text


async def test_wrong_secret_is_a_result(fake: FakeWeChatApi, settings: Settings) -> None:
    client = WeChatApi(
        _settings(settings.wechat_api_base_url, "wrong"), wechat_store(MemoryStore())
    )
    try:
        result = await client.send_text(OPENID, "x")
    finally:
        await client.close()
    assert (result.ok, result.reason) == (False, "token")
    assert fake.sent == []


async def test_unreachable_server_is_a_result() -> None:
    client = WeChatApi(_settings("http://127.0.0.1:9"), wechat_store(MemoryStore()))
    try:
        result = await client.send_text(OPENID, "x")
    finally:
        await client.close()
    assert not result.ok and result.reason.startswith("http_")


def test_openid_is_masked() -> None:
    assert mask_openid(OPENID) == "oUse…jk"
    assert OPENID not in mask_openid(OPENID)


# --- one token for all replicas ----------------------------------------------


async def _two_replicas_send_concurrently(
    settings: Settings, fake: FakeWeChatApi, store_a: SharedStore, store_b: SharedStore
) -> None:
    fake.token_delay = 0.2  # make the refresh window wide
    replicas = [WeChatApi(settings, wechat_store(s)) for s in (store_a, store_b)]
    try:
        results = await asyncio.gather(
            *(r.send_text(OPENID, f"消息{i}") for i in range(8) for r in replicas)
        )
        assert all(r.ok for r in results)
        assert fake.token_calls == 1
        assert len(fake.sent) == 16
        # WeChat invalidates the token: both replicas hit 40001 at once -> one refresh.
        fake.expire_token()
        results = await asyncio.gather(*(r.send_text(OPENID, "再次") for r in replicas * 3))
        assert all(r.ok for r in results)
        assert fake.token_calls == 2
    finally:
        for r in replicas:
            await r.close()


async def test_token_fetched_once_for_two_instances_sharing_a_store(
    settings: Settings, fake: FakeWeChatApi
) -> None:
    store = MemoryStore()
    await _two_replicas_send_concurrently(settings, fake, store, store)


@pytest.mark.redis
async def test_token_fetched_once_for_two_replicas_on_redis(
    settings: Settings, fake: FakeWeChatApi, redis_url: str, redis_prefix: str
) -> None:
    from bot.store.redis import RedisStore

    store_a = RedisStore(redis_url, redis_prefix)
    store_b = RedisStore(redis_url, redis_prefix)  # a second replica's connection
    try:
        await _two_replicas_send_concurrently(settings, fake, store_a, store_b)
    finally:
        await store_a.close()
        await store_b.close()
