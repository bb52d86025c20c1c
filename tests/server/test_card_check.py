"""Card check at the kelurahan (issue 19), end to end on one machine: a resident recorded
with a card on a recording kit, processed at the centre; on a card-check station,
``ektp-station card check`` answers whose record the card is, and the lookup is in the
office's audit. An unknown card, a card marked lost, a recording kit refused, a card-check
station that tries to record, a revoked station, the centre offline, bad input. SQLite and
PostgreSQL."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

from app import protocol
from app.cards import CARD_CHECK_PATH
from app.store.fates import receipt_number
from tests.support.cards import (
    CARD_UID,
    CLERK,
    CLERK_PASSWORD,
    NAMA,
    OTHER_UID,
    Desk,
    set_up_bare_desk,
    set_up_desk,
)
from tests.support.cli import run_server
from tests.support.office import person, portrait_jpeg, seal_record, server_args
from tests.support.pcsc import PcscDaemon
from tests.support.server import ServerProcess
from tests.support.server_fixtures import TestStation, sqlite_only


@pytest.fixture
def desk(tmp_path: Path, server: ServerProcess) -> Desk:
    return set_up_desk(tmp_path, server)


def _answer(res: object) -> dict:
    assert res.returncode == 0, res.stderr  # type: ignore[attr-defined]
    return json.loads(res.stdout)  # type: ignore[attr-defined]


@sqlite_only
def test_a_card_linked_at_recording_is_found_after_processing(desk: Desk) -> None:
    got = _answer(desk.check("--uid", CARD_UID.lower(), "--json"))
    assert got["found"] is True
    assert got["fate"] == "processed"
    assert got["record_number"] == receipt_number(desk.uuids[CARD_UID])
    assert got["nama"] == NAMA
    assert got["kecamatan"] == "36.03.32" and got["kecamatan_nama"] == "Gunung Kaler"
    assert got["recorded_at"].startswith("20")
    assert got["photo_bytes"] > 1000
    assert got["card_status"] == "active" and got["uid"] == CARD_UID
    # Only what the clerk needs: no NIK, no address, no biodata beyond the name.
    nik = person(7)["nik"]
    res = desk.check("--uid", CARD_UID, "--json")
    assert nik not in res.stdout and person(7)["alamat"] not in res.stdout

    # The same resident recorded again with another card: that record is the duplicate.
    dup = _answer(desk.check("--uid", OTHER_UID, "--json"))
    assert dup["fate"] == "duplicate" and dup["nama"] == NAMA
    assert dup["record_number"] == receipt_number(desk.uuids[OTHER_UID])

    # Plain output for the clerk.
    res = desk.check("--uid", CARD_UID)
    assert res.returncode == 0, res.stderr
    assert NAMA in res.stdout and "processed" in res.stdout
    assert receipt_number(desk.uuids[CARD_UID]) in res.stdout

    # Every lookup is in the office's audit: who, which station, which card, what was found.
    res = desk.server("card", "lookups", "--uid", CARD_UID, "--json")
    lookups = json.loads(res.stdout)["lookups"]
    assert len(lookups) == 3
    assert {(x["operator"], x["station_id"]) for x in lookups} == {(CLERK, desk.desk_id)}
    assert all(x["detail"].startswith(f"card {CARD_UID}: processed") for x in lookups)
    assert json.loads(desk.server("card", "lookups", "--json").stdout)["count"] == 4
    # ... and on the card-check station's page of the office web site.
    page = _office_page(desk, f"/kit/{desk.desk_id}")
    assert page.count(f"card {CARD_UID}: processed") == 3 and "card_check" in page

    # An unknown card; a card the office marked lost, then replaced, then cleared.
    got = _answer(desk.check("--uid", "0411223344", "--json"))
    assert got == {**got, "found": False, "fate": None, "nama": None, "photo_bytes": None}
    res = desk.check("--uid", "0411223344")
    assert "no record is linked to this card" in res.stdout

    res = desk.server("card", "mark", CARD_UID, "lost", "--by", "kasi-pdip")
    assert res.returncode == 0, res.stderr
    got = _answer(desk.check("--uid", CARD_UID, "--json"))
    assert got["card_status"] == "lost" and got["card_marked_at"]
    assert got["found"] is True and got["nama"] == NAMA  # the clerk compares the photo
    assert "marked lost by the office" in desk.check("--uid", CARD_UID).stdout

    desk.server("card", "mark", CARD_UID, "replaced")
    assert _answer(desk.check("--uid", CARD_UID, "--json"))["card_status"] == "replaced"
    desk.server("card", "mark", CARD_UID, "clear")
    assert _answer(desk.check("--uid", CARD_UID, "--json"))["card_status"] == "active"
    # A lookup of an unknown card is audited too.
    res = desk.server("card", "lookups", "--uid", "0411223344", "--json")
    (entry,) = json.loads(res.stdout)["lookups"][-1:]
    assert entry["detail"] == "card 0411223344: not linked"


def _office_page(desk: Desk, path: str) -> str:
    """``path`` of the office web site, signed in as an office account made for it."""
    res = run_server(
        *server_args(desk.srv.home, desk.srv.db_url), "admin", "add", "--username", "kasi-pdip",
        "--role", "viewer", input="kasi-pdip-12345\n",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    s = requests.Session()
    form = s.get(desk.srv.url + "/masuk", timeout=30).text
    match = re.search(r'name="csrf" value="([^"]+)"', form)
    assert match is not None
    signed = s.post(
        desk.srv.url + "/masuk",
        data={"csrf": match.group(1), "username": "kasi-pdip", "password": "kasi-pdip-12345"},
        timeout=30,
    )
    assert signed.status_code == 200, signed.text[:300]
    page = s.get(desk.srv.url + path, timeout=30)
    assert page.status_code == 200
    return page.text


def _verifier_code(desk: Desk) -> str:
    res = desk.server(
        "station", "add", "--verifier", "--name", "Desk 2", "--kecamatan", "36.03.32", "--json"
    )
    assert res.returncode == 0, res.stderr
    return str(json.loads(res.stdout)["code"])


@sqlite_only
def test_refusals_bad_input_and_the_centre_offline(desk: Desk, server: ServerProcess) -> None:
    res = desk.check("--uid", "not-hex")
    assert (res.returncode, res.stderr.strip()) == (
        2,
        "ektp-station: error: uid: must be 4 to 32 bytes of hex",
    )
    res = desk.desk(
        "card", "check", "--operator", CLERK, "--uid", CARD_UID, input="wrong-password\n"
    )
    assert res.returncode == 2 and "password" in res.stderr
    res = desk.desk("card", "check", "--operator", CLERK, "--uid", CARD_UID, input="\n")
    assert res.returncode == 2 and res.stderr.startswith("ektp-station: error: password:")
    res = desk.check("--uid", CARD_UID, "--wait", "0")
    assert res.returncode == 2 and "wait:" in res.stderr
    # Nothing of those reached the centre.
    assert json.loads(desk.server("card", "lookups", "--json").stdout)["count"] == 0
    res = desk.server("card", "mark", "xyz", "lost")
    assert (res.returncode, res.stderr.strip()) == (
        2,
        "ektp-server: UID: must be 4 to 32 bytes of hex",
    )
    res = desk.server("card", "mark", CARD_UID, "stolen")
    assert res.returncode == 2 and "STATUS: one of lost, replaced, clear" in res.stderr

    # The recording kit, with an operator of its own name, asks: 403 from the centre.
    res = desk.kit(
        "operator", "add", "--username", CLERK, "--role", "operator", input="rahasia-ani-123\n"
    )
    assert res.returncode == 0, res.stderr
    res = desk.check("--uid", CARD_UID, "--json", home=desk.kit_home)
    assert res.returncode == 2, res.stderr
    assert "recording kit, not set up for card checks" in res.stderr
    assert res.stdout == ""
    # No lookup was made for it.
    res = desk.server("card", "lookups", "--station", desk.kit_id, "--json")
    assert json.loads(res.stdout)["count"] == 0

    # A card-check station's packet is refused (both the general and PostgreSQL's fast path).
    verifier = TestStation.enroll(server, code=_verifier_code(desk))
    resp = verifier.put(seal_record(verifier, person(8)))
    assert resp.status_code == 403, resp.text
    assert resp.json()["error"] == "not_a_recorder"
    # Its check is answered, signed, over the signed body.
    body = json.dumps({"uid": CARD_UID, "operator": "x"}).encode()
    resp = verifier.signed("POST", CARD_CHECK_PATH, body)
    assert resp.status_code == 200 and resp.headers.get(protocol.H_SERVER_SIGNATURE)
    assert resp.headers["Cache-Control"] == "no-store"
    # A changed body does not pass the station's signature.
    headers = protocol.sign_request(
        "POST", CARD_CHECK_PATH, body, verifier.station_id, verifier.key
    )
    changed = body.replace(CARD_UID.encode(), b"04000000")
    resp = verifier.session.post(server.url + CARD_CHECK_PATH, data=changed, headers=headers)
    assert resp.status_code == 401

    # Rate limited per station; another station is not held back by it.
    from server.cards import CHECKS_PER_MINUTE

    for _ in range(CHECKS_PER_MINUTE - 1):
        assert verifier.signed("POST", CARD_CHECK_PATH, body).status_code == 200
    resp = verifier.signed("POST", CARD_CHECK_PATH, body)
    assert resp.status_code == 429 and resp.json()["error"] == "rate_limited"
    assert _answer(desk.check("--uid", CARD_UID, "--json"))["found"] is True

    # A revoked station; then the centre offline.
    res = desk.server("station", "revoke", desk.desk_id)
    assert res.returncode == 0, res.stderr
    res = desk.check("--uid", CARD_UID, "--json")
    assert res.returncode == 2 and "revoked" in res.stderr and res.stdout == ""

    desk.srv.stop()
    res = desk.check("--uid", CARD_UID, "--json")
    assert res.returncode == 1, res.stderr
    assert res.stderr.startswith("ektp-station: error: server: the centre did not answer")


@pytest.mark.pcsc
def test_the_card_on_the_reader_and_nothing_on_the_desks_disk(
    tmp_path: Path, pcscd: PcscDaemon
) -> None:
    """The resident's e-KTP on the real PC/SC stack (pcscd + vpcd, a scripted card): the
    command waits for it, reads its UID and checks it; afterwards no file under the card-check
    station's home holds the name or the photo."""
    srv = ServerProcess(tmp_path / "server", None).start()
    try:
        desk = set_up_desk(tmp_path, srv)
        # No card within the wait: exit 1, naming the card.
        res = desk.check("--wait", "1", "--json")
        assert res.returncode == 1, res.stderr
        assert res.stderr.startswith("ektp-station: error: card: no readable card on the reader")

        card = pcscd.card(uid=bytes.fromhex(CARD_UID))
        card.insert()
        got = _answer(desk.check("--json"))
        assert got["uid"] == CARD_UID and got["nama"] == NAMA and got["fate"] == "processed"
        assert got["photo_bytes"] == len(portrait_jpeg())
        res = desk.check()
        assert res.returncode == 0 and NAMA in res.stdout
    finally:
        srv.stop()
    hits = _scan(desk.desk_home, [*NAMA.split(), NAMA.title(), person(7)["nik"]], portrait_jpeg())
    assert hits == []


