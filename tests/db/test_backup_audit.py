"""A backup is written to the audit log: who ran it, when, to which file."""

from __future__ import annotations

from pathlib import Path

from bot.db import Database
from bot.db.cli import main


async def test_cli_backup_is_audited(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "audited.jsonl.gz"
    url = db.url.sync_url.render_as_string(hide_password=False)
    assert main(["--database-url", url, "backup", str(path)]) == 0
    [entry] = await db.audit.list(action="backup")
    assert entry["actor"].startswith("cli") and entry["target"] == str(path)
    assert entry["detail"]["counts"]["tickets"] == 0 and entry["at"] is not None
