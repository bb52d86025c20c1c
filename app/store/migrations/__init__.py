"""Alembic migrations of the station store (run by app.store.migrate)."""