def _scan(home: Path, words: list[str], photo: bytes) -> list[str]:
    """Files under ``home`` holding any of ``words`` (UTF-8, UTF-16) or a slice of ``photo``."""
    needles = [w.encode() for w in words] + [w.encode("utf-16-le") for w in words]
    needles += [photo[i : i + 48] for i in range(0, len(photo) - 48, len(photo) // 12)]
    files = [f for f in home.rglob("*") if f.is_file()]
    assert files
    return [f"{f}: {n[:16]!r}" for f in files for n in needles if n in f.read_bytes()]


@sqlite_only
def test_the_card_check_station_knows_its_role_and_records_nothing(
    tmp_path: Path, server: ServerProcess
) -> None:
    """The signed GET /station says ``verifier``; the station keeps it at its sync, and from
    then on ``enroll`` refuses in one line (exit 2) before anything is checked or sealed."""
    desk = set_up_bare_desk(tmp_path, server)
    verifier = TestStation.enroll(server, code=_verifier_code(desk))
    resp = verifier.signed("GET", protocol.API_PREFIX + "/station")
    assert resp.status_code == 200 and resp.headers.get(protocol.H_SERVER_SIGNATURE)
    assert resp.json()["verifier"] is True
    kit = TestStation.enroll(server)
    assert kit.signed("GET", protocol.API_PREFIX + "/station").json()["verifier"] is False

    def status() -> dict:
        res = desk.desk("status", "--json")
        assert res.returncode == 0, res.stderr
        return dict(json.loads(res.stdout))

    assert status()["card_check_station"] is False  # not told yet
    res = desk.desk("sync", "--once")
    assert res.returncode == 0, res.stderr
    assert status()["card_check_station"] is True

    photo, bio = tmp_path / "face.jpg", tmp_path / "bio.json"
    photo.write_bytes(portrait_jpeg())
    bio.write_text(json.dumps(person(9)))
    res = desk.desk(
        "enroll", "--operator", CLERK, "--biodata", str(bio), "--photo", str(photo),
        "--card-uid", CARD_UID, input=CLERK_PASSWORD + "\n",
    )  # fmt: skip
    assert (res.returncode, res.stdout) == (2, ""), res.stderr
    assert res.stderr.strip() == (
        "ektp-station: error: station: this is a card-check station (the centre set it up "
        "with --verifier): it records nothing; check cards with `card check`, record on a "
        "recording kit"
    )
    after = status()
    assert after["pending"] == 0 and not any(after["records"].values()), after["records"]
    # Its card checks still work (the role changes nothing there).
    res = desk.check("--uid", CARD_UID, "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["found"] is False


@sqlite_only
def test_card_backfill_links_records_processed_before_the_card_links(desk: Desk) -> None:
    """Records processed before revision 0019 have no card link (made here by removing the
    links the processor wrote): their cards are unknown to a check until ``ektp-server card
    backfill`` opens the packets held and links them; a second run links nothing more."""
    from server.card_tables import card_links
    from server.core import ServerCore

    core = ServerCore(desk.srv.home, desk.srv.db_url)
    try:
        with core.engine.begin() as conn:
            assert conn.execute(card_links.delete()).rowcount == 2
    finally:
        core.engine.dispose()
    assert _answer(desk.check("--uid", CARD_UID, "--json"))["found"] is False

    res = desk.server("card", "backfill", "--json")
    assert res.returncode == 0, res.stderr
    done = json.loads(res.stdout)
    assert done == {
        "scanned": 2,
        "linked": 2,
        "without_card": 0,
        "unreadable": 0,
        "unreadable_first": [],
    }
    got = _answer(desk.check("--uid", CARD_UID, "--json"))
    assert got["found"] is True and got["fate"] == "processed" and got["nama"] == NAMA
    assert _answer(desk.check("--uid", OTHER_UID, "--json"))["fate"] == "duplicate"

    res = desk.server("card", "backfill")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("0 record(s) linked to their card; 0 without a link opened")
