"""Alembic environment: always handed a live connection by server.schema."""

from __future__ import annotations

from alembic import context

from server.db import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the server's migrations through server.schema (ServerCore does)")

# render_as_batch: SQLite cannot ALTER most things; batch mode copies the table instead.
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
