"""Search as it is shaped for 100,000 messages: the principal's token in the index, the two query plans, counts."""
import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from assistant.cli import main as cli
from assistant.domain import Account, Address, Message, Principal
from assistant.store import DB_NAME, Store, search
from assistant.store import calendar as calendar_store
from assistant.store import mail as mail_store
from assistant.store.schema import MIGRATIONS, SCHEMA_VERSION

UTC = UTC
START = datetime(2026, 1, 1, 9, tzinfo=UTC)


@pytest.fixture
def two(tmp_path):
    store = Store(tmp_path / "ws")
    ann = store.add_principal(Principal(name="Ann", timezone="America/New_York", addresses=["ann@a.example"]))
    ken = store.add_principal(Principal(name="Ken", timezone="Asia/Tokyo", addresses=["ken@k.example"]))
    accounts = {p.id: store.add_account(Account(principal_id=p.id, kind="local", address=p.addresses[0]))
                for p in (ann, ken)}
    yield store, ann, ken, accounts
    store.close()


def _add(store, principal, account, number: int, body: str, *, subject: str = "Note", read: bool = True) -> None:
    mail_store.upsert_message(store.scope(principal.id), Message(
        principal_id=principal.id, account_id=account.id, remote_id=str(number), subject=subject,
        sender=Address("Bob", "bob@example.com"), date_utc=START + timedelta(hours=number), body_text=body,
        is_read=read,
    ))


def test_a_word_never_matches_the_principals_token(two):
    store, ann, ken, accounts = two
    _add(store, ann, accounts[ann.id], 1, "nothing here")
    _add(store, ann, accounts[ann.id], 2, f"room p{ken.id} is booked")
    ann_scope, ken_scope = store.scope(ann.id), store.scope(ken.id)
    assert mail_store.search_messages(ann_scope, f"p{ann.id}") == [] and mail_store.count_messages(ann_scope, f"p{ann.id}") == 0
    assert [m.remote_id for m in mail_store.search_messages(ann_scope, f"p{ken.id}")] == ["2"]
    assert mail_store.search_messages(ken_scope, f"p{ken.id}") == [] and mail_store.count_messages(ken_scope, "room") == 0


@pytest.mark.parametrize("walk_above", [0, 10_000])  # the walk over the date index, then the lookup of each hit
def test_both_plans_give_the_newest_page_and_the_full_count(two, monkeypatch, walk_above):
    for threshold in ("_WALK_PAGE_ABOVE", "_WALK_COUNT_DATED_ABOVE", "_WALK_COUNT_ABOVE"):
        monkeypatch.setattr(search, threshold, walk_above)
    store, ann, ken, accounts = two
    for n in range(40):
        _add(store, ann, accounts[ann.id], n, "alpha" + (" beta" if n % 2 else ""), read=n % 4 != 0)
        _add(store, ken, accounts[ken.id], n, "alpha beta")
    scope = store.scope(ann.id)
    page = mail_store.search_messages(scope, "alpha", limit=5)
    assert [m.remote_id for m in page] == ["39", "38", "37", "36", "35"]
    assert mail_store.count_messages(scope, "alpha") == 40
    assert mail_store.count_messages(scope, "alpha beta") == 20
    assert [m.remote_id for m in mail_store.search_messages(scope, "beta is:unread", limit=50)] == []  # odd ones are all read
    assert mail_store.count_messages(scope, "alpha is:unread") == 10
    after = (START + timedelta(hours=30)).date().isoformat()  # 2026-01-02: from hour 15 on
    assert mail_store.count_messages(scope, f"alpha after:{after}") == 25
    assert [m.remote_id for m in mail_store.search_messages(scope, f"beta before:{after}", limit=3)] == ["13", "11", "9"]
    assert mail_store.count_messages(scope, "gamma") == 0 and mail_store.search_messages(scope, "gamma") == []
    assert mail_store.count_messages(scope, f"before:{after}") == 15  # no words: the messages table alone


def test_a_message_deleted_any_way_leaves_the_index(two):
    store, ann, _, accounts = two
    for n in range(3):
        _add(store, ann, accounts[ann.id], n, "delta")
    store.db.execute("DELETE FROM accounts WHERE id=?", (accounts[ann.id].id,))  # cascades to the messages
    assert store.db.execute("SELECT COUNT(*) FROM messages_fts").fetchone()[0] == 0
    assert mail_store.count_messages(store.scope(ann.id), "delta") == 0


FTS_TOKEN_MIGRATION = next(n for n, m in enumerate(MIGRATIONS) if "messages_fts_new" in m)


