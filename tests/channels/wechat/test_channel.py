"""The WeChat webhook: URL verification, authentication and bad input.

A scripted inbound port (FakeHub) stands in for the hub: every refused request must leave
it untouched. Message kinds and replies: tests/channels/wechat/test_messages.py.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from channels.wechat._crypto import signature
from tests.fakes.wechat_api import (
    AES_KEY,
    APP_ID,
    OPENID,
    TOKEN,
    URL,
    FakeHub,
    FakeWeChatApi,
    FakeWeChatPlatform,
    channel_client,
    channel_settings,
    text_xml,
)


@pytest.fixture
async def wechat_api(aiohttp_server) -> tuple[FakeWeChatApi, str]:  # type: ignore[no-untyped-def]
    fake = FakeWeChatApi()
    server = await aiohttp_server(fake.app)
    return fake, str(server.make_url("")).rstrip("/")


@pytest.fixture
def hub() -> FakeHub:
    return FakeHub()


@pytest.fixture
async def client(aiohttp_client, hub: FakeHub, wechat_api) -> TestClient:  # type: ignore[no-untyped-def]
    return await channel_client(aiohttp_client, hub, channel_settings(wechat_api[1]))


@pytest.fixture
async def aes_client(aiohttp_client, hub: FakeHub, wechat_api) -> TestClient:  # type: ignore[no-untyped-def]
    return await channel_client(aiohttp_client, hub, channel_settings(wechat_api[1], aes=True))


@pytest.fixture
def platform() -> FakeWeChatPlatform:
    return FakeWeChatPlatform(token=TOKEN)


@pytest.fixture
def aes_platform() -> FakeWeChatPlatform:
    return FakeWeChatPlatform(token=TOKEN, encoding_aes_key=AES_KEY)


async def post(client: TestClient, platform: FakeWeChatPlatform, xml: str) -> Any:
    return await client.post(URL, params=platform.query(), data=xml.encode())


# --- URL verification ---------------------------------------------------------


async def test_url_verification_echoes_echostr(
    client: TestClient, platform: FakeWeChatPlatform
) -> None:
    resp = await client.get(URL, params={**platform.query(), "echostr": "5927782489442352469"})
    assert resp.status == 200
    assert await resp.text() == "5927782489442352469"


@pytest.mark.parametrize("tamper", ["signature", "nonce", "missing", "stale"])
async def test_url_verification_refuses_bad_signature(
    client: TestClient, platform: FakeWeChatPlatform, tamper: str
) -> None:
    q = {**platform.query(), "echostr": "abc"}
    if tamper == "signature":
        q["signature"] = "0" * 40
    elif tamper == "nonce":
        q["nonce"] += "1"
    elif tamper == "missing":
        del q["signature"]
    else:
        q = {**platform.query(timestamp=int(time.time()) - 301), "echostr": "abc"}
    resp = await client.get(URL, params=q)
    assert resp.status == 403
    assert "abc" not in await resp.text()


# --- authentication and bad input: 4xx, the hub never called -----------------


@pytest.mark.parametrize(
    "tamper", ["signature", "missing", "timestamp_changed", "stale", "future", "garbage_ts"]
)
async def test_post_refuses_bad_signature_or_time(
    client: TestClient, platform: FakeWeChatPlatform, hub: FakeHub, tamper: str
) -> None:
    q = platform.query()
    if tamper == "signature":
        q["signature"] = q["signature"][:-1] + ("0" if q["signature"][-1] != "0" else "1")
    elif tamper == "missing":
        del q["signature"]
    elif tamper == "timestamp_changed":
        q["timestamp"] = str(int(q["timestamp"]) + 1)
    elif tamper == "stale":
        q = platform.query(timestamp=int(time.time()) - 400)
    elif tamper == "future":
        q = platform.query(timestamp=int(time.time()) + 400)
    else:
        q["timestamp"] = "yesterday"
    resp = await client.post(URL, params=q, data=b"<!DOCTYPE x [<!ENTITY a 'b'>]><xml>&a;</xml>")
    assert resp.status == 403
    assert hub.calls == []


async def test_body_too_large_is_413(
    aiohttp_client: Any, hub: FakeHub, platform: FakeWeChatPlatform, wechat_api: Any
) -> None:
    settings = channel_settings(wechat_api[1], max_body_bytes=1024)
    client = await channel_client(aiohttp_client, hub, settings)
    resp = await post(client, platform, text_xml("长" * 2000))
    assert resp.status == 413
    assert hub.calls == []


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;">]><xml><ToUserName>x</ToUserName>'
    "<FromUserName>u</FromUserName><MsgType>text</MsgType><Content>&c;</Content></xml>"
)
XXE = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    "<xml><FromUserName>u</FromUserName><MsgType>text</MsgType><Content>&x;</Content></xml>"
)


@pytest.mark.parametrize(
    "body",
    [
        BILLION_LAUGHS,
        XXE,
        "<xml><FromUserName>u</FromUserName><MsgType>text</MsgType>",
        "plain words",
        "<xml><MsgType>text</MsgType><Content>no sender</Content></xml>",
        "<xml><FromUserName>u</FromUserName><Content>no type</Content></xml>",
    ],
)
async def test_bad_plaintext_xml_is_400(
    client: TestClient,
    platform: FakeWeChatPlatform,
    hub: FakeHub,
    body: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    resp = await post(client, platform, body)
    assert resp.status == 400
    assert hub.calls == []
    assert "wechat: rejected message (400)" in caplog.text
    assert "passwd" not in caplog.text and "no sender" not in caplog.text


async def test_aes_text_message_and_encrypted_reply(
    aes_client: TestClient, aes_platform: FakeWeChatPlatform, hub: FakeHub
) -> None:
    encrypt = aes_platform.encrypt(text_xml("公积金怎么提取？"))
    resp = await aes_client.post(
        URL, params=aes_platform.query(encrypt), data=aes_platform.envelope(encrypt)
    )
    assert resp.status == 200
    reply = aes_platform.open_reply(await resp.read())
    assert reply["Content"] == "收到：公积金怎么提取？"
    assert reply["ToUserName"] == OPENID and reply["FromUserName"] == "gh_0123456789ab"
    assert hub.calls[0].text == "公积金怎么提取？"


async def test_compatible_mode_uses_only_the_encrypted_fields(
    aes_client: TestClient, aes_platform: FakeWeChatPlatform, hub: FakeHub
) -> None:
    encrypt = aes_platform.encrypt(text_xml("加密的内容"))
    body = (
        f"<xml><ToUserName>gh_0123456789ab</ToUserName><FromUserName>{OPENID}</FromUserName>"
        "<MsgType>text</MsgType><Content>明文字段</Content>"
        f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    )
    resp = await aes_client.post(URL, params=aes_platform.query(encrypt), data=body.encode())
    assert aes_platform.open_reply(await resp.read())["Content"] == "收到：加密的内容"
    assert [m.text for m in hub.calls] == ["加密的内容"]


def _aes_case(platform: FakeWeChatPlatform, case: str) -> tuple[dict[str, str], bytes]:
    """A safe-mode request broken in one way (signatures valid unless the case is one)."""
    good = platform.encrypt(text_xml("秘密内容"))
    if case == "missing_encrypt":
        return platform.query(""), b"<xml><ToUserName>gh</ToUserName></xml>"
    if case == "bad_msg_signature":
        q = platform.query(good)
        q["msg_signature"] = signature(TOKEN, q["timestamp"], q["nonce"], good + "x")
        return q, platform.envelope(good)
    if case == "no_msg_signature":
        q = platform.query(good)
        del q["msg_signature"]
        return q, platform.envelope(good)
    if case == "bad_base64":
        bad = "%%%not-base64%%%"
        return platform.query(bad), platform.envelope(bad)
    if case == "truncated_ciphertext":
        bad = good[:-8]
        return platform.query(bad), platform.envelope(bad)
    if case == "wrong_padding":
        bad = _with_bad_padding(platform)
        return platform.query(bad), platform.envelope(bad)
    if case == "wrong_app_id":
        bad = FakeWeChatPlatform(TOKEN, "wx_other_app_id_00", AES_KEY).encrypt(text_xml("x"))
        return platform.query(bad), platform.envelope(bad)
    if case == "inner_doctype":
        bad = platform.encrypt(XXE)
        return platform.query(bad), platform.envelope(bad)
    if case == "outer_doctype":
        body = b"<!DOCTYPE xml [<!ENTITY a 'b'>]>" + platform.envelope(good)
        return platform.query(good), body
    if case == "plaintext_request":
        return platform.query(), text_xml("明文").encode()
    raise AssertionError(case)


def _with_bad_padding(platform: FakeWeChatPlatform) -> str:
    import base64
    import struct

    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    from channels.wechat._crypto import decode_aes_key

    key = decode_aes_key(AES_KEY)
    xml = text_xml("x").encode()
    body = b"0123456789abcdef" + struct.pack(">I", len(xml)) + xml + APP_ID.encode()
    body += b"\x07" * (-len(body) % 32 or 32)  # pad bytes that do not name their count
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(body) + enc.finalize()).decode()


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("missing_encrypt", 400),
        ("bad_msg_signature", 403),
        ("no_msg_signature", 403),
        ("bad_base64", 400),
        ("truncated_ciphertext", 400),
        ("wrong_padding", 400),
        ("wrong_app_id", 400),
        ("inner_doctype", 400),
        ("outer_doctype", 400),
        ("plaintext_request", 403),
    ],
)
async def test_bad_aes_request_is_refused(
    aes_client: TestClient,
    aes_platform: FakeWeChatPlatform,
    hub: FakeHub,
    case: str,
    status: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    params, body = _aes_case(aes_platform, case)
    resp = await aes_client.post(URL, params=params, data=body)
    assert resp.status == status
    assert hub.calls == []
    assert "wechat: rejected message" in caplog.text
    assert "秘密内容" not in caplog.text and "passwd" not in caplog.text
