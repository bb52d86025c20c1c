"""After sealing, no personal data exists in clear anywhere under the station's home.

Records for made-up residents are sealed through the real CLI and in-process (so the WAL and
shared-memory files exist during the scan); then every file under the home (and the mirror
and export directories) is searched for each resident's NIK, names, address and the photo
and signature bytes, in UTF-8 and UTF-16. Zero hits. The server side then opens every packet
with its private key and gets the exact biodata and photo back.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

from app import packet
from app.capture.photo import accept_photo
from app.domain.biodata import validate_biodata
from app.enrollment import EnrollmentRequest, enroll
from app.store.settings import set_setting
from tests.support.pii import needles, scan
from tests.support.residents import BUDI_LAKI, RATNA_PEREMPUAN, resident
from tests.support.station import face_jpeg, make_station, signature_png

DEWI = resident(
    RATNA_PEREMPUAN,
    nik="3603324505980003",
    nama="DEWI LESTARI PRAMUDITHA",
    tanggal_lahir="1998-05-05",
    alamat="GG. MANGGA DUA NO. 41",
    kode_wilayah="36.03.32.2001",
)
RESIDENTS = [BUDI_LAKI, RATNA_PEREMPUAN, DEWI]


def test_nothing_in_clear_and_the_server_gets_everything_back(tmp_path: Path) -> None:
    st = make_station(tmp_path)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    with st.open() as store:
        set_setting(store, "mirror_dir", str(mirror), actor="tech")
    photo = face_jpeg()
    accepted = accept_photo(photo).jpeg
    sig = signature_png()
    (tmp_path / "face.jpg").write_bytes(photo)
    (tmp_path / "sig.png").write_bytes(sig)
    uuids = []
    for i, person in enumerate(RESIDENTS[:2]):
        bio = tmp_path / f"bio{i}.json"
        bio.write_text(json.dumps(person))
        r = st.cli(
            "enroll", "--operator", "siti", "--biodata", str(bio),
            "--photo", str(tmp_path / "face.jpg"), "--signature", str(tmp_path / "sig.png"),
            input=st.password + "\n",
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        uuids.append(r.stdout.strip())
        bio.unlink()  # the input file is the operator's; it is not under the home anyway
    r = st.cli(
        "export", "--to", str(tmp_path / "export"), "--by", st.operator, input=st.password + "\n"
    )
    assert r.returncode == 0, r.stderr
    for cmd in (["status", "--json"], ["doctor", "--json"]):
        assert st.cli(*cmd).returncode == 0

    wanted = needles(RESIDENTS, [photo, accepted, sig])
    roots = [st.home, mirror, tmp_path / "export"]
    with st.open() as store:
        res = enroll(
            store,
            EnrollmentRequest("siti", DEWI, photo, signature_png=sig),
            today=date(2026, 11, 23),
        )
        uuids.append(res.uuid)
        names = {p.name for p in st.home.iterdir()}
        assert {"station.db", "station.db-wal", "station.db-shm"} <= names  # scanned while open
        assert scan(roots, wanted) == []
    assert scan(roots, wanted) == []

    # The server side: the private key opens every packet, exactly.
    con = sqlite3.connect(st.home / "station.db")
    rows = dict(con.execute("SELECT uuid, packet FROM record").fetchall())
    con.close()
    signer = st.identity().signing_key.public_key()
    for uuid, person in zip(uuids, RESIDENTS, strict=True):
        opened = packet.open_packet(rows[uuid], st.server_key, signer)
        expected = validate_biodata(person, today=date(2026, 11, 23)).biodata
        assert expected is not None
        assert opened.manifest["biodata"] == json.loads(json.dumps(expected.to_dict()))
        for key in ("nik", "nama", "alamat", "tanggal_lahir", "kode_wilayah"):
            assert opened.manifest["biodata"][key] == person[key]
        assert opened.attachments["face.jpg"].data == accepted
        assert opened.attachments["signature.png"].data == sig
        assert (mirror / f"{uuid}.ektp").read_bytes() == rows[uuid]
