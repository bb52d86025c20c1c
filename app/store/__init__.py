"""The station's durable local store (SQLAlchemy 2 on SQLite; see docs/store.md)."""

from app.store.db import Store, open_store
from app.store.errors import AlreadyInitialized, NotInitialized, StorageError, StoreError

__all__ = [
    "AlreadyInitialized",
    "NotInitialized",
    "StorageError",
    "Store",
    "StoreError",
    "open_store",
]
