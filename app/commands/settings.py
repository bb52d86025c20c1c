"""``settings [--json]`` shows them; ``settings set KEY VALUE`` changes one ("" resets).

Once the station has a technician or supervisor, ``settings set`` needs one: ``--by U`` and
their password on stdin; the audit trail names them."""

from __future__ import annotations

import argparse
from dataclasses import asdict, fields
from pathlib import Path

from app.commands.context import open_home, print_json
from app.commands.operator import allowed_by
from app.errors import BadInput
from app.store.central import central_policy
from app.store.settings import (
    SUPERVISOR_ONLY,
    SettingError,
    Settings,
    load_settings,
    set_setting,
)

KEYS = [f.name for f in fields(Settings)]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("settings", help="show or change station settings (mirror, limits)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_show)
    ops = p.add_subparsers(dest="settings_command", metavar="ACTION")
    s = ops.add_parser("set", help="set KEY to VALUE (an empty VALUE restores the default)")
    s.add_argument("key", choices=KEYS, metavar="KEY")
    s.add_argument("value", metavar="VALUE")
    s.add_argument(
        "--by",
        metavar="U",
        help="the technician or supervisor who makes the change (password on stdin; audited)",
    )
    s.set_defaults(func=run_set)


def run_show(args: argparse.Namespace) -> int:
    with open_home(args) as store:
        values = asdict(load_settings(store))
        central = central_policy(store)
    if args.json:
        # "central": the keys the central office set (they override, `set` refuses them).
        print_json({**values, "central": sorted(central)})
    else:
        for k, v in values.items():
            mark = "  (central office)" if k in central else ""
            print(f"{k} = {'' if v is None else v}{mark}")
    return 0


def run_set(args: argparse.Namespace) -> int:
    if args.key == "mirror_dir" and args.value:
        # Stored absolute: the GUI and the sync worker do not run from this shell's folder.
        mirror = Path(args.value).expanduser().absolute()
        if mirror.exists() and not mirror.is_dir():
            raise BadInput("mirror_dir", f"{args.value} is not a directory")
        args.value = str(mirror)
    with open_home(args) as store:
        try:
            roles = ("supervisor",) if args.key in SUPERVISOR_ONLY else None
            set_setting(store, args.key, args.value, actor=allowed_by(store, args, roles))
        except SettingError as exc:
            raise BadInput(exc.key, str(exc).split(": ", 1)[-1]) from exc
    print(f"{args.key} = {args.value}")
    return 0
