"""``assistant desktop install|remove|status``: the app in the applications menu, as the mailto: handler, at login.

JSON: ``{"platform", "state": {"menu", "mailto", "autostart"}, "command": [...], "files": [...]}``.
"""
from __future__ import annotations

import argparse
from typing import Any

from assistant.cli.format import Output
from assistant.desktop import DesktopState, for_platform, launch_command


def _integration(args: argparse.Namespace):
    return for_platform(launch_command(args.workspace if args.workspace_given else None))


def _emit(out: Output, integration: Any, state: DesktopState, said: str) -> int:
    def human() -> str:
        yes = {True: "yes", False: "no"}
        return (f"{said}\n  in the applications menu: {yes[state.menu]}\n  opens mailto: links: {yes[state.mailto]}\n"
                f"  starts at login (in the tray): {yes[state.autostart]}\n  starts as: {' '.join(integration.command)}")

    out.emit({"platform": integration.name, "state": state.to_json(), "command": integration.command,
              "files": integration.where()}, human)
    return 0


def cmd_install(args: argparse.Namespace, out: Output) -> int:
    integration = _integration(args)
    before = integration.state()
    wanted = DesktopState(menu=True, mailto=not args.no_mailto,
                          autostart=True if args.start_at_login else (before.autostart and not args.no_start_at_login))
    return _emit(out, integration, integration.apply(wanted), "Assistant is on the desktop:")


def cmd_remove(args: argparse.Namespace, out: Output) -> int:
    integration = _integration(args)
    return _emit(out, integration, integration.apply(DesktopState()), "Assistant's desktop entries are removed:")


def cmd_status(args: argparse.Namespace, out: Output) -> int:
    integration = _integration(args)
    return _emit(out, integration, integration.state(), "On the desktop now:")


def register(commands: Any) -> None:
    desktop = commands.add_parser("desktop", help="put Assistant in the applications menu, as the mailto: handler, "
                                                  "and at login (or take it away)")
    actions = desktop.add_subparsers(metavar="ACTION", required=True, parser_class=type(desktop))
    install = actions.add_parser("install", help="menu entry with the icon and the mailto: handler")
    install.add_argument("--no-mailto", action="store_true", help="leave mailto: links to the current program")
    login = install.add_mutually_exclusive_group()
    login.add_argument("--start-at-login", action="store_true", help="also start Assistant in the tray at login")
    login.add_argument("--no-start-at-login", action="store_true", help="do not start it at login")
    install.set_defaults(handler=cmd_install)
    actions.add_parser("remove", help="remove every entry install made").set_defaults(handler=cmd_remove)
    actions.add_parser("status", help="what is in place now").set_defaults(handler=cmd_status)
