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
    add_operator,
    bind_card,
    get_operator,
    set_password,
    unbind_card,
    unlock,
    verify_card,
    verify_password,
)
from app.store.station import move_kit
from tests.support.station import KRONJO, StationHome


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
        with pytest.raises(AccountLocked):
            verify_password(store, "siti", "wrong-password")
        # The right password no longer opens it.
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


def test_a_success_resets_the_count(station: StationHome) -> None:
    with station.open() as store:
        for _ in range(3):
            for _ in range(LOCK_AFTER - 1):
                with pytest.raises(AuthenticationFailed):
                    verify_password(store, "siti", "wrong-password")
            verify_password(store, "siti", station.password)


def test_card_pins_count_towards_the_same_lock(station: StationHome) -> None:
    with station.open() as store:
        bind_card(store, "siti", "04A1B2C3D4", "2468", actor="rina")
        for pin in ("0000", "1111", "2222"):
            with pytest.raises(AuthenticationFailed):
                verify_card(store, "04A1B2C3D4", pin)
        for _ in range(LOCK_AFTER - 4):
            with pytest.raises(AuthenticationFailed):
                verify_password(store, "siti", "wrong-password")
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
