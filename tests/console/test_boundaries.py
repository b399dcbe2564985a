"""The console reaches the hub only through its facade (bot/console/conversations.py,
``ConsoleHub``), and that facade only through the hub's public seam: nothing
under bot/console/ reads a hub's ``router`` or imports the router class (issue 16)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CONSOLE = Path(__file__).resolve().parents[2] / "bot" / "console"
MODULES = sorted(CONSOLE.rglob("*.py"))


def hub_router_reads(source: str) -> list[str]:
    """``<something hub>.router`` expressions and imports of ``Router`` in ``source``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in ("router", "_router"):
            owner = ast.unparse(node.value)
            if owner.endswith("hub") or owner == "self":
                found.append(ast.unparse(node))
        elif isinstance(node, ast.ImportFrom) and node.module == "bot.hub_routing":
            found.extend(f"import {a.name}" for a in node.names if a.name == "Router")
    return found


def test_the_check_finds_a_reach_into_the_router() -> None:
    probe = (
        "from bot.hub_routing import HandleResult, Router\n"
        "hub.router.hooks = 1\nself._router.record()\nconsole.hub.router\napp.router.add_get\n"
    )
    assert sorted(hub_router_reads(probe)) == [
        "console.hub.router", "hub.router", "import Router", "self._router",
    ]  # fmt: skip


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_console_module_reaches_the_hub_router(path: Path) -> None:
    assert hub_router_reads(path.read_text(encoding="utf-8")) == []
