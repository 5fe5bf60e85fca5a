"""IMAP on a local Dovecot: the first sync of 10,000 messages (1,000 with ``--small``) through the real connector and
engine, and how soon new mail delivered through Postfix is in the workspace while the app waits in IDLE.

The servers are the test suite's (``tests/connectors/imap/mailserver.py``): Dovecot and Postfix on 127.0.0.1 in a
temporary folder. The mailbox is written as a maildir straight into Dovecot's home (as a migration would leave it);
Dovecot indexes it on the first SELECT, which the timed sync includes.
"""
from __future__ import annotations

import os
import shutil
import smtplib
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from assistant.connectors.imap import ImapConnector
from assistant.domain import Account, Principal
from assistant.store import Store
from assistant.sync.engine import sync_account
from benchmarks.common import Context, Row
from tests.connectors.imap.mailserver import USERS, mail_servers

SECTION = "9. IMAP"
ADDRESS = "principal@example.com"


def _composed(n: int) -> bytes:
    """Message ``n`` as the email package writes it (the reference for :func:`_message`)."""
    msg = EmailMessage()
    msg["From"] = f"Sender {n % 97} <sender{n % 97}@example.org>"
    msg["To"] = ADDRESS
    msg["Subject"] = f"Weekly figures {n}"
    msg["Date"] = f"Mon, {1 + n % 28:02d} Sep 2025 {n % 24:02d}:{n % 60:02d}:00 +0000"
    msg["Message-ID"] = f"<bench-{n}@example.org>"
    msg.set_content(("The numbers for this week are in the sheet; nothing unusual. " * 8 + "\n") * 4)
    return msg.as_bytes()


_REST = _composed(0).partition(b"\nContent-Type:")[2]  # the MIME headers and the body: the same in every message


def _message(n: int) -> bytes:
    """The same bytes as :func:`_composed`, without building a message object each time: 10,000 of those took 15-60 s
    of the section, longer than the sync it measures (``tests/benchmarks/test_imap_bench.py`` holds them equal)."""
    return (f"From: Sender {n % 97} <sender{n % 97}@example.org>\nTo: {ADDRESS}\nSubject: Weekly figures {n}\n"
            f"Date: {format_datetime(datetime(2025, 9, 1 + n % 28, n % 24, n % 60, tzinfo=UTC))}\n"
            f"Message-ID: <bench-{n}@example.org>\nContent-Type:").encode() + _REST


def _write_maildir(root: Path, count: int) -> None:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (root / "cur" / f"{1700000000 + n}.M{n}P1.bench:2,{'S' if n % 3 else ''}").write_bytes(_message(n))
    if os.geteuid() == 0:
        for path in (root.parent.parent, root.parent, root, *root.rglob("*")):
            shutil.chown(path, "nobody", "nogroup")


def run(ctx: Context) -> list[Row]:
    count = 1_000 if ctx.small else 10_000
    rows: list[Row] = []
    setup_started = time.perf_counter()
    with mail_servers() as servers, tempfile.TemporaryDirectory(prefix="bench-imap-") as tmp:
        _write_maildir(servers.dovecot.maildir(ADDRESS), count)
        print(f"    Dovecot and Postfix started, the mailbox written: {time.perf_counter() - setup_started:.0f} s",
              file=sys.stderr, flush=True)
        store = Store(Path(tmp) / "workspace")
        try:
            principal = store.add_principal(Principal("Bench", "Europe/Dublin", [ADDRESS]))
            settings = {"username": ADDRESS, "imap_host": "127.0.0.1", "imap_port": servers.dovecot.imap_port,
                        "imap_security": "starttls", "smtp_host": "127.0.0.1",
                        "smtp_port": servers.postfix.submission_port, "smtp_security": "starttls"}
            account = store.add_account(Account(principal.id, "imap", ADDRESS, settings))

            def connector() -> ImapConnector:
                return ImapConnector(store.account(account.id), credentials=USERS[ADDRESS],
                                     ssl_context=servers.client_context())

            started = time.perf_counter()
            report = sync_account(store, account.id, connector())
            elapsed = time.perf_counter() - started
            added = report.mail["added"]
            rows.append(Row(SECTION, f"first sync of {count:,} messages (local Dovecot)", elapsed, "s",
                            met=added == count and not report.errors,
                            note=f"{added:,} stored, {count / elapsed:,.0f} messages/s"
                                 + (f"; {report.errors[0]}" if report.errors else "")))
            started = time.perf_counter()
            report = sync_account(store, account.id, connector())
            rows.append(Row(SECTION, "sync with nothing new (CONDSTORE)", (time.perf_counter() - started) * 1000,
                            "ms", note=f"{report.requests} requests"))
            watcher = connector()
            watcher.imap()
            delays = []
            for n in range(3):
                woke = threading.Event()

                def wait(w: ImapConnector = watcher, event: threading.Event = woke) -> None:
                    if w.wait_for_mail(30):
                        event.set()

                thread = threading.Thread(target=wait)
                thread.start()
                time.sleep(0.5)
                sent_at = time.perf_counter()
                with smtplib.SMTP("127.0.0.1", servers.postfix.smtp_port) as smtp:
                    smtp.sendmail("someone@example.org", [ADDRESS], _message(count + n))
                thread.join(35)
                if woke.is_set():
                    sync_account(store, account.id, watcher, woken_folder="INBOX")
                    delays.append(time.perf_counter() - sent_at)
            watcher.close()
            worst = max(delays) if len(delays) == 3 else None
            rows.append(Row(SECTION, "new mail in the workspace after delivery (IDLE, worst of 3)", worst, "s",
                            target="≤ 5 s", met=worst is not None and worst <= 5,
                            note="delivered through Postfix; IDLE wakes, then one INBOX-only sync"))
        finally:
            store.close()
    return rows
