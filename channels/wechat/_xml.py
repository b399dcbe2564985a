"""Safe reading and writing of WeChat's XML.

Inbound XML is parsed with defusedxml with DTDs forbidden, so a DOCTYPE,
an entity declaration (billion laughs) or an external entity (XXE) is refused
instead of expanded. Replies are built from a fixed template with every
value in an escaped CDATA section.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

# The Encrypt element of an AES-mode body, found *without* an XML parser so the
# msg_signature can be checked before the body is parsed.
_ENCRYPT_RE = re.compile(
    rb"<Encrypt>\s*(?:<!\[CDATA\[(?P<cdata>[^\]<>]*)\]\]>|(?P<plain>[^<>]*))\s*</Encrypt>"
)


class WeChatXmlError(ValueError):
    """XML we refuse to read; ``reason`` is safe to log (never the content)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def extract_encrypt(body: bytes) -> str:
    """The one ``Encrypt`` value of an AES-mode body (not yet trusted)."""
    matches = list(_ENCRYPT_RE.finditer(body))
    if not matches:
        raise WeChatXmlError("missing Encrypt element")
    if len(matches) > 1:
        raise WeChatXmlError("more than one Encrypt element")
    raw = matches[0].group("cdata")
    if raw is None:
        raw = matches[0].group("plain")
    try:
        return raw.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise WeChatXmlError("Encrypt is not ASCII") from exc


def parse_message(body: bytes) -> dict[str, str]:
    """Parse a WeChat ``<xml>`` document into a flat ``{field: text}`` dict.

    Nested fields (e.g. ``SendLocationInfo/Label``) appear as
    ``"SendLocationInfo.Label"``.
    """
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise WeChatXmlError(f"forbidden XML construct ({type(exc).__name__})") from exc
    except (ParseError, ValueError, UnicodeError) as exc:
        raise WeChatXmlError("malformed XML") from exc
    if root.tag != "xml":
        raise WeChatXmlError("root element is not <xml>")
    fields: dict[str, str] = {}
    _flatten(root, "", fields)
    return fields


def _flatten(element: Element, prefix: str, out: dict[str, str]) -> None:
    for child in element:
        name = f"{prefix}{child.tag}"
        if len(child):
            _flatten(child, f"{name}.", out)
        elif name not in out:
            out[name] = child.text or ""


def cdata(value: str) -> str:
    """``value`` as a CDATA section; a literal ``]]>`` is split across two."""
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render_text_reply(to_user: str, from_user: str, content: str, create_time: int) -> bytes:
    """A passive text reply."""
    xml = (
        "<xml>"
        f"<ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(create_time)}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(content)}</Content>"
        "</xml>"
    )
    return xml.encode("utf-8")


def render_encrypted_reply(encrypt: str, msg_signature: str, timestamp: str, nonce: str) -> bytes:
    """The envelope of an encrypted passive reply (safe / compatible mode)."""
    xml = (
        "<xml>"
        f"<Encrypt>{cdata(encrypt)}</Encrypt>"
        f"<MsgSignature>{cdata(msg_signature)}</MsgSignature>"
        f"<TimeStamp>{int(timestamp)}</TimeStamp>"
        f"<Nonce>{cdata(nonce)}</Nonce>"
        "</xml>"
    )
    return xml.encode("utf-8")
