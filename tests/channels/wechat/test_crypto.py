"""WeChat signatures, AES and XML against WeChat's published sample vectors.

The vectors are the ones wechatpy's tests/test_crypto.py uses (token
"123456", EncodingAESKey "kWxPEV2U...", id "wx49f0ab532d5d035a"): WeChat's
message encryption sample. The scheme is the same for Official Accounts,
with the AppID where that sample has its id.
"""

from __future__ import annotations

import base64
import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from channels.wechat._crypto import (
    InvalidAppIdError,
    InvalidBase64Error,
    InvalidCiphertextError,
    InvalidLengthError,
    InvalidPaddingError,
    WeChatCrypto,
    decode_aes_key,
    pkcs7_pad,
    pkcs7_unpad,
    signature,
    signature_matches,
)
from channels.wechat._xml import (
    WeChatXmlError,
    cdata,
    extract_encrypt,
    parse_message,
    render_text_reply,
)

TOKEN = "123456"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
APP_ID = "wx49f0ab532d5d035a"

# Inbound sample: decrypts to a text message "test" from "messense".
SAMPLE_ENCRYPT = (
    "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHC"
    "rsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpX"
    "aG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQi"
    "MS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQi"
    "pvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0="
)
SAMPLE_SIGNATURE = "74d92dfeb87ba7c714f89d98870ae5eb62dff26d"
SAMPLE_TIMESTAMP = "1411525903"
SAMPLE_NONCE = "461056294"

# URL-verification sample.
ECHO_STR = (
    "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q=="
)
ECHO_SIGNATURE = "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96"

# Outbound sample: this reply with the random prefix "1234567890123456".
REPLY = b"""<xml>
<MsgType><![CDATA[text]]></MsgType>
<Content><![CDATA[test]]></Content>
<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>
<ToUserName><![CDATA[messense]]></ToUserName>
<AgentID>1</AgentID>
<CreateTime>1411525903</CreateTime>
</xml>"""
REPLY_ENCRYPT = (
    "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNc"
    "BqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY"
    "0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsV"
    "bwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAG"
    "VRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3"
)
REPLY_SIGNATURE = "407518b7649e86ef23978113f92d27afa9296533"


@pytest.fixture
def crypto() -> WeChatCrypto:
    return WeChatCrypto(AES_KEY, APP_ID)


def test_signature_of_published_sample() -> None:
    assert signature(TOKEN, SAMPLE_TIMESTAMP, SAMPLE_NONCE, SAMPLE_ENCRYPT) == SAMPLE_SIGNATURE
    assert signature(TOKEN, "1411443780", "437374425", ECHO_STR) == ECHO_SIGNATURE
    assert signature(TOKEN, SAMPLE_TIMESTAMP, SAMPLE_NONCE, REPLY_ENCRYPT) == REPLY_SIGNATURE


def test_signature_matches_is_exact() -> None:
    parts = (SAMPLE_TIMESTAMP, SAMPLE_NONCE, SAMPLE_ENCRYPT)
    assert signature_matches(SAMPLE_SIGNATURE, TOKEN, *parts)
    assert signature_matches(SAMPLE_SIGNATURE.upper(), TOKEN, *parts)
    assert not signature_matches(SAMPLE_SIGNATURE[:-1] + "0", TOKEN, *parts)
    assert not signature_matches("", TOKEN, *parts)
    assert not signature_matches(None, TOKEN, *parts)
    assert not signature_matches(SAMPLE_SIGNATURE, TOKEN, SAMPLE_TIMESTAMP, "461056295")


def test_decrypt_published_sample(crypto: WeChatCrypto) -> None:
    fields = parse_message(crypto.decrypt(SAMPLE_ENCRYPT))
    assert fields["Content"] == "test"
    assert fields["FromUserName"] == "messense"
    assert fields["MsgType"] == "text"
    assert fields["MsgId"] == "4363689963896700987"


def test_decrypt_echo_sample(crypto: WeChatCrypto) -> None:
    assert crypto.decrypt(ECHO_STR) == b"5927782489442352469"


