"""On the demo workspace: a follow-up on a sent message fires when no reply came, and is cancelled when one did."""
from __future__ import annotations

import mailbox
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from assistant import reminders
from assistant.demo.build import build_demo
from assistant.store import Store
from assistant.store import mail as mail_store
from assistant.store import reminders as rstore
from assistant.sync.engine import sync_all

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_demo_follow_ups(tmp_path):
    build_demo(tmp_path / "ws", now=NOW)
    store = Store(tmp_path / "ws")
    try:
        follow_ups = {}
        for p in store.principals():
            (f,) = [r for r in rstore.listed(store.scope(p.id)) if r.kind == "follow-up"]
            follow_ups[p.name] = (p, f)
        assert len(follow_ups) == 3
        answered_p, answered = follow_ups["Dana Whitfield"]
        followed = mail_store.message(store.scope(answered_p.id), int(answered.link.split(":")[1]), with_body=False)
        reply = EmailMessage()
        reply["From"] = f"{followed.to[0].name} <{followed.to[0].email}>"
        reply["To"] = answered_p.primary_address
        reply["Subject"] = "Re: " + followed.subject
        reply["Date"] = "Mon, 02 Mar 2026 08:00:00 -0500"
        reply["Message-ID"] = "<demo-reply@example.org>"
        reply["In-Reply-To"] = followed.message_id_header
        reply.set_content("Thanks, received.\n")
        account = store.accounts(answered_p.id)[0]
        mailbox.Maildir(account.settings["maildir"]).add(reply.as_bytes())
        sync_all(store)
        assert rstore.get(store.scope(answered_p.id), answered.id).state == "cancelled"
        later = max(f.due_utc for _, f in follow_ups.values()) + timedelta(minutes=1)
        notices, _ = reminders.start_up(store, later, "UTC")
        fired = {n.principal_name for n in notices if n.reminder.kind == "follow-up"}
        assert fired == {"Kenji Sato", "Adaeze Okafor"}
    finally:
        store.close()
