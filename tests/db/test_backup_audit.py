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


async def test_cli_restore_is_audited_in_the_restored_log(db: Database, tmp_path: Path) -> None:
    """A forced restore replaces the audit log with the backup's: the ``restore``
    record is written after it, so it is there afterwards."""
    path = tmp_path / "to-restore.jsonl.gz"
    url = db.url.sync_url.render_as_string(hide_password=False)
    await db.audit.record("alice", "sign_in")
    assert main(["--database-url", url, "backup", str(path)]) == 0
    await db.audit.record("bob", "sign_in")  # after the backup: gone after the restore
    assert main(["--database-url", url, "restore", "--force", str(path)]) == 0
    [entry] = await db.audit.list(action="restore")
    assert entry["actor"].startswith("cli") and entry["target"] == str(path)
    assert entry["detail"]["force"] is True and entry["detail"]["counts"]["audit_log"] == 1
    assert [r["action"] for r in await db.audit.list()] == ["restore", "sign_in"]