def test_encrypt_matches_published_reply(crypto: WeChatCrypto) -> None:
    assert crypto.encrypt(REPLY, random_prefix=b"1234567890123456") == REPLY_ENCRYPT


def test_encrypt_roundtrip_with_chinese(crypto: WeChatCrypto) -> None:
    text = "<xml><Content><![CDATA[您好，东莞12345]]></Content></xml>".encode()
    assert crypto.decrypt(crypto.encrypt(text)) == text


def test_wrong_app_id_is_refused() -> None:
    other = WeChatCrypto(AES_KEY, "wx0000000000000000")
    with pytest.raises(InvalidAppIdError):
        other.decrypt(SAMPLE_ENCRYPT)


@pytest.mark.parametrize("bad", ["not base64!!", "QUJD", "Zm9v=bar", "===="])
def test_bad_base64_is_refused(crypto: WeChatCrypto, bad: str) -> None:
    with pytest.raises((InvalidBase64Error, InvalidCiphertextError)):
        crypto.decrypt(bad)


def _raw_encrypt(plain: bytes) -> str:
    """AES-CBC with the sample key and *no* padding applied by us."""
    key = decode_aes_key(AES_KEY)
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


@pytest.mark.parametrize("pad", [b"\x00" * 16, b"\x21" * 16, b"\x05\x05\x05\x05\x04"])
def test_wrong_padding_is_refused(crypto: WeChatCrypto, pad: bytes) -> None:
    body = b"1234567890123456" + struct.pack(">I", 4) + b"<x/>" + APP_ID.encode()
    body = body + b"x" * (-(len(body) + len(pad)) % 16) + pad
    with pytest.raises(InvalidPaddingError):
        crypto.decrypt(_raw_encrypt(body))


def test_length_field_out_of_range_is_refused(crypto: WeChatCrypto) -> None:
    body = b"1234567890123456" + struct.pack(">I", 10_000) + b"<x/>" + APP_ID.encode()
    with pytest.raises(InvalidLengthError):
        crypto.decrypt(_raw_encrypt(pkcs7_pad(body)))


def test_pkcs7_uses_32_byte_blocks() -> None:
    assert len(pkcs7_pad(b"a" * 32)) == 64
    assert pkcs7_unpad(pkcs7_pad(b"abc")) == b"abc"


def test_aes_key_must_be_43_chars() -> None:
    with pytest.raises(ValueError):
        WeChatCrypto(AES_KEY[:-1], APP_ID)


# --- XML --------------------------------------------------------------------


def test_parse_flattens_nested_fields() -> None:
    xml = b"<xml><A>1</A><Info><Label><![CDATA[x]]></Label></Info></xml>"
    assert parse_message(xml) == {"A": "1", "Info.Label": "x"}


@pytest.mark.parametrize(
    "xml",
    [
        b'<!DOCTYPE xml [<!ENTITY a "aaaa">]><xml><Content>&a;</Content></xml>',
        b'<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><C>&x;</C></xml>',
        b"<!DOCTYPE xml><xml/>",
        b"<xml><Content>&undefined;</Content></xml>",
        b"<xml><Content>unclosed</xml>",
        b"not xml at all",
        b"<other><A>1</A></other>",
        b"",
    ],
)
def test_unsafe_or_malformed_xml_is_refused(xml: bytes) -> None:
    with pytest.raises(WeChatXmlError):
        parse_message(xml)


def test_extract_encrypt_without_parsing() -> None:
    body = f"<xml><ToUserName>x</ToUserName><Encrypt>{cdata(SAMPLE_ENCRYPT)}</Encrypt></xml>"
    assert extract_encrypt(body.encode()) == SAMPLE_ENCRYPT
    with pytest.raises(WeChatXmlError):
        extract_encrypt(b"<xml><ToUserName>x</ToUserName></xml>")
    with pytest.raises(WeChatXmlError):
        extract_encrypt(b"<xml><Encrypt>a</Encrypt><Encrypt>b</Encrypt></xml>")


def test_cdata_escapes_terminator() -> None:
    xml = render_text_reply("openid", "gh_1", "a]]>b<c>&", 1)
    assert parse_message(xml)["Content"] == "a]]>b<c>&"
