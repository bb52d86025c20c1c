"""``assign --kecamatan KODE --technician U --supervisor U --reason TEXT``: move the kit.

Offline move of a kit to another kecamatan, by a technician with a supervisor's approval:
both passwords are read from stdin (technician's on the first line, supervisor's on the
second). Audited; records sealed before keep their kecamatan. Online, the server sets the
assignment instead.
"""

from __future__ import annotations

import argparse

from app.commands.context import open_home, read_secret
from app.commands.init import check_kecamatan
from app.errors import BadInput
from app.service.kit import move_kit
from app.store.db import Store
from app.store.operators import AccountLocked, AuthenticationFailed, TooSoon, verify_password
from app.store.station import require_identity


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "assign",
        help="move this kit to another kecamatan (technician + supervisor)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--kecamatan", required=True, metavar="KODE")
    p.add_argument("--technician", required=True, metavar="U")
    p.add_argument("--supervisor", required=True, metavar="U")
    p.add_argument("--reason", required=True)
    p.set_defaults(func=run)


def _check(store: Store, username: str, password: str, role: str) -> None:
    try:
        info = verify_password(store, username, password)
    except (AccountLocked, TooSoon) as exc:
        raise BadInput(role, str(exc)) from exc
    except AuthenticationFailed as exc:
        raise BadInput(role, f"wrong username or password for {username!r}") from exc
    if info.role != role:
        raise BadInput(role, f"{username!r} is a {info.role}, not a {role}")


def run(args: argparse.Namespace) -> int:
    kecamatan = check_kecamatan(args.kecamatan)
    reason = args.reason.strip()
    if not reason or len(reason) > 500:
        raise BadInput("reason", "must be 1-500 characters")
    if args.technician == args.supervisor:
        raise BadInput("supervisor", "the approval must come from another person")
    tech_pw = read_secret(f"Password of technician {args.technician}: ", 1098)
    sup_pw = read_secret(f"Password of supervisor {args.supervisor}: ", 1098)
    # A missing line is not a wrong password: say which one stdin lacks.
    if not tech_pw:
        raise BadInput(
            "technician", "no password on stdin (line 1: technician's, line 2: supervisor's)"
        )
    if not sup_pw:
        raise BadInput(
            "supervisor", "no password on stdin line 2 (line 1: technician's, line 2: supervisor's)"
        )
    with open_home(args) as store:
        require_identity(store)
        _check(store, args.technician, tech_pw, "technician")
        # The store checks the approver: another supervisor, with their password.
        moved = move_kit(
            store,
            kecamatan,
            mover=args.technician,
            approver=args.supervisor,
            approver_password=sup_pw,
            reason=reason,
        )
    print(f"kecamatan {moved.before} -> {moved.after}")
    return 0
