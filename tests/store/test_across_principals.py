"""The explicitly cross-principal reads behind the All-principals inbox: every principal's inbox threads, newest first,
paged through the threads' date index like one principal's folder page; and search over every principal, newest first.
"""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from assistant.domain import Account, Address, Folder, Message, Principal
from assistant.store import Store
from assistant.store import mail as mail_store

BASE = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
INBOX_QUERY_PLAN = "EXPLAIN QUERY PLAN "


def build(tmp_path) -> tuple[Store, list[Principal]]:
    """Three principals (Ken with two accounts), threads over every folder; ties in time too (the id decides). Ken's
    second account calls a folder "INBOX" that is not its inbox: only the role makes an inbox."""
    store = Store(tmp_path / "ws")
    rng = random.Random(16)
    principals = []
    for name in ("Ann", "Ken", "Zoe"):
        p = store.add_principal(Principal(name, "UTC", [f"{name.lower()}@example.com"]))
        principals.append(p)
        accounts = [store.add_account(Account(p.id, "local", p.primary_address))]
        if name == "Ken":
            accounts.append(store.add_account(Account(p.id, "local", "ken@other.example")))
        scope = store.scope(p.id)
        for account in accounts:
            second = account is not accounts[0]
            for remote_id, role in (("INBOX", "" if second else "inbox"), ("Archive", "archive"),
                                    ("Post", "inbox" if second else "")):
                mail_store.upsert_folder(scope, Folder(account.id, remote_id, remote_id, role))
            for n in range(150):
                key = f"{name}-{account.id}-{n}"
                parent = rng.randrange(n) if n and rng.random() < 0.3 else None
                mail_store.upsert_message(scope, Message(
                    p.id, account.id, key, f"Subject {key}", Address("S", "s@example.org"),
                    date_utc=BASE + timedelta(minutes=rng.randrange(3000)),
                    message_id_header=f"<{key}@example.org>",
                    in_reply_to=f"<{name}-{account.id}-{parent}@example.org>" if parent is not None else "",
                    folders=rng.choice([["INBOX"], ["Archive"], ["Post"], ["INBOX", "Archive"]]),
                ))
    return store, principals


def reference_page(store: Store, inbox_only: bool, offset: int, limit: int) -> list[int]:
    """What the page means, spelled out: each principal's threads with a message in an inbox of its own account."""
    inbox = ("WHERE id IN (SELECT m.thread_id FROM messages m, json_each(m.folders) f, folders fo"
             " WHERE fo.account_id=m.account_id AND fo.remote_id=f.value AND fo.role='inbox')") if inbox_only else ""
    rows = store.db.execute(f"SELECT id FROM threads {inbox} ORDER BY last_date_utc DESC, id DESC LIMIT ? OFFSET ?",
                            (limit, offset))
    return [r[0] for r in rows]


def test_every_principals_inbox_threads_newest_first_a_page_at_a_time(tmp_path):
    store, principals = build(tmp_path)
    try:
        for inbox_only in (True, False):
            for offset in (0, 40, 200, 400):
                page = mail_store.threads_across_principals(store, offset, 40, inbox_only=inbox_only)
                assert [t.id for t in page] == reference_page(store, inbox_only, offset, 40)
                for t in page:  # each row is its principal's own thread
                    own = {x.id for x in mail_store.threads(store.scope(t.principal_id), 0, 1000)}
                    assert t.id in own
        first = mail_store.threads_across_principals(store, 0, 100)
        assert {t.principal_id for t in first} == {p.id for p in principals}
        dates = [t.last_date_utc for t in first]
        assert dates == sorted(dates, reverse=True)
        # Ken's second account's "INBOX" is not an inbox; its "Post" is
        ken = principals[1]
        other = next(a for a in store.accounts(ken.id) if a.address == "ken@other.example")
        listed = {t.id for t in mail_store.threads_across_principals(store, 0, 10_000)}
        scope = store.scope(ken.id)
        for t in mail_store.threads(scope, 0, 1000):
            messages = mail_store.thread_messages(scope, t.id)
            in_inbox = any(("INBOX" in m.folders and m.account_id != other.id)
                           or ("Post" in m.folders and m.account_id == other.id) for m in messages)
            assert (t.id in listed) == in_inbox
    finally:
        store.close()


