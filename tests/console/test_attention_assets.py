"""The desk's attention assets (issue 20): the chime is the generator's output
and is served as audio; the shortcut table the page uses is the documented
one. The behaviour itself is tested in the browser
(tests/browser/test_console_attention.py)."""

from __future__ import annotations

import importlib.util
import io
import json
import re
import struct
import wave
from types import ModuleType

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.config import ROOT
from bot.console.static import STATIC_DIR, add_static_routes

SHORTCUTS_JS = STATIC_DIR / "shortcuts.js"
DOC = ROOT / "docs" / "console-desk.md"


def make_chime() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_chime", ROOT / "scripts" / "make_chime.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_chime_is_the_generators_output_and_audible() -> None:
    committed = (STATIC_DIR / "chime.wav").read_bytes()
    assert committed == make_chime().chime(), "run scripts/make_chime.py"
    with wave.open(io.BytesIO(committed)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 16000)
        frames = wav.readframes(wav.getnframes())
        seconds = wav.getnframes() / wav.getframerate()
    assert 0.3 <= seconds <= 1.0
    samples = struct.unpack(f"<{len(frames) // 2}h", frames)
    loudest = max(abs(s) for s in samples) / 32767
    assert 0.05 < loudest <= 0.5  # heard, never startling
    assert abs(samples[0]) < 200 and abs(samples[-1]) < 200  # no click at either end


async def test_the_chime_is_served_as_audio() -> None:
    app = web.Application()
    add_static_routes(app)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        resp = await client.get("/console/static/chime.wav")
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "audio/wav"
        assert await resp.read() == (STATIC_DIR / "chime.wav").read_bytes()
        assert (await client.get("/console/static/chime.mp3")).status == 404
        assert (await client.get("/console/static/..%2Fchime.wav")).status == 404


def js_table() -> list[tuple[list[str], str]]:
    source = SHORTCUTS_JS.read_text(encoding="utf-8")
    rows = re.findall(r'keys: (\[[^\]]*\]), text: ("(?:[^"\\]|\\.)*")', source)
    return [(json.loads(keys), json.loads(text)) for keys, text in rows]


def doc_table() -> list[tuple[list[str], str]]:
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`"):
            rows.append((re.findall(r"`([^`]+)`", cells[0]), cells[1]))
    return rows


def test_the_help_sheet_and_the_documentation_list_the_same_keys() -> None:
    table = js_table()
    assert len(table) >= 12  # next, claim, canned search, send, close and the rest
    actions = re.findall(r'\{ action: "(\w+)"', SHORTCUTS_JS.read_text(encoding="utf-8"))
    assert {"nextUnread", "claim", "canned", "send", "close", "help"} <= set(actions)
    assert len(actions) == len(table)
    assert doc_table() == table


def test_the_console_page_loads_the_desk_scripts_in_order() -> None:
    page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    scripts = re.findall(r'<script src="/console/static/([\w-]+\.js)" defer></script>', page)
    assert scripts == ["attention.js", "shortcuts.js", "console.js"]
    assert "<script>" not in page  # the page's CSP allows no inline script
    for element in ("btn-mute", "btn-notify", "btn-shortcuts", "shortcuts-list", "canned-search"):
        assert f'id="{element}"' in page
