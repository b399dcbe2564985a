"""The two environments meet only over HTTP (README, "Run it"): the app's code
(``bot``, ``channels``, ``actions``, Python 3.13) never imports Rasa, and
``hotline_rasa`` (Rasa's Python 3.10 environment) never imports the app's
code. Read from the source with ``ast``, so a lazy import inside a function
is caught too. (Channel boundaries: tests/channels/test_boundaries.py.)"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ("bot", "channels", "actions")


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module


def test_the_app_never_imports_rasa() -> None:
    bad = [
        f"{path.relative_to(ROOT)}: {name}"
        for folder in APP
        for path in sorted((ROOT / folder).rglob("*.py"))
        for name in _imports(path)
        if name == "rasa" or name.startswith("rasa.")
    ]
    assert bad == []


def test_rasa_side_never_imports_the_app() -> None:
    bad = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted((ROOT / "hotline_rasa").rglob("*.py"))
        for name in _imports(path)
        if name.split(".")[0] in (*APP, "tests")
    ]
    assert bad == []


def test_the_scan_sees_a_lazy_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from rasa.core import agent\n", encoding="utf-8")
    assert list(_imports(module)) == ["rasa.core"]
