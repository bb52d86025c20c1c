"""Operators: argon2 hashes, roles, card + PIN, failures audited."""

from __future__ import annotations

import sqlite3

import pytest

from app.store.audit import verify_chain
from app.store.operators import (
    AuthenticationFailed,
    OperatorError,
    add_operator,
    bind_card,
    set_active,
    verify_card,
    verify_password,
)
from tests.support.station import StationHome, let_retry


def test_password_login_and_hash_at_rest(station: StationHome) -> None:
    with station.open() as store:
        info = verify_password(store, "siti", station.password)
        assert info.role == "operator"
        with pytest.raises(AuthenticationFailed):
            verify_password(store, "siti", "wrong-password")
        with pytest.raises(AuthenticationFailed):
            verify_password(store, "nobody", station.password)
        set_active(store, "siti", False, actor="sup")
        let_retry(store, "siti")
        with pytest.raises(AuthenticationFailed):
            verify_password(store, "siti", station.password)
        assert verify_chain(store).ok
    con = sqlite3.connect(station.home / "station.db")
    (h,) = con.execute("SELECT password_hash FROM operator WHERE username='siti'").fetchone()
    kinds = [k for (k,) in con.execute("SELECT kind FROM audit_event")]
    con.close()
    assert h.startswith("$argon2id$") and station.password not in h
    assert kinds.count("operator.login_failed") == 3  # failures survive the rollback


@pytest.mark.parametrize(
    ("username", "role", "password", "field"),
    [
        ("Bad Name", "operator", "long-enough-pw", "username"),
        ("budi", "admin", "long-enough-pw", "role"),
        ("budi", "operator", "short", "password"),
        ("budi", "operator", "", "password"),
        ("siti", "operator", "long-enough-pw", "username"),  # exists
    ],
)
def test_bad_operator_input(
    station: StationHome, username: str, role: str, password: str, field: str
) -> None:
    with station.open() as store, pytest.raises(OperatorError) as err:
        add_operator(store, username, role, password)
    assert err.value.field == field


def test_card_and_pin(station: StationHome) -> None:
    with station.open() as store:
        add_operator(store, "agus", "supervisor", "agus-password")
        bind_card(store, "agus", "04 a2 3b 7c", "123456", actor="tech")
        assert verify_card(store, "04A23B7C", "123456").username == "agus"
        with pytest.raises(AuthenticationFailed):
            verify_card(store, "04A23B7C", "654321")
        with pytest.raises(AuthenticationFailed):
            verify_card(store, "DEADBEEF", "123456")
        with pytest.raises(OperatorError) as err:
            bind_card(store, "siti", "04A23B7C", "1111", actor="tech")
        assert err.value.field == "card_uid"
        with pytest.raises(OperatorError) as err:
            bind_card(store, "siti", "11223344", "12", actor="tech")
        assert err.value.field == "pin"
