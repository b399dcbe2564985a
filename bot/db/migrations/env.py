"""Alembic environment: runs on the connection that ``bot.db.migrate`` passes in.

Migrations are run programmatically (``python -m bot.db migrate`` or
``Database.connect()``), inside a transaction that also holds the migration
lock, so there is no alembic.ini and no URL here.
"""

from __future__ import annotations

from alembic import context

from bot.db.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through bot.db: .venv/bin/python -m bot.db migrate")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
