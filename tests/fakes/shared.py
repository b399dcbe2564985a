"""Wrap a database or store shared by several app instances (replicas) in one
test, so that only its own fixture opens and closes it."""

from __future__ import annotations

from typing import Any


class Shared:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def connect(self) -> None:
        return None

    async def close(self) -> None:
        return None
