"""The WeChat menu end to end: created through the fake API by the command, and
each of its clicks reaching Rasa as the payload of its intent through the
whole front door (signature, AES, dedupe, hub)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.channels_admin import create_menu, main
from bot.config import Secret, Settings
from bot.store import MemoryStore
from channels.wechat import MENU_FILE, load_menu
from channels.wechat._inbound import menu_payload
from tests.fakes.rasa import FakeRasa
from tests.fakes.wechat_api import (
    AES_KEY,
    APP_ID,
    APP_SECRET,
    OPENID,
    TOKEN,
    URL,
    FakeWeChatApi,
    FakeWeChatPlatform,
    message_xml,
)


def api_settings(make_settings: Callable[..., Settings], fake: FakeWeChatApi) -> Settings:
    url = str(fake.server.make_url("")).rstrip("/")  # type: ignore[attr-defined]
    return make_settings(
        wechat_app_id=APP_ID, wechat_app_secret=Secret(APP_SECRET), wechat_api_base_url=url
    )


async def test_the_command_creates_the_menu(
    fake_wechat: FakeWeChatApi,
    make_settings: Callable[..., Settings],
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = api_settings(make_settings, fake_wechat)
    code = await asyncio.to_thread(main, ["wechat-menu"], settings)
    assert code == 0
    assert fake_wechat.menus == [load_menu(MENU_FILE)]
    assert "menu created: 3 top-level, 6 actions" in capsys.readouterr().out


async def test_a_stale_token_is_refreshed_once(
    fake_wechat: FakeWeChatApi, make_settings: Callable[..., Settings]
) -> None:
    store = MemoryStore()
    await store.set(f"wechat:access_token:{APP_ID}", "STALE-TOKEN", 3600)
    settings = api_settings(make_settings, fake_wechat)
    assert await create_menu(settings, load_menu(MENU_FILE), store) == (0, "ok")
    assert fake_wechat.menu_attempts == 2 and fake_wechat.token_calls == 1
    assert await store.get(f"wechat:access_token:{APP_ID}") == fake_wechat.valid_token


async def test_wechat_refusing_the_menu_is_reported(
    fake_wechat: FakeWeChatApi,
    make_settings: Callable[..., Settings],
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake_wechat.menu_unauthorized = True
    settings = api_settings(make_settings, fake_wechat)
    assert await asyncio.to_thread(main, ["wechat-menu"], settings) == 2
    assert "errcode 48001" in capsys.readouterr().err and fake_wechat.menus == []


async def test_nothing_is_sent_for_a_bad_file_or_missing_settings(
    fake_wechat: FakeWeChatApi,
    make_settings: Callable[..., Settings],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Any,
) -> None:
    bad = tmp_path / "menu.yml"
    bad.write_text("button:\n  - {type: click, name: 抽奖, key: LOTTERY}\n", encoding="utf-8")
    settings = api_settings(make_settings, fake_wechat)
    assert await asyncio.to_thread(main, ["wechat-menu", "--file", str(bad)], settings) == 1
    assert "LOTTERY" in capsys.readouterr().err
    assert await asyncio.to_thread(main, ["wechat-menu"], make_settings()) == 1
    assert "WECHAT_APP_ID" in capsys.readouterr().err
    assert fake_wechat.menu_attempts == 0


def test_dry_run_prints_the_request(
    make_settings: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["wechat-menu", "--dry-run"], make_settings()) == 0
    assert json.loads(capsys.readouterr().out) == load_menu(MENU_FILE)


async def test_each_click_reaches_rasa_as_its_intent(
    full_app: TestClient, rasa_handoff: FakeRasa
) -> None:
    platform = FakeWeChatPlatform(token=TOKEN, encoding_aes_key=AES_KEY)
    menu = load_menu(MENU_FILE)
    keys = [s["key"] for b in menu["button"] for s in b.get("sub_button", [b])]
    for n, key in enumerate(keys):
        xml = message_xml(
            OPENID, "event", create_time=1_800_000_000 + n, Event="CLICK", EventKey=key
        )
        encrypt = platform.encrypt(xml)
        resp = await full_app.post(
            URL, params=platform.query(encrypt), data=platform.envelope(encrypt)
        )
        assert resp.status == 200
        reply = platform.open_reply(await resp.read())
        assert reply["Content"] == f"echo: {menu_payload(key)}"
    sent = [c["message"] for c in rasa_handoff.calls if c["sender"] == f"wechat:{OPENID}"]
    assert sent == [
        "/consult",
        "/request_service_guide",
        "/complain",
        "/suggest",
        "/check_ticket",
        "/request_human",
    ]
