"""``assistant account add imap``: any provider over IMAP/SMTP (and CalDAV), by preset or by server."""
from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from assistant.cli.format import Output
from assistant.cli.format import open_workspace as _open_workspace
from assistant.cli.format import principal_from as _principal_from
from assistant.connectors.imap.presets import PRESETS, SECURITIES


def read_password(user: str) -> str:
    """From a prompt on a terminal, else the first line of standard input; never from an argument."""
    if sys.stdin.isatty():
        return getpass.getpass(f"Password (or app password) for {user}: ")
    return sys.stdin.readline().rstrip("\r\n")


def cmd_account_add_imap(args: argparse.Namespace, out: Output) -> int:
    from assistant.connectors.imap.signin import ImapSignIn, sign_in, sign_in_oauth

    request = ImapSignIn(user=args.user, preset=args.preset or "other", imap_host=args.imap_host or "",
                         smtp_host=args.smtp_host or "", security=args.security or "", caldav_url=args.caldav_url or "",
                         trust_fingerprint=args.trust_fingerprint or "", oauth=args.oauth)
    request.settings()  # a usage mistake is said before the password is asked
    password = "" if args.oauth else read_password(args.user)
    with _open_workspace(args) as store:
        principal = _principal_from(args, store)
        if args.oauth:
            account = sign_in_oauth(store, principal.id, request)
        else:
            account = sign_in(store, principal.id, request, password)
    how = {"gmail": ", with the Google sign-in", "outlook": ", with the Microsoft sign-in"}.get(
        (account.settings.get("oauth") or {}).get("provider", ""), "")
    shown = {"id": account.id, "principal": principal.name, "principal_id": account.principal_id, "kind": account.kind,
             "address": account.address, "status": account.status.value, "settings": account.settings}
    out.emit({"account": shown},
             lambda: f"Signed in: imap account {account.id} ({account.address}, {account.settings['imap_host']}) "
                     f"for {principal.name}{how}.")
    return 0


def register(kinds: Any) -> None:
    imap = kinds.add_parser("imap", help="any provider over IMAP/SMTP (and CalDAV): Gmail with an app password, "
                                         "iCloud, Fastmail, Yahoo, Zoho, your own server")
    imap.add_argument("--principal", metavar="NAME", required=True)
    where = imap.add_mutually_exclusive_group(required=True)
    where.add_argument("--preset", choices=sorted(PRESETS), help="a provider's servers (README: where to make an "
                                                                  "app password)")
    where.add_argument("--imap-host", metavar="HOST[:PORT]")
    imap.add_argument("--smtp-host", metavar="HOST[:PORT]", help="default: the IMAP host")
    imap.add_argument("--security", choices=SECURITIES,
                      help="ssl (implicit TLS, default), starttls, or plain (only to this machine)")
    imap.add_argument("--caldav-url", metavar="URL", help="the calendar server, when it is not the preset's")
    imap.add_argument("--trust-fingerprint", metavar="SHA256",
                      help="trust a server certificate the system does not, by the fingerprint an error showed")
    imap.add_argument("--user", metavar="U", required=True, help="the sign-in name, usually the address")
    imap.add_argument("--oauth", action="store_true",
                      help="no password: log in (XOAUTH2) with the sign-in of the principal's Gmail or Outlook account"
                           " of this address (--preset gmail or outlook, or your own --imap-host)")
    imap.set_defaults(handler=cmd_account_add_imap)