def test_the_page_walks_the_date_index_and_never_sorts_every_thread(tmp_path):
    store, _principals = build(tmp_path)
    try:
        statements = []
        store.db.set_trace_callback(statements.append)
        mail_store.threads_across_principals(store, 0, 50)
        mail_store.threads_across_principals(store, 0, 50, inbox_only=False)
        store.db.set_trace_callback(None)
        pages = [s for s in statements if s.lstrip().startswith("SELECT") and "FROM threads" in s]
        assert len(pages) == 2
        for sql in pages:
            plan = [row[3] for row in store.db.execute(INBOX_QUERY_PLAN + sql)]
            assert any("USING INDEX threads_date" in step for step in plan), plan
            assert not any("TEMP B-TREE" in step for step in plan), plan  # no sort of every thread
            assert not any(step.startswith("SCAN m") or step.startswith("SCAN messages") for step in plan), plan
    finally:
        store.close()


def test_search_across_principals_is_the_newest_matches_of_all_of_them(tmp_path):
    store, principals = build(tmp_path)
    try:
        for query, limit in (("subject", 25), ("subject", 1000), ("Ken", 10), ("nothing-like-this", 10)):
            found = mail_store.search_across_principals(store, query, limit)
            everyone = sorted((m for p in principals
                               for m in mail_store.search_messages(store.scope(p.id), query, 10_000)),
                              key=lambda m: m.date_utc, reverse=True)
            assert [m.date_utc for m in found] == [m.date_utc for m in everyone[:limit]]
            assert all(m.principal_id in {p.id for p in principals} for m in found)
        assert {m.principal_id for m in mail_store.search_across_principals(store, "subject", 1000)} == {
            p.id for p in principals}
    finally:
        store.close()


def test_search_across_principals_builds_only_the_messages_it_returns(tmp_path, monkeypatch):
    """Each principal's page of hits is read as ids and dates; only the newest ``limit`` of them all become messages
    (at scale, building every principal's page was most of the search's time)."""
    store, _principals = build(tmp_path)
    built = []
    real = mail_store._message

    def counting(scope, row, with_body=False):
        built.append(row["id"])
        return real(scope, row, with_body)

    monkeypatch.setattr(mail_store, "_message", counting)
    try:
        found = mail_store.search_across_principals(store, "subject", 25)
        assert len(found) == 25
        assert built == [m.id for m in found]
    finally:
        store.close()


def test_threads_waiting_to_sync_look_each_entry_up_by_index(tmp_path):
    """Entries naming their message by remote id or by Message-ID both mark its thread; each is looked up through an
    index, never by reading every message of the principal (that took 10 s for a few dozen entries at scale)."""
    from assistant.sync.actions import move_message

    store, principals = build(tmp_path)
    try:
        ken = principals[1]
        scope = store.scope(ken.id)
        messages = [mail_store.message(scope, r["id"], with_body=False) for r in store.db.execute(
            "SELECT id FROM messages WHERE principal_id=? ORDER BY id LIMIT 3", (ken.id,))]
        entries = {m.thread_id: move_message(store, m.id, ken.id, "archive").id for m in messages}
        by_header = store.db.execute(
            "SELECT account_id, message_id_header, thread_id FROM messages WHERE principal_id=? ORDER BY id DESC LIMIT 1",
            (ken.id,)).fetchone()
        with store.transaction():  # an entry that names its message by Message-ID only (a reply sent, say)
            store.db.execute(
                "INSERT INTO outbox (principal_id, account_id, op, payload, idempotency_key, created_utc)"
                " VALUES (?, ?, 'send', json_object('message_id_header', ?), 'by-header', 0)",
                (ken.id, by_header["account_id"], by_header["message_id_header"]))
        header_entry = store.db.execute("SELECT id FROM outbox WHERE idempotency_key='by-header'").fetchone()[0]
        waiting = mail_store.threads_waiting_to_sync(scope)
        assert waiting == {**{t: {e} for t, e in entries.items()}, by_header["thread_id"]: {header_entry}}
        assert mail_store.threads_waiting_to_sync(store.scope(principals[0].id)) == {}  # Ken's entries are Ken's
        statements: list[str] = []
        store.db.set_trace_callback(statements.append)  # the SQL the read runs, its arguments filled in
        mail_store.threads_waiting_to_sync(scope)
        store.db.set_trace_callback(None)
        read = [sql for sql in statements if "FROM outbox" in sql]
        assert len(read) == 1
        plan = [str(r[3]) for r in store.db.execute("EXPLAIN QUERY PLAN " + read[0])]
        looked_up = [step for step in plan if step.startswith(("SCAN m", "SEARCH m"))]
        assert looked_up and all("remote_id=?" in step or "message_id_header=?" in step for step in looked_up), plan
    finally:
        store.close()
