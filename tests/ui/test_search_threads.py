"""The search box's threads, read straight from the matching rows (issue 17), are the threads the search box showed
when it built every matching ``Message`` and grouped them: on the demo workspace and on a generated one, for one
principal and for all of them, at page sizes that cut threads and principals apart."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from assistant.cli import main as cli
from assistant.demo.build import build_demo
from assistant.domain import Message, Thread
from assistant.store import Store
from assistant.store import mail as mail_store
from benchmarks import generate, search_bench

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
LIMITS = (500, 40, 7, 1)


def threads_from_messages(principal_id: int, messages: list[Message]) -> list[Thread]:
    """The search box's old path, kept here as the oracle the rows' path is held to: search hits grouped by thread, newest first; the counts are of matching messages. Each thread is its messages'
    principal's (hits from several principals stay apart: a thread id is one principal's); ``principal_id`` is for
    messages that carry none."""
    grouped: dict[int, list[Message]] = {}
    for m in messages:
        if m.thread_id is not None:
            grouped.setdefault(m.thread_id, []).append(m)
    threads = []
    for thread_id, hits in grouped.items():
        dated = [m.date_utc for m in hits if m.date_utc]
        senders = list(dict.fromkeys((m.sender.name or m.sender.email) for m in hits if m.sender))
        by_date = sorted(hits, key=lambda m: (m.date_utc is not None, m.date_utc or 0))
        oldest, newest = by_date[0], by_date[-1]
        threads.append(Thread(
            id=thread_id, principal_id=oldest.principal_id or principal_id, subject=oldest.subject,
            last_date_utc=max(dated) if dated else None,
            message_count=len(hits), unread_count=sum(not m.is_read for m in hits),
            has_attachments=any(m.attachments for m in hits), is_flagged=any(m.is_flagged for m in hits),
            participants=senders[:4], snippet=newest.snippet,
        ))
    threads.sort(key=lambda t: (t.last_date_utc is not None, t.last_date_utc or 0), reverse=True)
    return threads


def assert_same_threads_as_the_messages_grouped(store: Store, queries: list[str]) -> int:
    """Old and new for every principal and for all of them; returns how many threads were compared."""
    compared = 0
    for query in queries:
        for limit in LIMITS:
            for p in store.principals():
                scope = store.scope(p.id)
                old = threads_from_messages(p.id, mail_store.search_messages(scope, query, limit))
                assert mail_store.search_threads(scope, query, limit) == old, (query, limit, p.name)
                if limit == LIMITS[-1] and old:  # a whole thread, as a link opens it: all its messages grouped
                    newest_first = mail_store.thread_messages(scope, old[0].id)[::-1]  # as search hits come
                    whole = threads_from_messages(p.id, newest_first)
                    assert [mail_store.thread_summary(scope, old[0].id)] == whole, (query, p.name)
                compared += len(old)
            old = threads_from_messages(0, mail_store.search_across_principals(store, query, limit))
            assert mail_store.search_threads_across_principals(store, query, limit) == old, (query, limit)
            compared += len(old)
    return compared


def words_of_subjects(store: Store, n: int) -> list[str]:
    """Words the workspace's subjects hold, the most common first: queries with many hits and threads of several."""
    counts: dict[str, int] = {}
    for (subject,) in store.db.execute("SELECT subject FROM messages"):
        for word in subject.split():
            if word.isalpha() and len(word) > 3:
                counts[word.lower()] = counts.get(word.lower(), 0) + 1
    return sorted(counts, key=lambda w: -counts[w])[:n]


def test_the_demos_search_threads_are_its_hits_grouped(tmp_path):
    build_demo(tmp_path / "ws", now=NOW)
    store = Store(tmp_path / "ws")
    try:
        sender = store.db.execute("SELECT sender_email FROM messages WHERE sender_email!='' LIMIT 1").fetchone()[0]
        queries = [*words_of_subjects(store, 8), "is:unread", "has:attachment", "is:flagged", f"from:{sender}",
                   "after:2026-02-01", "re", "nothing-like-this"]
        assert assert_same_threads_as_the_messages_grouped(store, queries) > 100
        threads = mail_store.search_threads_across_principals(store, "is:unread", 500)
        assert len({t.principal_id for t in threads}) > 1 and any(t.message_count > 1 for t in threads)
    finally:
        store.close()


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Store:
    tmp = tmp_path_factory.mktemp("generated")
    manifest = generate.generate(out=tmp / "workload", principals=3, messages=250, quiet=True)
    workspace = tmp / "ws"
    for p in manifest["principals"]:
        assert cli.main(["--workspace", str(workspace), "principal", "add", p["name"], "--email", p["addresses"][0],
                         "--timezone", p["timezone"], "--region", p["region"]]) == 0
        assert cli.main(["--workspace", str(workspace), "import", str(tmp / "workload" / p["maildir"]),
                         "--principal", p["name"]]) == 0
    store = Store(workspace)
    yield store
    store.close()


def test_a_generated_workspaces_search_threads_are_its_hits_grouped(generated):
    queries = [q.ours for q in search_bench.QUERIES] + words_of_subjects(generated, 6)
    assert assert_same_threads_as_the_messages_grouped(generated, queries) > 1000
    threads = mail_store.search_threads_across_principals(generated, words_of_subjects(generated, 1)[0], 500)
    assert any(t.message_count > 1 for t in threads) and len({t.principal_id for t in threads}) == 3
