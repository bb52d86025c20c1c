"""Accounts and settings from the command line once the station has a technician or
supervisor (issue 17): their password is needed, and the audit names them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from app.enrollment import EnrollmentRequest, enroll
from tests.support.pcsc import PcscDaemon
from tests.support.residents import BUDI_LAKI
from tests.support.station import StationHome, face_jpeg, failed_ago, let_retry, make_station

RINA = ("rina", "rina-rahasia-1")  # supervisor
ANDI = ("andi", "andi-rahasia-1")  # technician


def _one_error_line(stderr: str, field: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"error: {field}") or f"{field}:" in lines[0], lines[0]


def _retry_later(st: StationHome, username: str) -> None:
    """As if the delay after the last failed sign-in had passed (the stored time moves)."""
    with st.open() as store:
        let_retry(store, username)


def _audit(st: StationHome, kind: str) -> list[tuple[str, dict]]:
    con = sqlite3.connect(st.home / "station.db")
    rows = con.execute(
        "SELECT actor, detail FROM audit_event WHERE kind = ? ORDER BY id", (kind,)
    ).fetchall()
    con.close()
    return [(a, json.loads(d)) for a, d in rows]


@pytest.fixture
def staffed(tmp_path: Path) -> StationHome:
    """A station with an operator (siti), then a supervisor and a technician."""
    st = make_station(tmp_path)
    r = st.cli("operator", "add", "--username", RINA[0], "--role", "supervisor", input=RINA[1])
    assert r.returncode == 0, r.stderr
    r = st.cli(
        "operator", "add", "--username", ANDI[0], "--role", "technician", "--by", RINA[0],
        input=f"{ANDI[1]}\n{RINA[1]}\n",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    return st


def test_adding_and_settings_need_a_technician_or_supervisor(staffed: StationHome) -> None:
    st = staffed
    # Without --by, with a wrong password, or by a plain operator: refused, nothing written.
    r = st.cli("operator", "add", "--username", "agus", "--role", "operator", input="agus-pw-123\n")
    assert r.returncode == 2
    _one_error_line(r.stderr, "by")
    r = st.cli(
        "operator", "add", "--username", "agus", "--role", "supervisor", "--by", "siti",
        input=f"agus-pw-123\n{st.password}\n",
    )  # fmt: skip
    assert r.returncode == 2
    _one_error_line(r.stderr, "by")
    r = st.cli("settings", "set", "backlog_max_unsent", "0")
    assert r.returncode == 2
    _one_error_line(r.stderr, "by")
    r = st.cli("settings", "set", "backlog_max_unsent", "0", "--by", ANDI[0], input="salah-123\n")
    assert r.returncode == 2
    _one_error_line(r.stderr, "by")
    users = json.loads(st.cli("operator", "list", "--json").stdout)["operators"]
    assert "agus" not in {u["username"] for u in users}
    assert _audit(st, "setting.changed") == []

    _retry_later(st, ANDI[0])  # the wrong password above: its wait has passed
    r = st.cli("settings", "set", "backlog_max_unsent", "50", "--by", ANDI[0], input=ANDI[1])
    assert r.returncode == 0, r.stderr
    assert [a for a, _ in _audit(st, "setting.changed")] == [ANDI[0]]
    r = st.cli(
        "operator", "add", "--username", "agus", "--role", "operator", "--by", ANDI[0],
        input=f"agus-pw-123\n{ANDI[1]}\n",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    added = {d["username"]: a for a, d in _audit(st, "operator.added")}
    assert added == {"siti": "test", RINA[0]: "cli", ANDI[0]: RINA[0], "agus": ANDI[0]}


def test_pointing_the_kit_at_a_server_needs_a_technician(
    staffed: StationHome, tmp_path: Path
) -> None:
    """``provision`` on a staffed station: without a technician or supervisor anyone at the
    keyboard could point the kit at a server of their own, which then names the key every
    later record is sealed to."""
    from tests.support.server import ServerProcess
    from tests.support.server_fixtures import add_station

    st = staffed
    before = st.identity()
    with ServerProcess(tmp_path / "server") as srv:
        code = add_station(srv)
        for by, stdin in ((None, None), ("siti", st.password), (ANDI[0], "salah-123")):
            r = st.cli("provision", "--server", srv.url, "--code", code,
                       *(["--by", by] if by else []), input=stdin)  # fmt: skip
            assert r.returncode == 2, r.stderr
            _one_error_line(r.stderr, "by")
        after = st.identity()
        assert (after.server_url, after.server_public_key) == (
            before.server_url,
            before.server_public_key,
        )
        assert _audit(st, "station.server_updated") == []
        _retry_later(st, ANDI[0])  # the wrong password above: its wait has passed
        r = st.cli("provision", "--server", srv.url, "--code", code, "--by", ANDI[0], input=ANDI[1])
        assert r.returncode == 0, r.stderr
        assert st.identity().server_url == srv.url
        assert [a for a, _ in _audit(st, "station.server_updated")] == [ANDI[0]]


def test_enroll_needs_the_operators_own_password(staffed: StationHome, tmp_path: Path) -> None:
    """Anyone at the keyboard recorded under any operator's name (``enroll --operator U`` asked
    for nothing): the record and the audit trail named someone who was not there."""
    from tests.support.residents import BUDI_LAKI
    from tests.support.station import face_jpeg

    st = staffed
    bio, photo = tmp_path / "bio.json", tmp_path / "face.jpg"
    bio.write_text(json.dumps(BUDI_LAKI))
    photo.write_bytes(face_jpeg())
    args = ("enroll", "--operator", st.operator, "--biodata", str(bio), "--photo", str(photo))
    for stdin in (None, RINA[1] + "\n"):  # nothing, a colleague's password
        r = st.cli(*args, input=stdin)
        assert r.returncode == 2, r.stderr
        _one_error_line(r.stderr, "operator")
        _retry_later(st, st.operator)
    assert _audit(st, "record.sealed") == []
    assert [a for a, _ in _audit(st, "operator.login_failed")] == [st.operator, st.operator]
    r = st.cli(*args, input=st.password + "\n")
    assert r.returncode == 0, r.stderr
    assert [a for a, _ in _audit(st, "record.sealed")] == [st.operator]


def test_requeue_needs_a_technician(staffed: StationHome) -> None:
    """The queue screen offers "Kirim ulang" to a technician only; the command line offered
    it to anyone at the keyboard."""
    st = staffed
    r = st.cli("requeue", "--all")
    assert r.returncode == 2
    _one_error_line(r.stderr, "by")
    r = st.cli("requeue", "--all", "--by", "siti", input=st.password + "\n")
    assert r.returncode == 2
    _one_error_line(r.stderr, "by")
    r = st.cli("requeue", "--all", "--json", "--by", ANDI[0], input=ANDI[1] + "\n")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"requeued": [], "count": 0}


def test_export_names_the_person(tmp_path: Path) -> None:
    """The queue screen's export is audited under the person signed in; the command line's
    was audited as ``cli``. Once the station has an operator, ``export`` wants ``--by U``
    (any role) and U's password, and the audit names U."""
    st = make_station(tmp_path)  # one operator (siti), no technician or supervisor
    with st.open() as store:
        enroll(store, EnrollmentRequest(st.operator, BUDI_LAKI, face_jpeg()))
    out = tmp_path / "usb"
    r = st.cli("export", "--to", str(out))
    assert r.returncode == 2
    _one_error_line(r.stderr, "by")
    r = st.cli("export", "--to", str(out), "--by", st.operator, input="not-her-password\n")
    assert r.returncode == 2
    _one_error_line(r.stderr, "by")
    assert not out.exists() and _audit(st, "records.exported") == []
    _retry_later(st, st.operator)
    r = st.cli("export", "--to", str(out), "--by", st.operator, input=st.password + "\n")
    assert r.returncode == 0, r.stderr
    assert [a for a, _ in _audit(st, "records.exported")] == [st.operator]


