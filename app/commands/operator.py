"""``operator add|list|disable|enable|unlock|password|card``: staff accounts.

Once the station has an active technician or supervisor, every change to an account needs
one's password: ``--by U`` names them, and their password is the *last* line of stdin (after
the new password or PIN the command itself reads). The audit trail names them. The first
accounts of a new station are added without (there is nobody to ask yet).
"""

from __future__ import annotations

import argparse

from app.commands.context import open_home, print_json, read_secret
from app.errors import BadInput
from app.store.db import Store
from app.store.models import ROLES
from app.store.operators import (
    MAX_PASSWORD_LEN,
    OperatorError,
    UnknownOperator,
    add_operator,
    authorize,
    bind_card,
    check_password,
    check_pin,
    has_admin,
    list_operators,
    normalize_card_uid,
    set_active,
    set_password,
    unbind_card,
    unlock,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "operator",
        help="manage operator accounts",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ops = p.add_subparsers(dest="operator_command", required=True, metavar="ACTION")
    add = ops.add_parser("add", help="add an account; the password is read from stdin")
    add.add_argument("--username", required=True)
    add.add_argument("--role", required=True, choices=ROLES)
    _by(add)
    add.set_defaults(func=run_add)
    ls = ops.add_parser("list", help="list accounts")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)
    for name, func, text in (
        ("disable", run_disable, "disable an account (it can no longer sign in)"),
        ("enable", run_enable, "enable a disabled account again"),
        ("unlock", run_unlock, "unlock an account locked after failed sign-ins"),
    ):
        c = ops.add_parser(name, help=text)
        c.add_argument("--username", required=True)
        _by(c)
        c.set_defaults(func=func)
    pw = ops.add_parser(
        "password", help="reset a password (by a supervisor): new password on stdin line 1"
    )
    pw.add_argument("--username", required=True)
    _by(pw)
    pw.set_defaults(func=run_password)
    card = ops.add_parser(
        "card",
        help="bind the staff card on the reader to an account (PIN on stdin line 1), "
        "or --unbind it",
    )
    card.add_argument("--username", required=True)
    card.add_argument("--uid", help="the card's UID in hex, instead of reading the reader")
    card.add_argument("--unbind", action="store_true", help="forget the account's card and PIN")
    _by(card)
    card.set_defaults(func=run_card)


def _by(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--by",
        metavar="U",
        help="the technician or supervisor who allows it (password: last line of stdin)",
    )


def _read_password() -> str:
    # First line of stdin (a script pipes it; at a terminal it is typed, not echoed).
    return read_secret("Password: ", MAX_PASSWORD_LEN)


def allowed_by(store: Store, args: argparse.Namespace, roles: tuple[str, ...] | None = None) -> str:
    """The audit actor for a change: the ``--by`` person, checked, once the station has a
    technician or supervisor (or, with ``roles``, someone of one of them); "cli" before
    that."""
    if not has_admin(store, **({"roles": roles} if roles else {})):
        return "cli"
    if not args.by:
        who = "an operator" if roles == ROLES else "a technician or supervisor"
        raise BadInput(
            "by",
            f"this station has {who}: name one with --by U "
            "and give their password as the last line of stdin",
        )
    password = read_secret(f"Password of {args.by}: ", MAX_PASSWORD_LEN)
    if not password:
        raise BadInput("by", f"no password for {args.by!r} on stdin")
    try:
        info = authorize(store, args.by, password, **({"roles": roles} if roles else {}))
    except OperatorError as exc:
        raise BadInput(exc.field, exc.message) from exc
    return info.username


def _usage(exc: OperatorError | UnknownOperator) -> BadInput:
    if isinstance(exc, UnknownOperator):
        return BadInput("username", f"no operator named {exc.username!r}")
    return BadInput(exc.field, exc.message)


