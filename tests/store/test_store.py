import json
import os
import stat
from datetime import UTC, datetime, timedelta

import pytest

from assistant.core.errors import InvalidInput, NotFound, UnknownTimeZone, WorkspaceTooNew
from assistant.domain import Account, Address, Call, CallDirection, Card, Message, Principal, Reminder
from assistant.store import DB_NAME, Store
from assistant.store import board as board_store
from assistant.store import calls as call_store
from assistant.store import mail as mail_store
from assistant.store import reminders as reminder_store
from assistant.store.db import connect
from assistant.store.schema import SCHEMA_VERSION

UTC = UTC


def _message(p, a, rid, subject, *, sender="bob@example.com", body="", msgid="", reply_to="", when=None, folders=()):
    return Message(
        principal_id=p.id, account_id=a.id, remote_id=rid, subject=subject, sender=Address("", sender),
        date_utc=when or datetime(2026, 3, 1, 12, tzinfo=UTC), message_id_header=msgid, in_reply_to=reply_to,
        body_text=body, folders=list(folders),
    )


@pytest.fixture
def two(tmp_path):
    store = Store(tmp_path / "ws")
    ann = store.add_principal(Principal(name="Ann", timezone="America/New_York", addresses=["ann@a.example"]))
    ken = store.add_principal(Principal(name="Ken", timezone="Asia/Tokyo", addresses=["ken@k.example"]))
    a1 = store.add_account(Account(principal_id=ann.id, kind="local", address="ann@a.example"))
    a2 = store.add_account(Account(principal_id=ken.id, kind="local", address="ken@k.example"))
    yield store, ann, ken, a1, a2
    store.close()


def test_workspace_is_private_to_the_user(tmp_path):
    store = Store(tmp_path / "ws")
    mode = stat.S_IMODE(os.stat(tmp_path / "ws").st_mode)
    assert mode == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "ws" / DB_NAME).st_mode) & 0o077 == 0
    store.close()


def test_schema_is_migrated_and_sound(tmp_path):
    store = Store(tmp_path / "ws")
    assert store.schema_version() == SCHEMA_VERSION
    assert store.integrity_check() == "ok"
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    store.close()
    # reopening does not re-run migrations
    Store(tmp_path / "ws").close()


def test_newer_workspace_is_refused_untouched(tmp_path):
    Store(tmp_path / "ws").close()
    db = connect(tmp_path / "ws")
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(WorkspaceTooNew, match="newer"):
        Store(tmp_path / "ws")
    db = connect(tmp_path / "ws")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1


def test_principal_needs_a_known_time_zone_and_unique_name(tmp_path):
    store = Store(tmp_path / "ws")
    with pytest.raises(UnknownTimeZone, match="Mars/Olympus"):
        store.add_principal(Principal(name="X", timezone="Mars/Olympus"))
    store.add_principal(Principal(name="Ann", timezone="UTC"))
    with pytest.raises(InvalidInput, match="already exists"):
        store.add_principal(Principal(name="ann", timezone="UTC"))
    assert [p.name for p in store.principals()] == ["Ann"]
    assert [c.name for c in board_store.columns(store.scope(store.principals()[0].id))][:2] == ["Inbox", "To do"]


def test_scopes_never_see_each_other(two):
    store, ann, ken, a1, a2 = two
    s_ann, s_ken = store.scope(ann.id), store.scope(ken.id)
    mail_store.upsert_message(s_ann, _message(ann, a1, "1", "Closing documents", body="escrow"))
    mail_store.upsert_message(s_ken, _message(ken, a2, "1", "Site visit", body="escrow"))
    assert [t.subject for t in mail_store.threads(s_ann)] == ["Closing documents"]
    assert [m.subject for m in mail_store.search_messages(s_ken, "escrow")] == ["Site visit"]
    ken_msg = mail_store.search_messages(s_ken, "escrow")[0]
    with pytest.raises(NotFound):
        mail_store.message(s_ann, ken_msg.id)
    with pytest.raises(NotFound):
        mail_store.upsert_message(s_ann, _message(ann, a2, "x", "written to someone else's account"))
    board_store.add_column(s_ann, "To do")
    board_store.add_card(s_ann, Card(principal_id=ann.id, title="File motion"))
    assert board_store.cards(s_ken) == [] and len(board_store.cards(s_ann)) == 1
    call_store.add_call(s_ken, Call(principal_id=ken.id, direction=CallDirection.INCOMING, number_raw="+81 3-1234-5678",
                        started_utc=datetime(2026, 3, 1, tzinfo=UTC)))
    assert call_store.recent_calls(s_ann) == []


def test_upsert_is_idempotent_and_threads_replies(two):
    store, ann, _, a1, _ = two
    s = store.scope(ann.id)
    first = _message(ann, a1, "r1", "Lease", msgid="<1@x>", when=datetime(2026, 3, 1, 9, tzinfo=UTC))
    reply = _message(ann, a1, "r2", "Re: Lease", msgid="<2@x>", reply_to="<1@x>",
                     when=datetime(2026, 3, 1, 10, tzinfo=UTC))
    assert mail_store.upsert_message(s, first)[1] == "added"
    assert mail_store.upsert_message(s, reply)[1] == "added"
    assert mail_store.upsert_message(s, reply)[1] == "unchanged"
    reply.is_read = True
    assert mail_store.upsert_message(s, reply)[1] == "updated"
    threads = mail_store.threads(s)
    assert len(threads) == 1 and threads[0].message_count == 2 and threads[0].unread_count == 1
    assert threads[0].subject == "Lease"
    assert mail_store.message_count(s) == 2
    assert store.db.execute("SELECT COUNT(*) FROM messages_fts").fetchone()[0] == 2


