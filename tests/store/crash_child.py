"""The code path of ``ektp-station enroll``, in a loop, for the kill -9 test.

Run in children forked from a preloaded fork server (so each start costs milliseconds, not
the ~1 s of importing OpenCV, SQLAlchemy and the region tables). After each enroll()
returns, i.e. after the commit, the child appends the UUID to its output file in one
write(2) - the same moment the CLI prints it.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from app.enrollment import EnrollmentRequest, enroll
from app.store.db import open_store
from tests.support.residents import BUDI_LAKI

PRELOAD = [
    "app.enrollment",
    "app.capture.photo",
    "app.domain.biodata",
    "app.store.db",
    "app.store.migrate",
    "sqlalchemy.dialects.sqlite",
    "tests.store.crash_child",
]


def enroll_loop(home: str, out: str, photo: bytes, signature: bytes, limit: int) -> None:
    fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    store = open_store(Path(home))
    for _ in range(limit):
        result = enroll(
            store,
            EnrollmentRequest("siti", BUDI_LAKI, photo, signature_png=signature),
            today=date(2026, 11, 23),
        )
        os.write(fd, f"{result.uuid}\n".encode())
    store.close()


def _warm_up() -> None:
    """Load the lazily loaded data (region tables, face cascade) once. Runs when the fork
    server imports this module (PRELOAD), so every forked child starts with it in memory."""
    from app.capture.photo import accept_photo
    from app.domain import regions
    from tests.support.station import face_jpeg

    regions.get("36.03.32.2001")
    accept_photo(face_jpeg())


_warm_up()
