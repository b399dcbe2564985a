"""Fault tests: only against a running `make cluster`, only by `make faults`.

They are left out of every other pytest run (``make test`` collects tests/
whole): an item here runs only when the ``-m`` expression names ``faults``.
Without a running, healthy cluster they fail (they never skip): `make
faults` is asked for on purpose.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.faults.harness import (
    Cluster,
    ClusterTelegramApi,
    FakeWeChatApi,
    Reference,
    reference_replies,
    say,
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "faults" in (config.option.markexpr or ""):
        return
    ours = [item for item in items if item.get_closest_marker("faults") is not None]
    if ours:
        config.hook.pytest_deselected(items=ours)
        items[:] = [item for item in items if item.get_closest_marker("faults") is None]


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    try:
        running = Cluster.load()
    except FileNotFoundError as exc:
        pytest.fail(str(exc))
    if not running.status_ok():
        pytest.fail(f"the cluster in {running.dir} is not healthy: scripts/cluster.sh status")
    return running


@pytest.fixture
async def wechat_api(cluster: Cluster) -> AsyncIterator[FakeWeChatApi]:
    """WeChat's API (token, customer-service messages) where the front doors call it."""
    api = cluster.fake_wechat_api()
    await api.start(cluster.port("FAKE_WECHAT_API_PORT"))
    try:
        yield api
    finally:
        await api.close()


@pytest.fixture
async def telegram_api(cluster: Cluster) -> AsyncIterator[ClusterTelegramApi]:
    """Telegram's Bot API (sendMessage, ...) where the front doors call it."""
    api = cluster.fake_telegram_api()
    await api.start(cluster.port("FAKE_TELEGRAM_API_PORT"))
    try:
        yield api
    finally:
        await api.close()


@pytest.fixture
async def reference(cluster: Cluster) -> Reference:
    replies = await reference_replies(cluster)
    say(f"reference replies recorded from Rasa 1 ({len(replies.replies)} turns)")
    return replies
