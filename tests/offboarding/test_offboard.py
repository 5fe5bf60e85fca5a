"""Offboarding a demo principal end to end: the export re-imports into a fresh workspace with the same counts, nothing of
theirs is left in the database's bytes (the file and its write-ahead log), the other principals are unchanged, a run
interrupted between any two steps finishes when run again, and a Gmail grant is revoked at (a fake) Google."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant.cli.main import main
from assistant.demo.build import SOURCES_DIR, build_demo
from assistant.domain import Account, Principal
from assistant.offboarding import service
from assistant.offboarding.export import workspace_counts
from assistant.store import Store
from assistant.store import mail as mail_store
from assistant.store.convert import convert
from assistant.store.db import db_path, is_encrypted
from tests.fakes.google import FakeGoogle

DANA = "Dana Whitfield"
# Dana's addresses, one of her correspondents', and words found only in her mail (her matters), in any case
DANAS_TRACES = [b"dana@whitfield-law.example", b"dana.whitfield@nyc-bar.example", b"mbell@harlowgroup.example",
                b"brightline", b"whitfield"]


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory) -> Path:
    """The demo workspace, made plain (``assistant workspace decrypt``'s code): in an encrypted file no trace of anyone
    can be read in the raw bytes, before the offboarding as after, so only a plain one shows what the deletion leaves."""
    path = tmp_path_factory.mktemp("demo") / "ws"
    build_demo(path)
    if is_encrypted(db_path(path)):
        convert(path, encrypt=False)
    assert not is_encrypted(db_path(path))
    return path


@pytest.fixture
def demo(demo_template: Path, tmp_path: Path) -> Path:
    """A copy of the demo workspace of its own, its local accounts pointed at its own copy of the sources."""
    ws = tmp_path / "ws"
    shutil.copytree(demo_template, ws)
    store = Store(ws)
    for account in store.accounts():
        settings = {k: (v.replace(str(demo_template), str(ws)) if isinstance(v, str) else v)
                    for k, v in account.settings.items()}
        store.update_account_settings(account.id, settings)
    store.close()
    return ws


def raw_bytes(ws: Path) -> bytes:
    """The database as a thief would read it: the file and its write-ahead log, lower-cased."""
    data = b""
    for name in ("workspace.sqlite3", "workspace.sqlite3-wal"):
        if (ws / name).exists():
            data += (ws / name).read_bytes()
    return data.lower()


def snapshot(store: Store) -> dict[str, object]:
    """Counts and a sample of content of every principal but Dana."""
    out: dict[str, object] = {}
    for p in store.principals():
        if p.name == DANA:
            continue
        scope = store.scope(p.id)
        threads = mail_store.threads(scope, limit=5)
        first = mail_store.thread_messages(scope, threads[0].id)[0]
        out[p.name] = {
            "counts": workspace_counts(store, p.id),
            "threads": [(t.subject, t.message_count, t.participants) for t in threads],
            "body": mail_store.message(scope, first.id).body_text,
            "raw": mail_store.raw_message(scope, first.id),
            "search": [m.id for m in mail_store.search_messages(scope, "meeting")],
            "accounts": [(a.kind, a.address, a.settings) for a in store.accounts(p.id)],
        }
    return out


def test_offboarding_exports_what_reimports_deletes_every_trace_and_leaves_the_others(demo, tmp_path):
    export = tmp_path / "dana-export"
    store = Store(demo)
    before = snapshot(store)
    dana = store.principal_by_name(DANA)
    counts = workspace_counts(store, dana.id)
    assert all(counts[k] > 0 for k in ("messages", "events", "contacts", "calls", "time entries", "cards", "drafts"))
    raw = raw_bytes(demo)
    assert all(trace in raw for trace in DANAS_TRACES)  # the check below can fail
    sources = demo / SOURCES_DIR / "dana-whitfield"
    assert sources.is_dir()

    record = service.offboard(store, DANA, export)
    # still open, as the app would be: the log was folded in and truncated, and no page keeps a trace of her
    raw = raw_bytes(demo)
    assert [trace for trace in DANAS_TRACES if trace in raw] == []
    assert not (demo / "workspace.sqlite3-wal").exists() or (demo / "workspace.sqlite3-wal").stat().st_size == 0
    assert store.principal_rows(dana.id) == {}
    assert store.db.execute("SELECT COUNT(*) FROM messages_fts WHERE messages_fts MATCH 'brightline'").fetchone()[0] == 0
    assert snapshot(store) == before
    store.close()
    assert not sources.exists()  # her demo sources lived inside the workspace folder
    assert set(record.done) == set(service.STEPS)
    assert record.deleted["messages"] == counts["messages"]

    receipt = (export / service.RECEIPT).read_text()
    assert receipt.startswith("Offboarding receipt for Dana Whitfield (dana@whitfield-law.example")
    assert f"messages: {counts['messages']}" in receipt and "local dana@whitfield-law.example" in receipt
    manifest = json.loads((export / "manifest.json").read_text())
    assert manifest["counts"] == counts

    # The export, imported into a fresh workspace the way a user imports files, gives the same counts.
    fresh = tmp_path / "fresh"
    assert main(["--workspace", str(fresh), "principal", "add", DANA, "--email", "dana@whitfield-law.example",
                 "--timezone", "America/New_York"]) == 0
    for part in ("mail", "calendar", "contacts.vcf", "calls.csv", "time.csv", "board.csv"):
        assert main(["--workspace", str(fresh), "import", str(export / part), "--principal", DANA]) == 0, part
    again = Store(fresh)
    try:
        imported = workspace_counts(again, again.principal_by_name(DANA).id)
    finally:
        again.close()
    for area in ("messages", "events", "contacts", "calls", "time entries", "cards"):
        assert imported[area] == counts[area], area


@pytest.mark.parametrize("stop_after", ["exported", "verified", "revoked", "deleted"])
def test_an_offboarding_interrupted_between_steps_finishes_when_run_again(demo, tmp_path, capsys, stop_after):
    export = tmp_path / "export"
    store = Store(demo)
    before = snapshot(store)
    dana_id = store.principal_by_name(DANA).id

    def crash(step: str) -> None:
        if step == stop_after:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        service.offboard(store, DANA, export, after_step=crash)
    store.close()
    record = json.loads((export / service.RECORD).read_text())
    assert stop_after in record["done"] and "compacted" not in record["done"]

    # run again, from the command line, as the user would
    assert main(["--workspace", str(demo), "principal", "offboard", DANA, "--export", str(export)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Offboarding receipt for Dana Whitfield") and "nothing of yours remains" in out
    store = Store(demo)
    try:
        assert [p.name for p in store.principals()] == ["Adaeze Okafor", "Kenji Sato"]
        assert store.principal_rows(dana_id) == {}
        assert snapshot(store) == before
    finally:
        store.close()
    assert [trace for trace in DANAS_TRACES if trace in raw_bytes(demo)] == []
    # a third run has nothing left to do and says so the same way
    assert main(["--workspace", str(demo), "principal", "offboard", DANA, "--export", str(export)]) == 0


def test_offboarding_refuses_a_folder_with_something_else_in_it(demo, tmp_path, capsys):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    assert main(["--workspace", str(demo), "principal", "offboard", DANA, "--export", str(busy)]) == 1
    assert "is not empty" in capsys.readouterr().err
    store = Store(demo)
    try:
        assert DANA in [p.name for p in store.principals()]
    finally:
        store.close()


def test_a_gmail_grant_is_revoked_at_google_and_the_sign_in_deleted(tmp_path, memory_keyring):
    with FakeGoogle() as google:
        store = Store(tmp_path / "ws")
        ann = store.add_principal(Principal("Ann Lee", "America/New_York", ["ann@example.com"]))
        ken = store.add_principal(Principal("Ken Sato", "Asia/Tokyo", ["ken@example.jp"]))
        keys = {}
        for p, address in ((ann, "ann@example.com"), (ken, "ken@example.jp")):
            key = f"gmail:{p.id}:{address}"
            store.add_account(Account(p.id, "gmail", address, settings={"credential_key": key}))
            memory_keyring.set_password("assistant", key, json.dumps(google.issue_credentials()))
            keys[p.name] = key
        ann_refresh = json.loads(memory_keyring.get_password("assistant", keys["Ann Lee"]))["refresh_token"]
        ken_refresh = json.loads(memory_keyring.get_password("assistant", keys["Ken Sato"]))["refresh_token"]

        record = service.offboard(store, "Ann Lee", tmp_path / "export")
        assert google.revoked == [ann_refresh]
        assert ann_refresh not in google.refresh_tokens and ken_refresh in google.refresh_tokens
        assert memory_keyring.get_password("assistant", keys["Ann Lee"]) is None
        assert memory_keyring.get_password("assistant", keys["Ken Sato"]) is not None
        assert record.revoked == ["gmail ann@example.com: access revoked at Google; saved sign-in deleted"]

        # a grant the user already removed at Google: Google answers invalid_token, which counts as revoked
        google.revoke_grants()
        record = service.offboard(store, "Ken Sato", tmp_path / "export-ken")
        assert record.revoked == ["gmail ken@example.jp: access already revoked at Google; saved sign-in deleted"]
        assert memory_keyring.get_password("assistant", keys["Ken Sato"]) is None
        store.close()


def test_an_export_killed_half_way_is_made_again_whole(demo, tmp_path):
    export = tmp_path / "export"
    store = Store(demo)
    dana_id = store.principal_by_name(DANA).id
    messages = workspace_counts(store, dana_id)["messages"]

    def crash_in_the_mail(what: str, done: int, total: int) -> None:
        if what == "Exporting mail" and done >= 100:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        service.offboard(store, DANA, export, progress=crash_in_the_mail)
    assert list((export / "mail").rglob("*.mbox"))  # half an export is on disk
    service.offboard(store, DANA, export)
    store.close()
    manifest = json.loads((export / "manifest.json").read_text())
    assert sum(f["count"] for f in manifest["files"] if f["kind"] == "mbox") == messages


def test_mail_that_arrived_between_two_runs_is_exported_before_anything_is_deleted(demo, tmp_path):
    from datetime import UTC, datetime

    from assistant.domain import Address, Message

    export = tmp_path / "export"
    store = Store(demo)
    dana = store.principal_by_name(DANA)

    def crash(step: str) -> None:
        if step == "revoked":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        service.offboard(store, DANA, export, after_step=crash)
    messages = json.loads((export / "manifest.json").read_text())["counts"]["messages"]
    account = store.accounts(dana.id)[0]
    mail_store.upsert_message(store.scope(dana.id), Message(
        principal_id=dana.id, account_id=account.id, remote_id="late-1", subject="Late arrival",
        sender=Address("Marcus Bell", "mbell@harlowgroup.example"), to=[Address("Dana", "dana@whitfield-law.example")],
        date_utc=datetime(2026, 3, 2, 15, tzinfo=UTC), message_id_header="<late-1@harlow.example>",
        body_text="One more thing", folders=["INBOX"]))
    service.offboard(store, DANA, export)
    store.close()
    manifest = json.loads((export / "manifest.json").read_text())
    assert manifest["counts"]["messages"] == messages + 1
    assert b"Subject: Late arrival" in b"".join(p.read_bytes() for p in (export / "mail").rglob("*.mbox"))


def test_the_copies_of_their_draft_attachments_are_deleted_and_no_one_elses(tmp_path):
    from assistant.approvals.drafts import save_draft

    store = Store(tmp_path / "ws")
    folders = {}
    for name, address in (("Ann Lee", "ann@example.com"), ("Ken Sato", "ken@example.jp")):
        p = store.add_principal(Principal(name, "UTC", [address]))
        store.add_account(Account(p.id, "local", address))
        folder = store.dir / "outgoing-attachments" / f"copy-{p.id}"
        folder.mkdir(parents=True)
        (folder / "plan.pdf").write_bytes(b"%PDF-1.4 " + name.encode())
        save_draft(store, p.id, None, to="bob@example.org", subject="Plan", body_text="Attached.",
                   attachments=[str(folder / "plan.pdf")])
        folders[name] = folder
    outside = tmp_path / "elsewhere.pdf"
    outside.write_bytes(b"%PDF-1.4 mine")
    save_draft(store, store.principal_by_name("Ann Lee").id, None, to="bob@example.org", subject="Mine",
               body_text="x", attachments=[str(outside)])

    record = service.offboard(store, "Ann Lee", tmp_path / "export")
    store.close()
    assert not folders["Ann Lee"].exists() and (folders["Ken Sato"] / "plan.pdf").exists()
    assert outside.exists()  # a file of the user's own, attached from outside the workspace, is not the app's
    assert record.files_deleted == [str(folders["Ann Lee"])]


def test_at_a_terminal_it_asks_for_the_name_and_a_wrong_answer_changes_nothing(demo, tmp_path):
    """A person at a terminal is asked once; a script (input not a terminal, or --yes) is not."""
    import os
    import subprocess
    import sys

    primary, secondary = os.openpty()
    child = subprocess.Popen([sys.executable, "-m", "assistant", "--workspace", str(demo), "principal", "offboard",
                              DANA, "--export", str(tmp_path / "out")], stdin=secondary, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    os.close(secondary)
    os.write(primary, b"Kenji\n")
    _, err = child.communicate(timeout=120)
    os.close(primary)
    assert child.returncode == 1 and "Nothing was changed" in err
    store = Store(demo)
    try:
        assert store.principal_by_name(DANA) is not None
    finally:
        store.close()
    assert not (tmp_path / "out").exists()


def test_an_imap_password_leaves_the_credential_store_and_a_shared_sign_in_is_revoked_once(tmp_path, memory_keyring):
    with FakeGoogle(email_address="ann@example.com") as google:
        store = Store(tmp_path / "ws")
        ann = store.add_principal(Principal("Ann Lee", "America/New_York", ["ann@example.com"]))
        gmail_key = f"gmail:{ann.id}:ann@example.com"
        store.add_account(Account(ann.id, "gmail", "ann@example.com", settings={"credential_key": gmail_key}))
        memory_keyring.set_password("assistant", gmail_key, json.dumps(google.issue_credentials()))
        store.add_account(Account(ann.id, "imap", "ann@example.com", settings={
            "oauth": {"provider": "gmail", "credential_key": gmail_key}}))
        store.add_account(Account(ann.id, "imap", "ann@fastmail.example", settings={"credential_key": "imap:1:ann"}))
        memory_keyring.set_password("assistant", "imap:1:ann", "an app password")

        record = service.offboard(store, "Ann Lee", tmp_path / "export")
        assert record.revoked == [
            "gmail ann@example.com: access revoked at Google; saved sign-in deleted",
            "imap ann@example.com: no password: it signed in with the gmail account's sign-in (revoked with that"
            " account)",
            "imap ann@fastmail.example: saved password deleted"]
        assert len(google.revoked) == 1
        assert not [name for (_, name) in memory_keyring.secrets if not name.startswith("workspace:")]
        store.close()
