"""Key rotation re-encrypts every row so the old key can be dropped."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from bot.db import Database, DataKeyError
from bot.db.cli import main
from bot.db.crypto import Cipher
from bot.db.keys import rotate_keys
from bot.db.schema import tickets
from tests.db.conftest import ticket_args

ID_NUMBER = "11010519491231002X"


async def _raw_tokens(db: Database) -> list[tuple[str | None, ...]]:
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(
                tickets.c.contact_name_enc, tickets.c.contact_phone_enc, tickets.c.id_number_enc
            )
        )
        return [tuple(r) for r in rows]


async def test_rotation_lets_the_old_key_go(db: Database, data_key: str) -> None:
    numbers = []
    for i in range(5):
        ticket, _ = await db.tickets.create(**ticket_args(f"k{i}", id_number=ID_NUMBER))
        numbers.append(ticket.number)
    anonymous, _ = await db.tickets.create(
        **ticket_args("anon", contact_name=None, contact_phone=None, anonymous=True)
    )
    before = await _raw_tokens(db)
    new_key = Fernet.generate_key().decode()
    assert rotate_keys(db.url, Cipher([new_key, data_key])) == 6
    assert all(
        a != b for old, new in zip(before, await _raw_tokens(db)) for a, b in zip(old, new) if a
    )

    only_new = Database(
        db.url.sync_url.render_as_string(hide_password=False), cipher=Cipher([new_key])
    )
    await only_new.connect()
    try:
        ticket = await only_new.tickets.get(numbers[0])
        assert ticket is not None
        assert (ticket.contact_phone, ticket.id_number) == ("13812345678", ID_NUMBER)
        assert (await only_new.tickets.get(anonymous.number)).contact_phone is None  # type: ignore[union-attr]
    finally:
        await only_new.close()


async def test_wrong_key_fails_at_connect(db: Database) -> None:
    await db.tickets.create(**ticket_args())
    stranger = Database(
        db.url.sync_url.render_as_string(hide_password=False),
        cipher=Cipher([Fernet.generate_key().decode()]),
    )
    try:
        with pytest.raises(DataKeyError, match="HOTLINE_DATA_KEYS"):
            await stranger.connect()
    finally:
        await stranger.close()


async def test_cli_rotate_keys(
    db: Database, data_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket, _ = await db.tickets.create(**ticket_args())
    new_key = Fernet.generate_key().decode()
    monkeypatch.setenv("HOTLINE_DATA_KEYS", f"{new_key},{data_key}")
    url = db.url.sync_url.render_as_string(hide_password=False)
    assert main(["--database-url", url, "rotate-keys"]) == 0
    reader = Database(url, cipher=Cipher([new_key]))
    await reader.connect()
    try:
        assert (await reader.tickets.get(ticket.number)).contact_phone == "13812345678"  # type: ignore[union-attr]
    finally:
        await reader.close()
