"""Benchmark, not a timed test (pytest collects nothing here): a 10,000-message first sync against the fake Google with
Gmail's per-user quota enforced, in real time. Run: ``.venv/bin/python -m tests.connectors.test_gmail_benchmark [N]``.

Prints the figures recorded in docs/PERFORMANCE.md: seconds until the 50 newest messages are in the store, the quota
units per second achieved against the 250 the server allows, and what a no-change incremental pass costs.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from email.message import EmailMessage

from assistant.connectors.gmail import GmailConnector
from assistant.connectors.gmail.ratelimit import UNITS
from assistant.domain import Account, Principal
from assistant.store import Store
from assistant.sync.engine import sync_account
from tests.fakes.google import FakeGoogle

PER_SECOND, PER_MINUTE = 250, 15000


def message(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Sender {n % 97} <sender{n % 97}@example.org>"
    msg["To"] = "principal@example.com"
    msg["Subject"] = f"Status report {n}"
    msg["Date"] = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(1_700_000_000 + n * 600))
    msg["Message-ID"] = f"<bench-{n}@example.org>"
    msg.set_content(f"Report {n}.\n" + "All figures are on track for the quarter. " * 8)
    return msg.as_bytes()


def main(count: int = 10_000) -> dict:
    fake = FakeGoogle().start()
    os.environ["ASSISTANT_GOOGLE_API_ROOT"] = fake.root
    for n in range(count):
        fake.add_message(message(n))
    fake.set_quota(per_second=PER_SECOND, per_minute=PER_MINUTE)
    with tempfile.TemporaryDirectory() as directory:
        store = Store(directory)
        principal = store.add_principal(Principal("Bench", "UTC", ["principal@example.com"]))
        account = store.add_account(Account(principal.id, "gmail", "principal@example.com", {}))
        credentials = json.dumps(fake.issue_credentials())
        first_page_at: list[float] = []
        started = time.monotonic()

        def progress(_account_id: int, text: str) -> None:
            if text.startswith("mail: page") and not first_page_at:
                if store.db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] >= 50:
                    first_page_at.append(time.monotonic() - started)

        connector = GmailConnector(account, credentials=credentials)
        report = sync_account(store, account.id, connector, progress=progress)
        elapsed = time.monotonic() - started
        connector.close()
        units = connector.quota.spent
        refused = fake.statuses.count(429)
        time.sleep(1.1)  # passes are a poll interval apart; the last second's quota is spent by the full sync
        fake.reset_log()
        connector = GmailConnector(store.account(account.id), credentials=credentials)
        again = sync_account(store, account.id, connector)
        connector.close()
        figures = {
            "messages": count, "added": report.mail["added"], "errors": report.errors,
            "seconds": round(elapsed, 1), "first_50_newest_after_s": round(first_page_at[0], 2) if first_page_at else None,
            "requests": report.requests, "quota_units": units, "units_per_s": round(units / elapsed, 1),
            "share_of_quota_bound_rate": round(units / elapsed / PER_SECOND, 3),
            "refused_429": refused,
            "no_change_pass": [f"{m} {p}" for m, p, _q, _b in fake.requests], "no_change_requests": again.requests,
            "units_per_get": UNITS["messages.get"],
        }
        store.close()
    fake.stop()
    return figures


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000), indent=2))