def test_reply_arriving_before_its_parent_joins_the_same_thread(two):
    store, ann, _, a1, _ = two
    s = store.scope(ann.id)
    mail_store.upsert_message(s, _message(ann, a1, "r2", "Re: Offer", msgid="<2@x>", reply_to="<1@x>"))
    mail_store.upsert_message(s, _message(ann, a1, "r1", "Offer", msgid="<1@x>"))
    assert len(mail_store.threads(s)) == 1


def test_remove_messages_cleans_threads_and_index(two):
    store, ann, _, a1, _ = two
    s = store.scope(ann.id)
    mail_store.upsert_message(s, _message(ann, a1, "r1", "Invoice 42", body="payment"))
    assert mail_store.remove_messages(s, a1.id, ["r1", "unknown"]) == 1
    assert mail_store.threads(s) == [] and mail_store.search_messages(s, "payment") == []


def test_search_operators(two):
    store, ann, _, a1, _ = two
    s = store.scope(ann.id)
    mail_store.upsert_message(s, _message(ann, a1, "1", "Quarterly report", sender="cfo@corp.example", body="numbers attached",
                              when=datetime(2026, 1, 10, tzinfo=UTC)))
    mail_store.upsert_message(s, _message(ann, a1, "2", "Lunch", sender="friend@pal.example", body="quarterly catch-up",
                              when=datetime(2026, 2, 10, tzinfo=UTC)))
    subjects = lambda q: sorted(m.subject for m in mail_store.search_messages(s, q))  # noqa: E731
    assert subjects("quarterly") == ["Lunch", "Quarterly report"]
    assert subjects("from:cfo quarterly") == ["Quarterly report"]
    assert subjects("subject:lunch") == ["Lunch"]
    assert subjects("after:2026-02-01") == ["Lunch"]
    assert subjects("before:2026-02-01") == ["Quarterly report"]
    assert subjects('"catch-up"') == ["Lunch"]
    assert subjects("nothing-matches-this") == []
    assert subjects('unbalanced " AND OR (') == []  # FTS syntax in user input is literal, never an error


def test_transaction_rolls_back_everything(two):
    store, ann, _, a1, _ = two
    s = store.scope(ann.id)
    with pytest.raises(RuntimeError):
        with store.transaction():
            mail_store.upsert_message(s, _message(ann, a1, "1", "half-written"))
            raise RuntimeError("crash")
    assert mail_store.message_count(s) == 0 and mail_store.threads(s) == []


def test_today_is_each_principals_own_day_and_labelled(two):
    store, ann, ken, _, _ = two
    now = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # 10:00 in New York, 23:00 in Tokyo
    board_store.add_card(store.scope(ann.id), Card(principal_id=ann.id, title="Ann today", due_utc=now + timedelta(hours=8)))
    # 01:00 tomorrow in Tokyo: not Ken's today
    board_store.add_card(store.scope(ken.id), Card(principal_id=ken.id, title="Ken tomorrow",
                                                   due_utc=now + timedelta(hours=2)))
    reminder_store.insert(store.scope(ken.id), Reminder(principal_id=ken.id, kind="free", text="Ken overdue",
                                                        due_utc=now - timedelta(days=1)))
    rows = store.today(now)
    assert [(r["principal"], r["text"]) for r in rows] == [("Ken", "Ken overdue"), ("Ann", "Ann today")]


def test_outbox_is_idempotent_by_key(two):
    from assistant.domain import OutboxEntry

    store, ann, _, a1, _ = two
    e = store.enqueue(OutboxEntry(principal_id=ann.id, account_id=a1.id, op="send", payload={"x": 1},
                                  idempotency_key="k1"))
    again = store.enqueue(OutboxEntry(principal_id=ann.id, account_id=a1.id, op="send", payload={"x": 2},
                                      idempotency_key="k1"))
    assert again.id == e.id and again.payload == {"x": 1}
    store.mark_outbox(e.id, "failed", error="550 mailbox unavailable", count_attempt=True)
    got = store.outbox_entry(e.id)
    assert (got.state, got.last_error, got.attempts) == ("failed", "550 mailbox unavailable", 1)
    assert json.loads(store.db.execute("SELECT payload FROM outbox").fetchone()[0]) == {"x": 1}


def test_japanese_words_inside_a_run_are_found(two):
    store, _, ken, _, a2 = two
    s = store.scope(ken.id)
    mail_store.upsert_message(s, _message(ken, a2, "1", "構造計算書の送付について（Nakameguro）", body="ご確認ください。"))
    mail_store.upsert_message(s, _message(ken, a2, "2", "打ち合わせ日程のご相談", body="来週の月曜日はいかがですか"))
    subjects = lambda q: [m.subject for m in mail_store.search_messages(s, q)]  # noqa: E731
    assert subjects("構造計算書") == ["構造計算書の送付について（Nakameguro）"]
    assert subjects("計算") == ["構造計算書の送付について（Nakameguro）"]
    assert subjects("subject:日程") == ["打ち合わせ日程のご相談"]
    assert subjects("月曜日") == ["打ち合わせ日程のご相談"]
    assert subjects("算構") == []  # characters present, but not in that order
    assert subjects("nakameguro 確認") == ["構造計算書の送付について（Nakameguro）"]
    assert len(subjects("書")) == 1  # one ideograph alone
