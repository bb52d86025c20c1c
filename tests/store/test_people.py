"""People at the station (issue 17): lockout after failed sign-ins, unlock and password
reset audited, the kit move approved by another supervisor checked in the store."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.store.audit import verify_chain
from app.store.models import AuditEvent
from app.store.operators import (
    LOCK_AFTER,
    AccountLocked,
    AuthenticationFailed,
    OperatorError,
    TooSoon,
    add_operator,
    bind_card,
    get_operator,
    retry_delay,
    set_password,
    unbind_card,
    unlock,
    verify_card,
    verify_password,
)
from app.store.station import move_kit
from tests.support.station import KRONJO, StationHome, failed_ago, let_retry


def _events(store, kind: str) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def]
    with store.read() as session:
        rows = session.execute(select(AuditEvent).where(AuditEvent.kind == kind)).scalars()
        return [(e.actor, json.loads(e.detail)) for e in rows]


def test_password_lockout_holds_against_the_right_password_until_unlocked(
    station: StationHome,
) -> None:
    with station.open() as store:
        for _ in range(LOCK_AFTER - 1):
            with pytest.raises(AuthenticationFailed) as err:
                verify_password(store, "siti", "wrong-password")
            assert not isinstance(err.value, AccountLocked)
            let_retry(store, "siti")  # the delay before the next try has passed
        with pytest.raises(AccountLocked):
            verify_password(store, "siti", "wrong-password")
        # The right password no longer opens it, however long one waits.
        let_retry(store, "siti")
        with pytest.raises(AccountLocked):
            verify_password(store, "siti", station.password)
        info = get_operator(store, "siti")
        assert info is not None and info.locked
        assert _events(store, "operator.locked") == [
            ("siti", {"username": "siti", "failed_attempts": LOCK_AFTER})
        ]
        unlock(store, "siti", actor="rina")
        assert _events(store, "operator.unlocked") == [
            ("rina", {"username": "siti", "was_locked": True})
        ]
        assert verify_password(store, "siti", station.password).username == "siti"
        assert verify_chain(store).ok


def test_each_failure_doubles_the_wait_before_the_next_try(station: StationHome) -> None:
    """A guesser had five tries as fast as argon2 allowed; now each failure makes the next
    try of that account wait, 1 s then doubling, read from the stored time of the failure."""
    assert [retry_delay(n).total_seconds() for n in range(9)] == [0, 1, 2, 4, 8, 16, 32, 60, 60]
    with station.open() as store:
        with pytest.raises(AuthenticationFailed) as err:
            verify_password(store, "siti", "wrong-password")
        assert not isinstance(err.value, TooSoon)
        # At once: refused even with the right password (not looked at, not counted).
        failed_ago(store, "siti", 0.2)
        with pytest.raises(TooSoon) as soon:
            verify_password(store, "siti", station.password)
        assert soon.value.wait == 1 and "wait 1 s before trying again" in str(soon.value)
        let_retry(store, "siti")
        with pytest.raises(AuthenticationFailed) as err:
            verify_password(store, "siti", "wrong-password")
        assert not isinstance(err.value, TooSoon)
        # Two failures in a row: 2 s, counted from the stored time of the last one.
        for ago, wait in ((0.5, 2), (1.5, 1)):
            failed_ago(store, "siti", ago)
            with pytest.raises(TooSoon) as soon:
                verify_password(store, "siti", station.password)
            assert soon.value.wait == wait
        failed_ago(store, "siti", 2.1)
        assert verify_password(store, "siti", station.password).username == "siti"
        assert [d for _, d in _events(store, "operator.login_refused")] == [
            {"method": "password", "why": "wait", "wait": w} for w in (1, 2, 1)
        ]
        assert [a for a, _ in _events(store, "operator.login_failed")] == ["siti", "siti"]
        # A success starts again from nothing: the next failure waits 1 s.
        verify_password(store, "siti", station.password)
        with pytest.raises(AuthenticationFailed):
            verify_password(store, "siti", "wrong-password")
        failed_ago(store, "siti", -60)  # a clock set back waits no longer than the delay
        with pytest.raises(TooSoon) as soon:
            verify_password(store, "siti", station.password)
        assert soon.value.wait == 1


def test_the_wait_outlives_a_restart_and_covers_the_card(station: StationHome) -> None:
    with station.open() as store:
        bind_card(store, "siti", "04A1B2C3D4", "2468", actor="rina")
        with pytest.raises(AuthenticationFailed):
            verify_password(store, "siti", "wrong-password")
        failed_ago(store, "siti", -60)  # the delay has not passed, however slow this machine
    with station.open() as store:  # the program started again
        with pytest.raises(TooSoon):
            verify_password(store, "siti", station.password)
        with pytest.raises(TooSoon):  # the card and the password share the count
            verify_card(store, "04A1B2C3D4", "2468")
        let_retry(store, "siti")
        assert verify_card(store, "04A1B2C3D4", "2468").username == "siti"


def test_a_success_resets_the_count(station: StationHome) -> None:
    with station.open() as store:
        for _ in range(3):
            for _ in range(LOCK_AFTER - 1):
                with pytest.raises(AuthenticationFailed):
                    verify_password(store, "siti", "wrong-password")
                let_retry(store, "siti")
            verify_password(store, "siti", station.password)


def test_card_pins_count_towards_the_same_lock(station: StationHome) -> None:
    with station.open() as store:
        bind_card(store, "siti", "04A1B2C3D4", "2468", actor="rina")
        for pin in ("0000", "1111", "2222"):
            with pytest.raises(AuthenticationFailed):
                verify_card(store, "04A1B2C3D4", pin)
            let_retry(store, "siti")
        for _ in range(LOCK_AFTER - 4):
            with pytest.raises(AuthenticationFailed):
                verify_password(store, "siti", "wrong-password")
            let_retry(store, "siti")
        with pytest.raises(AccountLocked):
            verify_card(store, "04A1B2C3D4", "3333")
        with pytest.raises(AccountLocked):
            verify_card(store, "04A1B2C3D4", "2468")
        # A password reset by a supervisor lifts the lock too.
        set_password(store, "siti", "baru-rahasia-456", actor="rina")
        assert verify_card(store, "04A1B2C3D4", "2468").username == "siti"
        assert _events(store, "operator.password_reset") == [("rina", {"username": "siti"})]
        assert unbind_card(store, "siti", actor="rina") is True
        with pytest.raises(AuthenticationFailed):
            verify_card(store, "04A1B2C3D4", "2468")
        assert _events(store, "operator.card_unbound") == [
            ("rina", {"username": "siti", "had": True})
        ]


def test_kit_move_needs_another_supervisor(station: StationHome) -> None:
    with station.open() as store:
        add_operator(store, "rina", "supervisor", "rina-rahasia-1", actor="test")
        add_operator(store, "dewi", "supervisor", "dewi-rahasia-1", actor="test")
        add_operator(store, "andi", "technician", "andi-rahasia-1", actor="test")
        # A supervisor approving their own move, with their own (right) password.
        with pytest.raises(OperatorError) as err:
            move_kit(
                store,
                KRONJO,
                moved_by="rina",
                approver="rina",
                approver_password="rina-rahasia-1",
                reason="pinjam",
            )
        assert err.value.field == "supervisor"
        # A technician is no approver.
        with pytest.raises(OperatorError):
            move_kit(
                store,
                KRONJO,
                moved_by="rina",
                approver="andi",
                approver_password="andi-rahasia-1",
                reason="pinjam",
            )
        with pytest.raises(OperatorError):
            move_kit(
                store,
                KRONJO,
                moved_by="andi",
                approver="dewi",
                approver_password="wrong-password",
                reason="pinjam",
            )
        assert _events(store, "station.assigned") == []
        let_retry(store, "dewi")  # as if the delay after her failed password had passed
        move_kit(
            store,
            KRONJO,
            moved_by="rina",
            approver="dewi",
            approver_password="dewi-rahasia-1",
            reason="pinjam",
        )
        actor, detail = _events(store, "station.assigned")[-1]
        assert actor == "rina (approved by dewi)" and detail["to"] == KRONJO
