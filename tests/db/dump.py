"""Every row of every table as text: what a database dump would show; the same
for every key under a Redis prefix."""

from __future__ import annotations

import json
from typing import Any

import redis
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


def redis_dump(url: str, prefix: str) -> tuple[list[str], str]:
    """Every key under ``prefix`` and everything stored in it, as text."""
    client = redis.Redis.from_url(url, decode_responses=True)
    keys: list[str] = []
    parts: list[str] = []
    try:
        for key in client.scan_iter(match=f"{prefix}:*"):
            kind = client.type(key)
            value: Any
            if kind == "string":
                value = client.get(key)
            elif kind == "list":
                value = client.lrange(key, 0, -1)
            elif kind == "hash":
                value = client.hgetall(key)
            elif kind == "set":
                value = sorted(client.smembers(key))
            elif kind == "zset":
                value = client.zrange(key, 0, -1, withscores=True)
            else:
                value = kind
            keys.append(key[len(prefix) + 1 :])
            parts.append(f"{key}={value}")
    finally:
        client.close()
    return sorted(keys), "\n".join(parts)