def run_add(args: argparse.Namespace) -> int:
    password = _read_password()
    try:
        check_password(password)  # before opening (and perhaps creating) the store
    except OperatorError as exc:
        raise BadInput(exc.field, exc.message) from exc
    with open_home(args, create=True) as store:
        actor = allowed_by(store, args)
        try:
            info = add_operator(store, args.username, args.role, password, actor=actor)
        except OperatorError as exc:
            raise _usage(exc) from exc
    print(f"operator {info.username} ({info.role}) added")
    return 0


def _set_active(args: argparse.Namespace, active: bool) -> int:
    with open_home(args) as store:
        actor = allowed_by(store, args)
        if not active and actor == args.username:
            raise BadInput("username", "you cannot disable your own account")
        try:
            set_active(store, args.username, active, actor=actor)
        except (OperatorError, UnknownOperator) as exc:
            raise _usage(exc) from exc
    print(f"operator {args.username} {'enabled' if active else 'disabled'}")
    return 0


def run_disable(args: argparse.Namespace) -> int:
    return _set_active(args, False)


def run_enable(args: argparse.Namespace) -> int:
    return _set_active(args, True)


def run_unlock(args: argparse.Namespace) -> int:
    with open_home(args) as store:
        actor = allowed_by(store, args)
        try:
            unlock(store, args.username, actor=actor)
        except (OperatorError, UnknownOperator) as exc:
            raise _usage(exc) from exc
    print(f"operator {args.username} unlocked")
    return 0


def run_password(args: argparse.Namespace) -> int:
    password = _read_password()
    try:
        check_password(password)
    except OperatorError as exc:
        raise BadInput(exc.field, exc.message) from exc
    with open_home(args) as store:
        actor = allowed_by(store, args, roles=("supervisor",))
        try:
            set_password(store, args.username, password, actor=actor)
        except (OperatorError, UnknownOperator) as exc:
            raise _usage(exc) from exc
    print(f"password of {args.username} reset")
    return 0


def _card_on_reader() -> str:
    from app.capture.reader import CardStatus, scan

    found = scan()
    cards = [c for c in found.cards if c.status == CardStatus.OK and c.uid_hex]
    if not cards:
        raise BadInput("card", f"no readable card on the reader ({found.message.strip()})")
    if len(cards) > 1:
        raise BadInput("card", "more than one card on the readers: leave only the staff card")
    uid = cards[0].uid_hex
    assert uid is not None
    return uid


def run_card(args: argparse.Namespace) -> int:
    if args.unbind:
        if args.uid:
            raise BadInput("uid", "not used with --unbind")
        with open_home(args) as store:
            actor = allowed_by(store, args)
            try:
                had = unbind_card(store, args.username, actor=actor)
            except (OperatorError, UnknownOperator) as exc:
                raise _usage(exc) from exc
        print(f"card of {args.username} unbound" if had else f"{args.username} had no card")
        return 0
    pin = read_secret("PIN: ", 16)
    try:
        check_pin(pin)
        uid = normalize_card_uid(args.uid) if args.uid else None
    except OperatorError as exc:
        raise BadInput(exc.field, exc.message) from exc
    with open_home(args) as store:
        actor = allowed_by(store, args)
        if uid is None:
            uid = _card_on_reader()
        try:
            bind_card(store, args.username, uid, pin, actor=actor)
        except (OperatorError, UnknownOperator) as exc:
            raise _usage(exc) from exc
    print(f"card {uid} bound to {args.username}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    with open_home(args) as store:
        ops = list_operators(store)
    if args.json:
        print_json(
            {
                "operators": [
                    {
                        "username": o.username,
                        "role": o.role,
                        "active": o.active,
                        "card": o.has_card,
                        "locked": o.locked,
                    }
                    for o in ops
                ]
            }
        )
    else:
        for o in ops:
            state = "locked" if o.locked else "active" if o.active else "inactive"
            print(f"{o.username}\t{o.role}\t{state}")
    return 0