def test_a_failed_password_delays_the_next_try_in_the_next_run(tmp_path: Path) -> None:
    """The delay after a failed sign-in is kept in the station database: a new process (each
    command is one) waits too, and the line says how long."""
    st = make_station(tmp_path)
    with st.open() as store:
        enroll(store, EnrollmentRequest(st.operator, BUDI_LAKI, face_jpeg()))
    out = tmp_path / "usb"
    args = ("export", "--to", str(out), "--by", st.operator)
    r = st.cli(*args, input="not-her-password\n")
    assert r.returncode == 2
    _one_error_line(r.stderr, "by")
    assert "wrong" in r.stderr
    with st.open() as store:
        failed_ago(store, st.operator, -60)  # the delay has not passed, however slow the run
    r = st.cli(*args, input=st.password + "\n")
    assert r.returncode == 2
    _one_error_line(r.stderr, "by")
    assert "1 failed sign-in(s) in a row; wait 1 s before trying again" in r.stderr, r.stderr
    assert not out.exists()
    _retry_later(st, st.operator)
    r = st.cli(*args, input=st.password + "\n")
    assert r.returncode == 0, r.stderr


def test_disable_password_reset_and_unlock(staffed: StationHome) -> None:
    st = staffed
    r = st.cli("operator", "disable", "--username", "siti", "--by", ANDI[0], input=ANDI[1])
    assert r.returncode == 0, r.stderr
    users = {
        u["username"]: u
        for u in json.loads(st.cli("operator", "list", "--json").stdout)["operators"]
    }
    assert users["siti"]["active"] is False
    assert _audit(st, "operator.deactivated") == [(ANDI[0], {"username": "siti"})]
    r = st.cli("operator", "enable", "--username", "siti", "--by", ANDI[0], input=ANDI[1])
    assert r.returncode == 0, r.stderr

    # A password reset is a supervisor's: a technician is refused.
    r = st.cli(
        "operator", "password", "--username", "siti", "--by", ANDI[0],
        input=f"siti-baru-456\n{ANDI[1]}\n",
    )  # fmt: skip
    assert r.returncode == 2
    _one_error_line(r.stderr, "by")
    r = st.cli(
        "operator", "password", "--username", "siti", "--by", RINA[0],
        input=f"siti-baru-456\n{RINA[1]}\n",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert _audit(st, "operator.password_reset") == [(RINA[0], {"username": "siti"})]

    # Wrong passwords given as --by lock that account too; another one unlocks it.
    for _ in range(5):
        r = st.cli("operator", "unlock", "--username", "siti", "--by", ANDI[0], input="x" * 9)
        assert r.returncode == 2
        _retry_later(st, ANDI[0])
    r = st.cli("operator", "unlock", "--username", "siti", "--by", ANDI[0], input=ANDI[1])
    assert r.returncode == 2
    _one_error_line(r.stderr, "by")
    assert "locked" in r.stderr
    users = {
        u["username"]: u
        for u in json.loads(st.cli("operator", "list", "--json").stdout)["operators"]
    }
    assert users[ANDI[0]]["locked"] is True
    r = st.cli("operator", "unlock", "--username", ANDI[0], "--by", RINA[0], input=RINA[1])
    assert r.returncode == 0, r.stderr
    assert _audit(st, "operator.unlocked") == [(RINA[0], {"username": ANDI[0], "was_locked": True})]


def test_card_bound_from_the_command_line_and_unbound(staffed: StationHome) -> None:
    st = staffed
    r = st.cli(
        "operator", "card", "--username", "siti", "--uid", "04A1B2C3D4", "--by", ANDI[0],
        input=f"12ab\n{ANDI[1]}\n",
    )  # fmt: skip
    assert r.returncode == 2
    _one_error_line(r.stderr, "pin")
    r = st.cli(
        "operator", "card", "--username", "siti", "--uid", "04A1B2C3D4", "--by", ANDI[0],
        input=f"2468\n{ANDI[1]}\n",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert _audit(st, "operator.card_bound") == [(ANDI[0], {"username": "siti"})]
    r = st.cli("operator", "card", "--username", "siti", "--unbind", "--by", RINA[0], input=RINA[1])
    assert r.returncode == 0, r.stderr
    assert _audit(st, "operator.card_unbound") == [(RINA[0], {"username": "siti", "had": True})]


@pytest.mark.pcsc
def test_card_read_on_the_reader(tmp_path: Path, pcscd: PcscDaemon) -> None:
    st = make_station(tmp_path)
    r = st.cli("operator", "card", "--username", "siti", input="2468\n")
    assert r.returncode == 2
    _one_error_line(r.stderr, "card")
    pcscd.card(uid=bytes.fromhex("04E7A11D")).insert()
    pcscd.wait_card(present=True)
    r = st.cli("operator", "card", "--username", "siti", input="2468\n")
    assert r.returncode == 0, r.stderr
    assert "04E7A11D" in r.stdout
    from app.store.operators import verify_card

    with st.open() as store:
        assert verify_card(store, "04E7A11D", "2468").username == "siti"
