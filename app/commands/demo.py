"""The GUI: ``ektp-station`` (no subcommand) and ``ektp-station demo`` (GUI + a local server,
a provisioned demo station, a demo operator and the demo camera). See docs/ui.md."""

from __future__ import annotations

import argparse

from app.commands.context import home_of


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo", help="the GUI with a local server, a demo operator and a demo camera"
    )
    p.set_defaults(func=lambda args: run_gui_command(args, demo=True))


def run_gui_command(args: argparse.Namespace, demo: bool) -> int:
    # Imported here: the other subcommands must not pay for Qt.
    from app.ui.main import run_gui

    return run_gui([], home_of(args), demo=demo)


def run_station_gui(args: argparse.Namespace) -> int:
    """``ektp-station`` with no subcommand: the GUI on the station's own home."""
    return run_gui_command(args, demo=False)
