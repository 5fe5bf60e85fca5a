"""Drafts for the demo workspace: a reply waiting for each principal's approval, asked by e-mail like a real one, one
they rejected, one they approved in person to go tomorrow morning their time, and one not submitted yet."""
from __future__ import annotations

from datetime import datetime, timedelta

from assistant.approvals import drafts, lifecycle
from assistant.core import timezones
from assistant.store import Store
from assistant.store import mail as mail_store
from assistant.store import snippets as snippet_store

REPLIES = [
    ("Thank you, that works for me. I will confirm the details by Friday.\n", None),
    ("Thanks for the note. Unfortunately the week you propose is full; could we look at the one after?\n",
     "too formal, and suggest Tuesday instead"),
]
SCHEDULED = "Thank you — confirmed. The signed copy follows in the morning.\n"
UNSENT = "Thanks for sending this over. A first thought before the full answer:\n"
# Each principal's snippets: a routine confirmation that needs no approval, a courtesy reply under the principal's own
# policy, and terms that are always shown to the principal first.
SNIPPETS = [
    ("confirm", "Dear {{first_name}},\n\nConfirmed, thank you: {{principal}} will be there.\n\n{{my_name}}\n"
                "Office of {{principal}}\n", "never"),
    ("thanks", "Dear {{first_name}},\n\nThank you for your message; {{principal}} will answer in person shortly.\n",
     ""),
    ("terms", "Our fee and terms for this engagement are set out in the attached letter of {{date}}.\n", "always"),
]


def add_demo_drafts(store: Store, now: datetime) -> None:
    """Runs after the demo's first sync; the caller syncs again so the approval requests land in each Sent folder."""
    for p in store.principals():
        scope = store.scope(p.id)
        for name, body, approval in SNIPPETS:
            snippet_store.save_snippet(scope, name, body, approval)
        account = next((a for a in store.accounts(p.id) if a.kind == "local"), None)
        if account is None:
            continue
        mine = {a.lower() for a in p.addresses}
        received = [(m, m.sender) for t in mail_store.threads(scope, limit=10) for m in mail_store.thread_messages(scope, t.id)
                    if m.sender and m.sender.email.lower() not in mine]
        for (body, rejection), (parent, sender) in zip(REPLIES, received[:2], strict=False):
            assert sender is not None  # kept above
            greeting = f"Dear {sender.name.split()[0]},\n\n" if sender.name else ""
            d = drafts.save_draft(store, p.id, account.id, to=str(sender), subject="",
                                  body_text=f"{greeting}{body}\nBest regards,\n{p.name}\n",
                                  in_reply_to=parent.message_id_header, approval="always")
            drafts.submit_draft(store, p.id, d.id, now=now)
            if rejection:
                lifecycle.approve_in_person(store, p.id, d.id, decision="reject", comment=rejection,
                                            confirmed_by="the demo", now=now)
        # the Outgoing tab's Scheduled and Drafts: replies to messages without attachments (a reply to one of those
        # would reopen its saved draft)
        plain = [(m, s) for m, s in received[2:]
                 if not m.attachments and "out of office" not in m.subject.lower()][:2]
        morning = timezones.in_zone(now, p.timezone).replace(hour=9, minute=0, second=0, microsecond=0) \
            + timedelta(days=1)
        for (parent, sender), body in zip(plain, (SCHEDULED, UNSENT), strict=False):
            assert sender is not None  # kept above
            greeting = f"Dear {sender.name.split()[0]},\n\n" if sender.name else ""
            d = drafts.save_draft(store, p.id, account.id, to=str(sender), subject="",
                                  body_text=f"{greeting}{body}\nBest regards,\n{p.name}\n",
                                  in_reply_to=parent.message_id_header, approval="always")
            if body == SCHEDULED:
                drafts.submit_draft(store, p.id, d.id, now=now, send_at=morning)
                lifecycle.approve_in_person(store, p.id, d.id, confirmed_by="the demo", now=now)
