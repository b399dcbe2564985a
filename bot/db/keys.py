"""Key rotation: re-encrypt every stored personal field with the current key.

Procedure: put a new key first in ``HOTLINE_DATA_KEYS`` (keep the old ones
after it) on every process and restart them, run
``python -m bot.db rotate-keys``, then remove the old keys.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from bot.db.crypto import Cipher
from bot.db.engine import DatabaseUrl, create_sync
from bot.db.schema import tickets

log = logging.getLogger(__name__)

ENCRYPTED_COLUMNS = ("contact_name_enc", "contact_phone_enc", "id_number_enc")
_BATCH = 200


def rotate_keys(url: DatabaseUrl, cipher: Cipher) -> int:
    """Re-encrypt all tickets' personal data with ``cipher``'s first key.

    Works in batches of short transactions so the services keep running;
    returns the number of tickets rewritten.
    """
    engine = create_sync(url)
    done, last_id = 0, 0
    columns = [tickets.c[name] for name in ENCRYPTED_COLUMNS]
    try:
        while True:
            with engine.begin() as conn:
                rows = conn.execute(
                    sa.select(tickets.c.id, *columns)
                    .where(tickets.c.id > last_id)
                    .order_by(tickets.c.id)
                    .limit(_BATCH)
                ).all()
                for row in rows:
                    values = {name: cipher.rotate(getattr(row, name)) for name in ENCRYPTED_COLUMNS}
                    conn.execute(tickets.update().where(tickets.c.id == row.id).values(**values))
            if not rows:
                break
            done += len(rows)
            last_id = rows[-1].id
    finally:
        engine.dispose()
    log.info("re-encrypted the personal data of %d tickets", done)
    return done
