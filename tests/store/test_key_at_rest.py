"""The station's signing key at rest (issue 17): wrapped in the database, unwrapped only
with the 0600 key file beside it (DPAPI on Windows); a copied database cannot sign."""

from __future__ import annotations

import json
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from app.store.db import make_engine, open_store
from app.store.keystore import KEY_FILE, KeyMaterialMissing
from app.store.migrate import upgrade_to
from app.store.station import get_identity
from tests.support.residents import BUDI_LAKI
from tests.support.station import StationHome, face_jpeg, make_station


def _raw_key(station: StationHome) -> bytes:
    return station.identity().signing_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def _copy_db(station: StationHome, to: Path) -> Path:
    with station.open() as store, store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    to.mkdir()
    shutil.copy2(station.home / "station.db", to / "station.db")
    return to


def test_the_key_is_not_in_the_database_in_clear(station: StationHome) -> None:
    raw = _raw_key(station)
    with station.open() as store, store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    data = (station.home / "station.db").read_bytes()
    assert b"PRIVATE KEY" not in data and raw not in data
    key_file = station.home / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert raw not in key_file.read_bytes()


def test_a_copied_database_cannot_sign(station: StationHome, tmp_path: Path) -> None:
    thief = _copy_db(station, tmp_path / "thief")
    with open_store(thief) as store, pytest.raises(KeyMaterialMissing, match="missing"):
        get_identity(store)
    # Another station's key file does not open it either.
    other = make_station(tmp_path / "other")
    shutil.copy2(other.home / KEY_FILE, thief / KEY_FILE)
    with open_store(thief) as store, pytest.raises(KeyMaterialMissing, match="not the key file"):
        get_identity(store)
    # The command line says so in one line, and seals nothing; doctor names it.
    (thief / KEY_FILE).unlink()
    bio = tmp_path / "bio.json"
    bio.write_text(json.dumps(BUDI_LAKI))
    photo = tmp_path / "face.jpg"
    photo.write_bytes(face_jpeg())
    thief_home = StationHome(thief, station.server_key, station.server_key_file, "siti", "")
    r = thief_home.cli(
        "enroll", "--operator", station.operator, "--biodata", str(bio), "--photo", str(photo),
        input=station.password + "\n",
    )  # fmt: skip
    assert r.returncode == 1, r.stderr
    assert r.stderr.strip().splitlines() == [r.stderr.strip()] and "station key:" in r.stderr
    con = sqlite3.connect(thief / "station.db")
    assert con.execute("SELECT count(*) FROM record").fetchone()[0] == 0
    con.close()
    r = thief_home.cli("doctor", "--json")
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    checks = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
    assert checks["station"]["status"] == "fail"
    assert "station key:" in checks["station"]["message"]
    # With the station's own file back, it signs again.
    shutil.copy2(station.home / KEY_FILE, thief / KEY_FILE)
    with open_store(thief) as store:
        identity = get_identity(store)
    assert identity is not None and identity.station_id == station.identity().station_id


def test_a_key_stored_in_clear_by_an_older_version_is_wrapped(
    station: StationHome, tmp_path: Path
) -> None:
    raw = _raw_key(station)
    pem = station.identity().signing_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    from app.store.migrate import downgrade_to

    with station.open() as store:
        downgrade_to(store.engine, "0006")
    con = sqlite3.connect(station.home / "station.db")
    assert con.execute("SELECT signing_key_pem FROM station").fetchone()[0] == pem
    con.close()
    engine = make_engine(station.home / "station.db")
    upgrade_to(engine, "head")
    engine.dispose()
    con = sqlite3.connect(station.home / "station.db")
    (stored,) = con.execute("SELECT signing_key_pem FROM station").fetchone()
    con.close()
    assert b"PRIVATE KEY" not in stored and raw not in stored
    assert _raw_key(station) == raw
