"""Sections 5 (Reminders) and 6 (Connectors), each measured in a child process of its own (fake servers, environment
variables and the Qt application stay out of the runner's process).

5. ``benchmarks/reminders_load.py``: 10,000 pending reminders read by ``reminders.start_up`` and the ones within the
   scheduler's horizon handed to APScheduler, as the app does at start. Median of three.
6. Gmail: ``tests/connectors/test_gmail_benchmark.py`` (fake Google, the per-user quota of 250 units/s enforced, real
   time): the rate as a share of the quota-bound rate, which does not depend on how many messages are synced, so a
   smaller mailbox than docs/PERFORMANCE.md's 10,000 keeps the run short (1,000 at either size: 20 s of real time). Outlook: the setup of
   ``tests/connectors/test_outlook.py`` (fake identity + Graph over HTTPS with a certificate made here, 4 concurrent
   requests and 10,000 per 10 minutes enforced), a first sync through the engine, then a no-change pass: counts.

    .venv/bin/python benchmarks/misc_bench.py [--small]                  # both sections, rows as JSON lines
    .venv/bin/python benchmarks/misc_bench.py outlook N                  # the Outlook figures alone, as JSON
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import Context, Row, median, substep  # noqa: E402

REMINDERS = "5. Reminders"
CONNECTORS = "6. Connectors"
REMINDER_COUNT = 10_000
REMINDER_TARGET_S = 1.0


def _child_json(args: list[str], timeout_s: float) -> object:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout_s)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[-800:]}")
    return json.loads(done.stdout[done.stdout.index("{"):])


# -- 5. reminders ------------------------------------------------------------------------------------------------------
def reminder_rows(rounds: int) -> list[Row]:
    """Each round a fresh process, as each start of the app is; the workspace with the reminders is built by the first
    and read by all (reading them writes nothing, and none falls due within the rounds)."""
    runs = []
    with tempfile.TemporaryDirectory(prefix="assistant-reminders-bench-") as tmp:
        for _ in range(rounds):
            out = Path(tmp) / "result.json"
            done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "reminders_load.py"), "--counts",
                                   str(REMINDER_COUNT), "--json", str(out), "--workspace", str(Path(tmp) / "ws"),
                                   "--no-schedule-all"], cwd=ROOT, capture_output=True, text=True, timeout=600)
            if done.returncode != 0:
                raise RuntimeError(f"reminders_load failed: {done.stderr.strip()[-800:]}")
            runs.append(json.loads(out.read_text())[0])
    total = median([r["total_s"] for r in runs])
    return [
        Row(REMINDERS, f"{REMINDER_COUNT:,} pending reminders loaded and scheduled at start", round(total * 1000, 1),
            "ms", f"≤ {REMINDER_TARGET_S * 1000:.0f} ms", met=total <= REMINDER_TARGET_S,
            note=f"store read {median([r['load_s'] for r in runs]) * 1000:.0f} ms (worker) + "
                 f"{median([r['scheduled'] for r in runs]):.0f} within 6 h handed to APScheduler "
                 f"{median([r['schedule_s'] for r in runs]) * 1000:.0f} ms (GUI thread); median of {len(runs)}"),
    ]


# -- 6. connectors -----------------------------------------------------------------------------------------------------
def gmail_rows(count: int) -> list[Row]:
    figures = _child_json(["-m", "tests.connectors.test_gmail_benchmark", str(count)], timeout_s=900)
    share = figures["share_of_quota_bound_rate"] * 100
    ok = figures["added"] == count and not figures["errors"]
    return [
        Row(CONNECTORS, f"Gmail first sync, rate vs the quota-bound 250 units/s ({count:,} messages)", round(share, 1),
            "%", note=f"{figures['units_per_s']} units/s over {figures['seconds']} s, {figures['refused_429']} refused"
                      f" (429)" + ("" if ok else f"; added {figures['added']}, errors {figures['errors'][:2]}")),
        Row(CONNECTORS, "Gmail: the 50 newest messages in the store after", figures["first_50_newest_after_s"], "s"),
        Row(CONNECTORS, "Gmail: a no-change incremental pass", figures["no_change_requests"], "requests",
            note="; ".join(figures["no_change_pass"])),
    ]


def outlook_figures(count: int) -> dict:
    """The first sync of ``count`` messages (plus one in each of two more folders) through the engine, then a
    no-change pass; the setup of tests/connectors/test_outlook.py (its fixtures, spelled out)."""
    import os

    import keyring

    from tests.conftest import InMemoryKeyring
    from tests.connectors.test_outlook import CLIENT_ID, approver
    from tests.fakes.microsoft import FakeMicrosoft, make_self_signed_cert

    keyring.set_keyring(InMemoryKeyring())
    with tempfile.TemporaryDirectory(prefix="assistant-outlook-bench-") as tmp:
        cert, key = make_self_signed_cert(Path(tmp))
        os.environ["REQUESTS_CA_BUNDLE"] = os.environ["SSL_CERT_FILE"] = str(cert)
        with FakeMicrosoft(cert, key, user="principal@example.com") as fake:
            os.environ["ASSISTANT_MS_AUTHORITY"] = fake.authority
            os.environ["ASSISTANT_GRAPH_ROOT"] = fake.graph_root
            from assistant.connectors.outlook import OutlookConnector
            from assistant.connectors.outlook.auth import sign_in
            from assistant.core import timezones
            from assistant.core.credentials import CredentialStore
            from assistant.domain import Principal
            from assistant.store import Store
            from assistant.sync.engine import sync_account

            timezones.configure()
            store = Store(Path(tmp) / "workspace")
            try:
                principal = store.add_principal(Principal("Dana", "America/New_York", ["principal@example.com"]))
                account = sign_in(store, principal.id, CLIENT_ID, device_code=True, print_fn=approver(fake))
                fake.add_messages_bulk(count)
                for name in ("Clients", "Receipts"):
                    fake.add_message(fake.add_folder(name), subject=f"in {name}")
                connector = OutlookConnector(account, credentials=CredentialStore(), sleep=time.sleep)
                graph_before = len(fake.graph_requests)
                try:
                    started = time.monotonic()
                    first = sync_account(store, account.id, connector)
                    first_s = time.monotonic() - started
                    first_requests = connector.requests_made
                    first_in_flight = fake.max_in_flight
                    first_paths = [r["path"] for r in fake.graph_requests[graph_before:]]
                    tracked = len(json.loads(store.get_cursor(account.id, "mail"))["folders"])
                    again = sync_account(store, account.id, connector)
                    quiet_requests = connector.requests_made - first_requests
                finally:
                    connector.close()
                mime_fetches = sum(1 for r in fake.graph_requests if r["path"].endswith("$value"))
                return {"messages": count + 2, "added": first.mail["added"], "errors": first.errors + again.errors,
                        "first_sync_requests": first_requests, "first_sync_s": round(first_s, 1),
                        "first_sync_calendar_requests": sum(1 for p in first_paths if p.startswith("/me/calendarView")),
                        "max_in_flight": fake.max_in_flight, "max_in_flight_first_sync": first_in_flight,
                        "tracked_folders": tracked, "no_change_requests": quiet_requests,
                        "no_change_mail": again.mail, "mime_fetches": mime_fetches}
            finally:
                store.close()


def outlook_rows(count: int) -> list[Row]:
    f = _child_json([str(Path(__file__).resolve()), "outlook", str(count)], timeout_s=900)
    ok = f["added"] == f["messages"] and not f["errors"]
    quiet_target = f["tracked_folders"] + 1
    # The Outlook issue's target (docs/PERFORMANCE.md): at most 110 mail requests for the 10,000-message first sync.
    mail = f["first_sync_requests"] - f["first_sync_calendar_requests"]
    first_met = (mail <= 110 and ok) if count == 10_000 else None
    return [
        Row(CONNECTORS, f"Outlook first sync of {f['messages']:,} messages in {f['tracked_folders']} folders, mail "
            "requests", mail, "requests", "≤ 110" if count == 10_000 else "", met=first_met,
            note=f"+ {f['first_sync_calendar_requests']} calendar; {f['first_sync_s']} s through the engine; "
                 f"{f['mime_fetches']} MIME downloads"
                 + ("" if ok else f"; added {f['added']}, errors {f['errors'][:2]}")),
        Row(CONNECTORS, "Outlook: concurrent requests per mailbox, at most", f["max_in_flight"], "requests", "≤ 4",
            met=f["max_in_flight"] <= 4),
        Row(CONNECTORS, "Outlook: a no-change incremental pass", f["no_change_requests"], "requests",
            f"= {quiet_target}", met=f["no_change_requests"] == quiet_target,
            note=f"one delta per tracked folder ({f['tracked_folders']}) + one calendar"),
    ]


def run_reminders(ctx: Context) -> list[Row]:
    with substep("reminders"):
        return reminder_rows(3)


def run_connectors(ctx: Context) -> list[Row]:
    """Section 6. Its figures are request counts and the Gmail sync's share of a quota-bound rate (one process, one
    thread at a time under the GIL): run.py lets it run while notmuch's build of section 1 ends on the other core."""
    # Quota-bound: 1,000 messages take about 20 s of real time on any machine, and the share of the quota-bound rate
    # was 91.1 % over 10,000 messages and 88.5-90.8 % over 2,000 (docs/PERFORMANCE.md): the count hardly moves it.
    gmail_count = 1_000
    outlook_count = 1_000 if ctx.small else 10_000
    with substep(f"Gmail, {gmail_count:,} messages"):
        rows = gmail_rows(gmail_count)
    with substep(f"Outlook, {outlook_count:,} messages"):
        rows += outlook_rows(outlook_count)
    return rows


def run(ctx: Context) -> list[Row]:
    return run_reminders(ctx) + run_connectors(ctx)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", choices=("all", "reminders", "gmail", "outlook"), default="all")
    parser.add_argument("count", nargs="?", type=int)
    parser.add_argument("--small", action="store_true")
    args = parser.parse_args(argv)
    if args.what == "outlook" and args.count:
        print(json.dumps(outlook_figures(args.count)))
        return 0
    small = args.small
    if args.what == "all":
        rows = run(Context(root=ROOT, small=small))
    elif args.what == "reminders":
        rows = reminder_rows(3)
    elif args.what == "gmail":
        rows = gmail_rows(args.count or 1_000)
    else:
        rows = outlook_rows(1_000 if small else 10_000)
    for row in rows:
        print(json.dumps(row.as_dict(), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
