"""The server's Alembic migrations (run by server.schema, no alembic.ini)."""