def test_a_workspace_indexed_before_the_token_is_migrated(tmp_path):
    """A workspace made by the schema as it was before the token migration (built here from the migrations before it,
    so later migrations need no undoing), with a message in its four-column index."""
    (tmp_path / "ws").mkdir()
    old = sqlite3.connect(tmp_path / "ws" / DB_NAME)
    for migration in MIGRATIONS[:FTS_TOKEN_MIGRATION]:
        old.executescript(migration)
    old.executescript(
        "INSERT INTO principals(id, name, timezone, addresses, created_utc) VALUES (1, 'Ann', 'UTC', '[\"ann@a.example\"]', 0);"
        " INSERT INTO accounts(id, principal_id, kind, address) VALUES (1, 1, 'local', 'ann@a.example');"
        " INSERT INTO messages(id, principal_id, account_id, remote_id, subject, sender_name, sender_email, date_utc)"
        " VALUES (1, 1, 1, '1', 'Old one', 'Bob', 'bob@example.com', 0);"
        " INSERT INTO messages_fts(rowid, subject, sender, recipients, body) VALUES (1, 'Old one', 'Bob', '', 'epsilon');"
        f" PRAGMA user_version={FTS_TOKEN_MIGRATION};"
    )
    old.commit()
    old.close()
    store = Store(tmp_path / "ws")
    try:
        assert store.schema_version() == SCHEMA_VERSION
        assert [m.subject for m in mail_store.search_messages(store.scope(1), "epsilon")] == ["Old one"]
        assert mail_store.count_messages(store.scope(1), "epsilon") == 1
    finally:
        store.close()
    db = sqlite3.connect(tmp_path / "ws" / DB_NAME)
    assert db.execute("SELECT principal FROM messages_fts").fetchall() == [("p1",)]
    db.close()


def test_search_count_on_the_command_line(two, capsys):
    store, ann, ken, accounts = two
    for n in range(3):
        _add(store, ann, accounts[ann.id], n, "zeta")
        _add(store, ken, accounts[ken.id], n, "zeta" if n else "eta")
    workspace = str(store.dir)
    capsys.readouterr()
    assert cli.main(["--workspace", workspace, "search", "--count", "zeta"]) == 0
    assert capsys.readouterr().out == "5\n"
    assert cli.main(["--workspace", workspace, "--json", "search", "zeta", "--count", "--principal", "Ken"]) == 0
    assert json.loads(capsys.readouterr().out) == {"query": "zeta", "principal": "Ken", "count": 2}


def test_search_starts_without_the_other_modules_commands():
    assert cli._command_word(["--workspace", "/w", "--json", "search", "x"]) == "search"
    assert cli._command_word(["--workspace=/w", "search"]) == "search"
    assert cli._command_word(["--debug", "task", "list"]) == "task"
    assert cli._command_word(["--help"]) is None and cli._command_word([]) is None
    lean = cli.build_parser(extensions=False)
    assert lean.parse_args(["search", "x", "--count"]).count
    with pytest.raises(SystemExit):
        lean.parse_args(["task", "list"])
    assert cli.build_parser().parse_args(["task", "list", "--principal", "Ann"]).principal == "Ann"


def test_search_over_every_principal_keeps_the_newest_page(two, capsys):
    store, ann, ken, accounts = two
    for n in range(12):  # Ann's at even hours, Ken's at odd ones and, from 8 on, the same hours as Ann's
        _add(store, ann, accounts[ann.id], 2 * n, "theta")
        _add(store, ken, accounts[ken.id], 2 * n + (1 if n < 8 else 0), "theta")
    capsys.readouterr()
    assert cli.main(["--workspace", str(store.dir), "--json", "search", "theta", "--limit", "5"]) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    # Newest first; at the same instant, the principals in their order (Ann, then Ken), as one merged sort gives.
    assert [(r["principal"], r["date_utc"][11:13]) for r in results] == [
        ("Ann", "07"), ("Ken", "07"), ("Ann", "05"), ("Ken", "05"), ("Ann", "03")]


def test_event_search_stays_in_the_principal_newest_first(two):
    from assistant.domain import CalendarEvent

    store, ann, ken, accounts = two
    for principal, n, summary in ((ann, 1, "Offsite planning"), (ann, 2, "Offsite travel"), (ken, 3, "Offsite")):
        calendar_store.upsert_event(store.scope(principal.id), CalendarEvent(
            principal_id=principal.id, account_id=accounts[principal.id].id, remote_id=str(n), uid=f"{n}@x",
            summary=summary, start_utc=START + timedelta(days=n), end_utc=START + timedelta(days=n, hours=1),
        ))
    assert [e.summary for e in calendar_store.search_events(store.scope(ann.id), "offsite")] == ["Offsite travel", "Offsite planning"]
    assert [e.summary for e in calendar_store.search_events(store.scope(ken.id), "offsite")] == ["Offsite"]
