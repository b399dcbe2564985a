"""Canned replies for agents, from ``data/canned_replies.yml``.

The file is a small list edited by the hotline's supervisors
(``- {title: 问候, text: ...}``); it is re-read when it changes.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml

from bot import config

log = logging.getLogger(__name__)

DEFAULT_PATH = config.ROOT / "data" / "canned_replies.yml"


class CannedReplies:
    def __init__(self, path: Path = DEFAULT_PATH) -> None:
        self.path = path
        self._mtime: float | None = None
        self._items: list[dict[str, str]] = []

    def items(self) -> list[dict[str, str]]:
        try:
            mtime = self.path.stat().st_mtime
        except OSError:
            return []
        if mtime != self._mtime:
            self._items = self._load()
            self._mtime = mtime
        return list(self._items)

    def _load(self) -> list[dict[str, str]]:
        try:
            data: Any = yaml.safe_load(self.path.read_text(encoding="utf-8")) or []
        except (OSError, yaml.YAMLError) as exc:
            log.error("canned replies not loaded: %s", type(exc).__name__)
            return []
        items = []
        for entry in data if isinstance(data, list) else []:
            if isinstance(entry, dict) and entry.get("title") and entry.get("text"):
                items.append({"title": str(entry["title"])[:20], "text": str(entry["text"])[:2000]})
        return items
