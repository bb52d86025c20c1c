"""ASGI factory for multi-process serving (``uvicorn server.asgi:make_app --factory``).

Each process builds its own ServerCore from the environment; they share the database (use
PostgreSQL) and the sealing key file in the home.
"""

from __future__ import annotations

import os
from typing import Any

from app.paths import server_home
from server.api import create_app
from server.core import ServerCore


def make_app() -> Any:
    core = ServerCore(
        server_home(),
        os.environ.get("EKTP_SERVER_DB") or None,
        max_body=int(os.environ.get("EKTP_SERVER_MAX_BODY") or 0) or None,
    )
    return create_app(
        core,
        max_inflight=int(os.environ.get("EKTP_SERVER_MAX_INFLIGHT") or 64),
        relay_mode=bool(os.environ.get("EKTP_SERVER_RELAY")),
    )
