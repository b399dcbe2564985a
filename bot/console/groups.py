"""Agent groups (坐席组): the desks a conversation can be transferred to.

Groups are configuration, ``data/agent_groups.yml`` (a list of ``{key, name,
department?, members: [usernames]}``), re-read when the file changes, like
the canned replies' seed. Every replica reads the same file, so all agree on
who belongs where without a table; a membership change is a reviewed change
of the file.

A conversation transferred to a group waits in the one handoff queue (its
order, head starts and place notices are unchanged) marked with the group's
key; agents see and may claim only the entries of their own groups and the
entries of no group; supervisors see and may claim every entry.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot import config

log = logging.getLogger(__name__)

DEFAULT_PATH = config.ROOT / "data" / "agent_groups.yml"
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class Group:
    key: str
    name: str
    members: frozenset[str]
    department: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "department": self.department,
            "members": sorted(self.members),
        }


class AgentGroups:
    """The groups of ``path``; an unreadable or bad file leaves no groups (logged)."""

    def __init__(self, path: Path = DEFAULT_PATH) -> None:
        self.path = path
        self._mtime: float | None = None
        self._groups: dict[str, Group] = {}

    def all(self) -> list[Group]:
        try:
            mtime = self.path.stat().st_mtime
        except OSError:
            return []
        if mtime != self._mtime:
            self._groups = self._load()
            self._mtime = mtime
        return list(self._groups.values())

    def get(self, key: str) -> Group | None:
        return next((g for g in self.all() if g.key == key), None)

    def of(self, username: str) -> list[Group]:
        """The groups ``username`` belongs to."""
        return [g for g in self.all() if username in g.members]

    def visible(self, username: str, role: str) -> frozenset[str] | None:
        """The group keys whose entries ``username`` sees; None: every entry (supervisors)."""
        if role == "supervisor":
            return None
        return frozenset(g.key for g in self.of(username))

    def may_claim(self, username: str, role: str, group: str) -> bool:
        """Whether the user may serve an entry waiting for ``group`` ("" = any agent)."""
        seen = self.visible(username, role)
        return not group or seen is None or group in seen

    def _load(self) -> dict[str, Group]:
        try:
            data: Any = yaml.safe_load(self.path.read_text(encoding="utf-8")) or []
        except (OSError, yaml.YAMLError) as exc:
            log.error("agent groups not loaded: %s", type(exc).__name__)
            return {}
        groups: dict[str, Group] = {}
        for entry in data if isinstance(data, list) else []:
            if not isinstance(entry, dict):
                continue
            key, name = str(entry.get("key") or ""), str(entry.get("name") or "").strip()
            members = entry.get("members") or []
            if not _KEY.match(key) or not name or key in groups or not isinstance(members, list):
                log.error("agent group entry skipped (bad key, name or members): %r", key)
                continue
            department = entry.get("department")
            groups[key] = Group(
                key=key, name=name[:30], members=frozenset(str(m) for m in members),
                department=str(department) if department else None,
            )  # fmt: skip
        return groups
