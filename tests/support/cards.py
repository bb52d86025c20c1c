"""A kelurahan desk for card-check tests (issue 19): a central server, a recording kit that
recorded residents (some with a card UID) through the real ``ektp-station`` CLI, the
processor run once, and a card-check station (``station add --verifier``) set up with an
operator. Shared by the CLI and the GUI tests."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.cli import run_server, run_station
from tests.support.office import office_json, person
from tests.support.server import ServerProcess
from tests.support.station import face_jpeg, signature_png

CARD_UID = "04A1B2C3D4E5F6"
OTHER_UID = "04FFEEDDCCBBAA"  # recorded too, for a resident whose record is a duplicate
CLERK, CLERK_PASSWORD = "lurah-ani", "rahasia-ani-123"
NAMA = "WAHYU PRASETYO NUGROHO"


@dataclass
class Desk:
    srv: ServerProcess
    kit_home: Path
    desk_home: Path
    kit_id: str = ""
    desk_id: str = ""
    uuids: dict[str, str] = field(default_factory=dict)  # card UID -> record uuid

    def server(self, *args: str) -> subprocess.CompletedProcess[str]:
        base = [
            "--home",
            str(self.srv.home),
            *(["--db", self.srv.db_url] if self.srv.db_url else []),
        ]
        return run_server(*base, *args)

    def desk(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return run_station("--home", str(self.desk_home), *args, input=input, timeout=120)

    def kit(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return run_station("--home", str(self.kit_home), *args, input=input, timeout=120)

    def check(self, *args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
        return run_station(
            "--home", str(home or self.desk_home),
            "card", "check", "--operator", CLERK, *args,
            input=CLERK_PASSWORD + "\n", timeout=120,
        )  # fmt: skip


def _code(res: subprocess.CompletedProcess[str]) -> tuple[str, str]:
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    return str(doc["station_id"]), str(doc["code"])


def set_up_desk(tmp_path: Path, srv: ServerProcess) -> Desk:
    """Record NAMA with CARD_UID (processed) and the same resident again with OTHER_UID (a
    duplicate), process, and set up the card-check station with its clerk."""
    desk = Desk(srv, tmp_path / "kit", tmp_path / "desk")
    desk.kit_id, code = _code(
        desk.server("station", "add", "--name", "Kit 1", "--kecamatan", "36.03.32", "--json")
    )
    assert desk.kit("provision", "--server", srv.url, "--code", code).returncode == 0
    res = desk.kit(
        "operator", "add", "--username", "siti", "--role", "operator", input="rahasia-siti-123\n"
    )
    assert res.returncode == 0, res.stderr
    photo, signature = tmp_path / "face.jpg", tmp_path / "ttd.png"
    photo.write_bytes(face_jpeg())
    signature.write_bytes(signature_png())
    bio = tmp_path / "bio.json"
    bio.write_text(json.dumps(person(7, nama=NAMA)))
    for uid in (CARD_UID, OTHER_UID):
        res = desk.kit(
            "enroll", "--operator", "siti", "--biodata", str(bio), "--photo", str(photo),
            "--signature", str(signature), "--card-uid", uid, input="rahasia-siti-123\n",
        )  # fmt: skip
        assert res.returncode == 0, res.stderr
        desk.uuids[uid] = res.stdout.strip().splitlines()[-1]
        # One at a time: the first to arrive holds the NIK, the second is its duplicate.
        res = desk.kit("sync", "--once")
        assert res.returncode == 0, res.stderr
    bio.unlink()
    office_json(srv.home, srv.db_url, "process", "--once", "--json")
    _add_desk(desk)
    return desk


def set_up_bare_desk(tmp_path: Path, srv: ServerProcess) -> Desk:
    """Only the card-check station with its clerk (no kit, no records)."""
    desk = Desk(srv, tmp_path / "kit", tmp_path / "desk")
    _add_desk(desk)
    return desk


def _add_desk(desk: Desk) -> None:
    srv = desk.srv
    desk.desk_id, code = _code(
        desk.server(
            "station",
            "add",
            "--verifier",
            "--name",
            "Kelurahan Kemlayan",
            "--kecamatan",
            "36.03.32",
            "--json",
        )  # fmt: skip
    )
    res = desk.desk("provision", "--server", srv.url, "--code", code)
    assert res.returncode == 0, res.stderr
    res = desk.desk(
        "operator", "add", "--username", CLERK, "--role", "operator", input=CLERK_PASSWORD + "\n"
    )
    assert res.returncode == 0, res.stderr
