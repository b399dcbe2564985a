"""Every row of every table as text: what a database dump would show."""

from __future__ import annotations

import json

import sqlalchemy as sa

from bot.db import Database
from bot.db.schema import ALL_TABLES

PHONE = "13812345678"
ID_NUMBER = "11010519491231002X"
CARD = "6222021234567890123"
SECRETS = (PHONE, ID_NUMBER, CARD, "138 1234 5678", "1381234", "19491231")


async def dump_text(db: Database) -> str:
    """All tables, all columns, JSON included, as one string."""
    parts: list[str] = []
    async with db.read() as conn:
        for table in ALL_TABLES:
            for row in (await conn.execute(sa.select(table))).all():
                parts.append(json.dumps(dict(row._mapping), ensure_ascii=False, default=str))
    return "\n".join(parts)


def assert_no_plaintext(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} is stored in plaintext"
