"""``operator add --username U --role R`` (password on stdin), ``operator list [--json]``."""

from __future__ import annotations

import argparse

from app.commands.context import UsageError, open_home, print_json, read_secret
from app.store.models import ROLES
from app.store.operators import OperatorError, add_operator, check_password, list_operators

MAX_PASSWORD_LEN = 1024


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("operator", help="manage operator accounts")
    ops = p.add_subparsers(dest="operator_command", required=True, metavar="ACTION")
    add = ops.add_parser("add", help="add an account; the password is read from stdin")
    add.add_argument("--username", required=True)
    add.add_argument("--role", required=True, choices=ROLES)
    add.set_defaults(func=run_add)
    ls = ops.add_parser("list", help="list accounts")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)


def _read_password() -> str:
    # First line of stdin (a script pipes it; at a terminal it is typed, not echoed).
    return read_secret("Password: ", MAX_PASSWORD_LEN)


def run_add(args: argparse.Namespace) -> int:
    password = _read_password()
    try:
        check_password(password)  # before opening (and perhaps creating) the store
    except OperatorError as exc:
        raise UsageError(exc.field, exc.message) from exc
    with open_home(args, create=True) as store:
        try:
            info = add_operator(store, args.username, args.role, password, actor="cli")
        except OperatorError as exc:
            raise UsageError(exc.field, exc.message) from exc
    print(f"operator {info.username} ({info.role}) added")
    return 0


def run_list(args: argparse.Namespace) -> int:
    with open_home(args) as store:
        ops = list_operators(store)
    if args.json:
        print_json(
            {
                "operators": [
                    {"username": o.username, "role": o.role, "active": o.active, "card": o.has_card}
                    for o in ops
                ]
            }
        )
    else:
        for o in ops:
            print(f"{o.username}\t{o.role}\t{'active' if o.active else 'inactive'}")
    return 0
