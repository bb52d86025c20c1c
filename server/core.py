"""What the server does, independent of HTTP: stations, enrollment, packets, import.

Both the FastAPI app and the admin CLI call these functions. Every call is one short database
transaction; nothing that matters is kept in process memory, so several processes can serve
one PostgreSQL database.

``ServerCore`` is the one object they hold; each concern is a module of its own, the class
below only puts them together: ``server/home.py`` (the home, the database, the keys, meta),
``server/stations.py`` (stations, codes, assignment, revocation), ``server/enrollment.py``
(redeeming a code), ``server/vouching.py`` (what a relay asks of its upstream),
``server/request_auth.py`` (signed requests, nonces) and ``server/packets.py`` (upload,
import, receipts, reading packets back).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from server.enrollment import CodeProof, Enrollment
from server.errors import InputError, ServiceError
from server.packets import Packets, PutResult
from server.stations import CODE_TTL_S, Station, check_kecamatan
from server.timeutil import iso
from server.vouching import Vouching

# Names the HTTP layer, the CLIs and the tests import from here.
__all__ = [
    "CODE_TTL_S",
    "CodeProof",
    "InputError",
    "PutResult",
    "ServerCore",
    "ServiceError",
    "Station",
    "check_kecamatan",
    "iso",
]


class ServerCore(Packets, Enrollment, Vouching):
    """One server home + one database. Cheap to share between threads."""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True)
