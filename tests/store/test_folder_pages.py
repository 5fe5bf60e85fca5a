"""A folder's page of threads: newest first, paged, one principal only — the same rows as reading every message's
folders gives, from a query whose cost follows the page, not the mailbox."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from assistant.domain import Account, Address, Message, Principal
from assistant.store import Store
from assistant.store import mail as mail_store

BASE = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def reference_page(store: Store, principal_id: int, folder: str, offset: int, limit: int) -> list[int]:
    """What the folder filter means, spelled out: threads with a message in the folder, newest first."""
    rows = store.db.execute(
        "SELECT id FROM threads WHERE principal_id=? AND id IN (SELECT thread_id FROM messages,"
        " json_each(messages.folders) f WHERE messages.principal_id=? AND f.value=?)"
        " ORDER BY last_date_utc DESC, id DESC LIMIT ? OFFSET ?",
        (principal_id, principal_id, folder, limit, offset),
    )
    return [r[0] for r in rows]


def test_folder_pages_are_the_threads_with_a_message_there(tmp_path):
    store = Store(tmp_path / "ws")
    rng = random.Random(5)
    ann = store.add_principal(Principal("Ann", "UTC", ["ann@example.com"]))
    ken = store.add_principal(Principal("Ken", "Asia/Tokyo", ["ken@example.com"]))
    for principal in (ann, ken):
        account = store.add_account(Account(principal.id, "local", principal.primary_address))
        scope = store.scope(principal.id)
        for n in range(300):
            parent = rng.randrange(n) if n and rng.random() < 0.4 else None
            folders = rng.choice([["INBOX"], ["Sent"], ["INBOX", "Label"], ["Archive"]])
            mail_store.upsert_message(scope, Message(
                principal.id, account.id, f"{principal.name}-{n}", f"Subject {n}", Address("S", "s@example.org"),
                date_utc=BASE + timedelta(minutes=rng.randrange(5000)),  # ties in time too: the id decides
                message_id_header=f"<{principal.name}-{n}@example.org>",
                in_reply_to=f"<{principal.name}-{parent}@example.org>" if parent is not None else "",
                folders=folders,
            ))
    for principal in (ann, ken):
        scope = store.scope(principal.id)
        for folder in ("INBOX", "Sent", "Label", "Archive", "Nowhere"):
            for offset in (0, 50, 100, 250):
                page = [t.id for t in mail_store.threads(scope, offset, 50, folder=folder)]
                assert page == reference_page(store, principal.id, folder, offset, 50)
                assert all(t.principal_id == principal.id for t in mail_store.threads(scope, offset, 50, folder=folder))
        assert mail_store.threads(scope, 0, 50, folder="INBOX") and not mail_store.threads(scope, 0, 50, folder="Nowhere")
    store.close()
