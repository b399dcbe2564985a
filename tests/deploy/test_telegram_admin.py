"""``python -m bot.telegram_admin``: the operator's webhook registration,
against the fake Bot API on 127.0.0.1 (tests/fakes/telegram_api.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from bot.config import Secret, Settings
from bot.telegram_admin import main
from tests.fakes.telegram_api import TOKEN, FakeTelegramApi

SECRET = "hook-secret_0123456789"


@pytest.fixture
def api(fake_telegram: FakeTelegramApi) -> FakeTelegramApi:
    return fake_telegram


@pytest.fixture
def settings(api: FakeTelegramApi) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "telegram_bot_token": Secret(TOKEN),
            "telegram_webhook_secret": Secret(SECRET),
            "telegram_api_base_url": api.url,
        }
        values.update(overrides)
        return Settings(**values)

    return make


async def run(argv: list[str], settings: Settings) -> int:
    """The command in a thread (it runs its own event loop), the fake on this one."""
    return await asyncio.to_thread(main, argv, settings)


async def test_the_webhook_is_set_with_its_secret_and_the_channels_updates(
    api: FakeTelegramApi, settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    url = "https://12345.dg.gov.cn/webhooks/telegram"
    assert await run(["set-webhook", "--url", url], settings()) == 0
    (call,) = api.calls_to("setWebhook")
    assert call["url"] == url and call["secret_token"] == SECRET
    allowed = call["allowed_updates"]
    allowed = json.loads(allowed) if isinstance(allowed, str) else allowed
    assert allowed == ["message", "callback_query"]
    assert str(call.get("drop_pending_updates", "false")).lower() == "false"
    out = capsys.readouterr()
    assert "webhook set" in out.out and TOKEN not in out.out + out.err


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://12345.dg.gov.cn/webhooks/telegram", "https://"),
        ("https://12345.dg.gov.cn/telegram", "/webhooks/telegram"),
        ("https://12345.dg.gov.cn/webhooks/telegram?x=1", "/webhooks/telegram"),
    ],
)
async def test_a_bad_url_is_refused_before_anything_is_sent(
    api: FakeTelegramApi,
    settings: Callable[..., Settings],
    capsys: pytest.CaptureFixture[str],
    url: str,
    message: str,
) -> None:
    assert await run(["set-webhook", "--url", url], settings()) == 1
    assert message in capsys.readouterr().err
    assert api.calls == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"telegram_webhook_secret": None}, "TELEGRAM_WEBHOOK_SECRET must be set"),
        ({"telegram_webhook_secret": Secret("has spaces and 中文")}, "what Telegram accepts"),
        ({"telegram_bot_token": None}, "TELEGRAM_BOT_TOKEN must be set"),
    ],
)
async def test_missing_or_bad_settings_are_named(
    api: FakeTelegramApi,
    settings: Callable[..., Settings],
    capsys: pytest.CaptureFixture[str],
    overrides: dict[str, Any],
    message: str,
) -> None:
    url = "https://12345.dg.gov.cn/webhooks/telegram"
    assert await run(["set-webhook", "--url", url], settings(**overrides)) == 1
    assert message in capsys.readouterr().err
    assert api.calls == []


async def test_a_refusal_is_reported_without_the_token(
    api: FakeTelegramApi, settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    api.fail_once("setWebhook", "Bad Request: bad webhook: HTTPS url must be provided for webhook")
    url = "https://12345.dg.gov.cn/webhooks/telegram"
    assert await run(["set-webhook", "--url", url], settings()) == 2
    err = capsys.readouterr().err
    assert "bad webhook" in err.lower() and TOKEN not in err


async def test_the_webhook_can_be_deleted_for_polling(
    api: FakeTelegramApi, settings: Callable[..., Settings]
) -> None:
    assert await run(["delete-webhook"], settings()) == 0
    assert len(api.calls_to("deleteWebhook")) == 1
