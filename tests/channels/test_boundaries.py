"""Channels reach the core only through its narrow interfaces.

No module under channels/ imports the hub, the hub's routing, the console,
the tickets, the database or another channel package: a channel gets an
:class:`~bot.inbound.InboundPort` and its settings (issue 16). The
registry (channels/registry.py) builds the channels and may name them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CHANNELS = Path(__file__).resolve().parents[2] / "channels"
PACKAGES = ("rest", "telegram", "webchat", "wechat")

#: The core modules a channel may import: its interfaces and small utilities.
ALLOWED_CORE = {
    "bot",  # ``from bot import config``
    "bot.aio",
    "bot.bearer",
    "bot.config",
    "bot.going_away",
    "bot.inbound",
    "bot.messages",
    "bot.netaddr",
    "bot.store.base",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _package_of(path: Path) -> str:
    """``wechat`` for channels/wechat/_api.py, ``rest`` for channels/rest.py."""
    relative = path.relative_to(CHANNELS)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


CHANNEL_MODULES = sorted(p for p in CHANNELS.rglob("*.py") if _package_of(p) in PACKAGES)


@pytest.mark.parametrize("path", CHANNEL_MODULES, ids=lambda p: str(p.relative_to(CHANNELS)))
def test_a_channel_imports_only_core_interfaces_and_itself(path: Path) -> None:
    own = _package_of(path)
    for name in _imports(path):
        if name.startswith("bot"):
            assert name in ALLOWED_CORE, f"{path.name} imports {name}"
        elif name == "channels" or name.startswith("channels."):
            target = name.split(".")[1] if "." in name else ""
            assert target in ("base", own), f"{path.name} imports {name}"


def test_every_channel_package_is_checked() -> None:
    assert {_package_of(p) for p in CHANNEL_MODULES} == set(PACKAGES)
