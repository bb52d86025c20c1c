"""A small reconnect storm (bench/storm.py; the full one is ``bench/run.py --only storm``).

300 kits, each a real station registered on the server with its own key and a backlog of two
sealed packets, reconnect within one second to ``serve --workers 2`` on PostgreSQL with a
small in-flight limit, and follow the station's retry rules. The server sheds what it cannot
take at once with 503 and a Retry-After spread over a window; every record ends up stored
exactly once with the bytes the kit sent, and no kit sees anything but 201/200 or 503.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.storm import fill_backlogs, register_kits, run_storm, stored
from server.core import ServerCore
from tests.support.server import PostgresCluster, ServerProcess

pytestmark = pytest.mark.postgres

KITS = 300
RECORDS = 2
KECAMATAN = "36.03.32"


def test_a_reconnect_storm_is_shed_and_drained(tmp_path: Path, pg_cluster: PostgresCluster) -> None:
    url = pg_cluster.create_database()
    extra = ["--workers", "2", "--max-inflight", "4", "--overload-retry-after", "3"]
    with ServerProcess(tmp_path / "server", url, extra=extra) as srv:
        core = ServerCore(srv.home, url)
        try:
            kits = register_kits(core, KITS, KECAMATAN)
            fill_backlogs(kits, core.sealing_public_key(), KECAMATAN, RECORDS, 8_000)
        finally:
            core.close()
        storm = run_storm(kits, srv.port, spread_s=1.0)

    assert storm.unexpected == [] and storm.bad_receipts == 0
    assert set(storm.status) <= {200, 201, 503}, storm.status
    # The server shed load: 503s, each with a Retry-After, and not all the same one.
    assert storm.status[503] > 0
    assert "" not in storm.retry_after and len(storm.retry_after) > 1, storm.retry_after
    # Every kit drained; every record stored once, with the bytes sent.
    assert len(storm.drains_s) == KITS
    assert storm.accepted >= KITS * RECORDS and storm.duplicates == 0
    assert stored(url, kits) == (KITS * RECORDS, KITS * RECORDS)
