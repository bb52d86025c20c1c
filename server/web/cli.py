"""``ektp-server admin add|list|disable``: the office page's accounts (server/web/accounts.py)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from server.web.accounts import (
    ROLES,
    AccountError,
    Accounts,
    check_password,
    check_role,
    check_username,
)

COMMANDS = ("admin",)


def add_parsers(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    ad = sub.add_parser("admin", help="accounts of the office web page")
    asub = ad.add_subparsers(dest="admin_cmd", parser_class=parser_class, required=True)
    a = asub.add_parser("add", help="add an account; the password is read from stdin")
    a.add_argument("--username", required=True)
    a.add_argument("--role", required=True, choices=ROLES)
    a.add_argument("--by", help="who adds it (kept in the audit; default: the login name)")
    ls = asub.add_parser("list", help="the accounts")
    ls.add_argument("--json", action="store_true")
    d = asub.add_parser("disable", help="disable an account (its sessions end at once)")
    d.add_argument("username", metavar="USERNAME")
    d.add_argument("--by", help="who disables it (default: the login name)")


def validate(args: argparse.Namespace) -> None:
    """Checks that need no database (bad input writes nothing)."""
    if args.cmd == "admin" and args.admin_cmd == "add":
        check_username(args.username)
        check_role(args.role)
        args.password = check_password(read_password())


def read_password() -> str:
    """The first line of stdin (a terminal: asked for twice, not echoed)."""
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise AccountError("password: the two entries differ")
        return first
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def _by(args: argparse.Namespace) -> str:
    if args.by:
        return str(args.by)
    try:
        return "cli:" + getpass.getuser()
    except Exception:  # no login name (a container)
        return "cli"


def run(args: argparse.Namespace, core: Any) -> int:
    accounts = Accounts(core.engine)
    if args.admin_cmd == "add":
        account = accounts.add(args.username, args.role, args.password, _by(args))
        print(f"office account {account.username} ({account.role}) added")
        return 0
    if args.admin_cmd == "disable":
        account = accounts.disable(args.username, _by(args))
        print(f"office account {account.username} disabled; its sessions are ended")
        return 0
    items = [a.as_json() for a in accounts.list()]
    if args.json:
        print(json.dumps({"count": len(items), "accounts": items}, indent=2, sort_keys=True))
    else:
        for a in items:
            state = "disabled" if a["disabled"] else "active"
            print(f"{a['username']}  {a['role']}  {state}  created {a['created_at']}")
        print(f"{len(items)} account(s)")
    return 0
