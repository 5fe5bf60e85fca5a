"""The Gmail connector through the real google-api-python-client against the fake Google in tests/fakes/google.py."""
from __future__ import annotations

import base64
import email
import email.policy
import json
from datetime import UTC
from email.message import EmailMessage

import pytest

from assistant.connectors import load
from assistant.connectors.base import Capability
from assistant.connectors.gmail import GmailConnector
from assistant.core.credentials import CredentialStore
from assistant.core.errors import NeedsSignIn, PermanentError, TransientError
from assistant.domain import Account, AccountStatus, OutboxEntry, Principal
from assistant.store import Store
from assistant.store import calendar as calendar_store
from assistant.store import mail as mail_store
from assistant.sync import actions
from assistant.sync.engine import sync_account
from tests.connectors.contract import ConnectorContract, ServerHandle, make_raw
from tests.fakes.google import FakeGoogle, error_body


class FakeClock:
    """Time that passes only when someone sleeps: backoff and quota waits cost nothing and are recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def google(monkeypatch):
    fake = FakeGoogle().start()
    monkeypatch.setenv("ASSISTANT_GOOGLE_API_ROOT", fake.root)
    yield fake
    fake.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def header_of(message: dict) -> str:
    return email.message_from_bytes(message["raw"], policy=email.policy.compat32)["Message-ID"]


class GoogleServer(ServerHandle):
    kind = "gmail"

    def __init__(self, fake: FakeGoogle, clock: FakeClock):
        self.fake = fake
        self.clock = clock
        self.key = f"gmail:test:{self.address}"
        self.connectors: list[GmailConnector] = []

    def settings(self):
        CredentialStore().set(self.key, json.dumps(self.fake.issue_credentials()))
        return {"credential_key": self.key, "calendar_id": "primary"}

    def connector(self, account: Account, **options) -> GmailConnector:
        options = {"sleep": self.clock.sleep, "clock": self.clock, **options}
        connector = GmailConnector(account, **options)
        self.connectors.append(connector)  # closed when the test ends, as the app closes them after a pass
        return connector

    def close(self) -> None:
        for connector in self.connectors:
            connector.close()

    def remote_id(self, message_id_header: str) -> str:
        with self.fake.lock:
            return next(m["id"] for m in self.fake.messages.values() if header_of(m) == message_id_header)

    def add_message(self, raw):
        return self.fake.add_message(raw)

    def remove_message(self, message_id_header):
        self.fake.delete_message(self.remote_id(message_id_header))

    def set_flags(self, message_id_header, *, read=None, flagged=None):
        add, remove = [], []
        if read is not None:
            (remove if read else add).append("UNREAD")
        if flagged is not None:
            (add if flagged else remove).append("STARRED")
        self.fake.modify_message(self.remote_id(message_id_header), add, remove)

    def flags(self, message_id_header):
        labels = self.fake.messages[self.remote_id(message_id_header)]["labelIds"]
        return {"read": "UNREAD" not in labels, "flagged": "STARRED" in labels}

    def sent_message_ids(self):
        return [header_of(m) for m in self.fake.sent()]


class TestGmailContract(ConnectorContract):
    @pytest.fixture
    def server(self, google, clock):
        handle = GoogleServer(google, clock)
        yield handle
        handle.close()


# -- helpers for the Gmail-only tests ---------------------------------------------------------------------------------
@pytest.fixture
def server(google, clock) -> GoogleServer:
    handle = GoogleServer(google, clock)
    yield handle
    handle.close()


@pytest.fixture
def account(workspace: Store, server: GoogleServer) -> Account:
    principal = workspace.add_principal(Principal("Ada", "America/New_York", [server.address]))
    return workspace.add_account(Account(principal.id, "gmail", server.address, server.settings()))


def seed(server: GoogleServer, count: int, start: int = 0) -> list[str]:
    return [server.add_message(make_raw(n, subject=f"Message number {n}")) for n in range(start, start + count)]


def stored_headers(store: Store, account: Account) -> list[str]:
    return [r[0] for r in store.db.execute("SELECT message_id_header FROM messages WHERE account_id=?", (account.id,))]


def sync(store: Store, server: GoogleServer, account: Account, **options):
    return sync_account(store, account.id, server.connector(store.account(account.id), **options))


def test_registered_under_the_entry_point_group():
    assert load("gmail") is GmailConnector
    assert Capability.LABELS in GmailConnector.capabilities


def test_full_sync_streams_newest_first_in_small_batches(google, server, account):
    seed(server, 120)
    pages = list(server.connector(account).mail_changes(None))
    dates = [m.date_utc for page in pages for m, _ in page.upserted]
    assert len(dates) == 120
    assert dates == sorted(dates, reverse=True)
    # Half-second batches (two fit in a second's quota), each a page stored as it arrives.
    assert all(page.full for page in pages) and [len(p.upserted) for p in pages] == [25, 25, 25, 25, 20]
    assert [p.cursor is not None for p in pages] == [False, False, False, False, True]
    assert google.batch_sizes == [25, 25, 25, 25, 20]
    assert google.calls("GET", r"/batch") == 0 and google.calls("POST", r"^/batch/gmail/v1$") == 5
    full_fetches = [q for m, p, q, b in google.requests if b and p.startswith("/gmail/v1/users/me/messages/")]
    assert len(full_fetches) == 120 and {q.get("format") for q in full_fetches} == {"full"}


def test_full_then_incremental_sync(workspace, google, server, account):
    ids = seed(server, 8)
    report = sync(workspace, server, account)
    assert report.errors == [] and report.mail["added"] == 8
    label = google.add_label("Clients/Acme")
    google.modify_message(ids[1], add=[label])
    google.modify_message(ids[2], remove=["UNREAD"], add=["STARRED"])
    google.delete_message(ids[3])
    server.add_message(make_raw(50, subject="Fresh news"))
    google.reset_log()
    report = sync(workspace, server, account)
    assert report.errors == []
    assert report.mail == {"added": 1, "updated": 2, "removed": 1}
    assert google.calls("GET", "/messages$") == 0  # incremental: no listing
    assert google.calls("GET", "/history$") == 1
    scope = workspace.scope(account.principal_id)
    filed = mail_store.message_by_header_id(scope, "<contract-1@example.org>")
    assert label in filed.folders and "INBOX" in filed.folders
    assert {f.name: f.role for f in mail_store.folders(scope)}["Clients/Acme"] == ""
    assert mail_store.folder_by_role(scope, account.id, "inbox").remote_id == "INBOX"
    starred = mail_store.message_by_header_id(scope, "<contract-2@example.org>")
    assert starred.is_read and starred.is_flagged
    assert mail_store.message_by_header_id(scope, "<contract-3@example.org>") is None
    assert [m.subject for m in mail_store.search_messages(scope, "fresh")] == ["Fresh news"]


def test_no_change_pass_costs_one_history_list_and_one_events_list(workspace, google, server, account):
    seed(server, 3)
    google.add_event({"summary": "Board meeting", "start": {"dateTime": "2026-03-02T15:00:00Z"},
                      "end": {"dateTime": "2026-03-02T16:00:00Z"}})
    sync(workspace, server, account)
    google.reset_log()
    report = sync(workspace, server, account)
    assert report.errors == []
    assert [(m, p) for m, p, _q, _b in google.requests] == [
        ("GET", "/gmail/v1/users/me/history"), ("GET", "/calendars/primary/events")]
    assert report.requests == 2
    assert report.mail == {"added": 0, "updated": 0, "removed": 0}


def test_expired_history_falls_back_to_a_full_resync_without_duplicates(workspace, google, server, account):
    ids = seed(server, 6)
    sync(workspace, server, account)
    google.expire_history()
    server.add_message(make_raw(60, subject="After the gap"))
    google.delete_message(ids[0])
    google.reset_log()
    report = sync(workspace, server, account)
    assert report.errors == []
    assert google.statuses[0] == 404  # history.list refused the old id
    assert google.calls("GET", "/messages$") == 1  # then everything was listed again
    headers = stored_headers(workspace, account)
    assert len(headers) == len(set(headers)) == 6
    assert "<contract-60@example.org>" in headers and "<contract-0@example.org>" not in headers
    assert report.mail["added"] == 1 and report.mail["removed"] == 1
    # The new cursor works: the next pass is incremental again.
    google.reset_log()
    sync(workspace, server, account)
    assert google.calls("GET", "/messages$") == 0


def test_429_inside_a_batch_is_retried_with_backoff(workspace, google, server, account, clock):
    seed(server, 10)
    google.inject(429, r"GET /gmail/v1/users/me/messages/", count=3, in_batch=True)
    google.inject(403, r"GET /gmail/v1/users/me/messages/", count=1, in_batch=True,
                  body=error_body("user_rate_limit_403_with_status.json"))
    report = sync(workspace, server, account)
    assert report.errors == []
    assert report.mail["added"] == 10
    assert sorted(google.batch_sizes) == [4, 10]  # only the refused calls went again
    assert len(clock.sleeps) == 1 and 1.0 <= clock.sleeps[0] <= 2.0


def test_backoff_grows_and_gives_up_as_transient(google, server, account, clock):
    seed(server, 2)
    google.inject(503, r"/gmail/v1/users/me/profile", count=10)
    connector = server.connector(account)
    with pytest.raises(TransientError):
        list(connector.mail_changes(None))
    assert len(clock.sleeps) == 5 and connector.requests_made == 6
    assert all(later > earlier for earlier, later in zip(clock.sleeps, clock.sleeps[1:], strict=False))
    assert max(clock.sleeps) <= 33.0


def test_other_403_is_not_retried(workspace, google, server, account, clock):
    seed(server, 2)
    google.inject(403, r"/gmail/v1/users/me/profile", count=1, body=error_body("not_configured_403.json"))
    connector = server.connector(account)
    with pytest.raises(PermanentError, match="accessNotConfigured"):
        list(connector.mail_changes(None))
    assert clock.sleeps == [] and connector.requests_made == 1
    report = sync(workspace, server, account)  # the next pass goes through
    assert report.errors == [] and report.mail["added"] == 2


def test_revoked_grant_marks_the_account_needs_sign_in_and_keeps_the_outbox(workspace, google, server, account):
    seed(server, 2)
    sync(workspace, server, account)
    message = mail_store.message_by_header_id(workspace.scope(account.principal_id), "<contract-0@example.org>")
    actions.mark_read(workspace, message.id, account.principal_id)
    google.revoke_grants()
    report = sync(workspace, server, account)
    assert report.status == AccountStatus.NEEDS_SIGN_IN.value
    assert workspace.account(account.id).status is AccountStatus.NEEDS_SIGN_IN
    assert "sign in again" in report.errors[0]
    assert [e.state for e in workspace.outbox(account.id)] == ["pending"]
    with pytest.raises(NeedsSignIn):
        list(server.connector(workspace.account(account.id)).calendar_changes(None))


def test_expired_access_token_is_refreshed_silently(workspace, google, server, account):
    seed(server, 2)
    sync(workspace, server, account)
    google.expire_access_tokens()
    server.add_message(make_raw(9))
    report = sync(workspace, server, account)
    assert report.errors == [] and report.mail["added"] == 1


class Killed(BaseException):
    """The process dies: not an Exception, so nothing in the engine catches it."""


def test_kill_between_send_requested_and_confirmed_does_not_send_twice(workspace, google, server, account):
    seed(server, 1)
    sync(workspace, server, account)
    entry = actions.send_message(workspace, account.principal_id, account.id, to="zoe@example.org",
                                 subject="Figures", body_text="Attached, as promised.")

    class DiesAfterTheServerAccepted(GmailConnector):
        def apply(self, entry):
            super().apply(entry)
            raise Killed()

    dying = DiesAfterTheServerAccepted(workspace.account(account.id), sleep=server.clock.sleep, clock=server.clock)
    server.connectors.append(dying)
    with pytest.raises(Killed):
        sync_account(workspace, account.id, dying)
    assert workspace.outbox_entry(entry.id).state == "in-flight"
    assert server.sent_message_ids().count(entry.payload["message_id_header"]) == 1

    report = sync(workspace, server, account)  # the restarted app
    assert report.errors == [] and report.outbox["sent"] == 1
    assert workspace.outbox_entry(entry.id).state == "done"
    assert server.sent_message_ids().count(entry.payload["message_id_header"]) == 1
    assert google.calls("POST", "/messages/send$") == 1
    headers = stored_headers(workspace, account)
    assert headers.count(entry.payload["message_id_header"]) == 1


def test_send_after_a_5xx_is_left_to_the_outbox_not_resent_blindly(google, server, account):
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = server.address, "zoe@example.org", "Hello"
    msg["Message-ID"] = "<k-5xx@example.com>"
    msg.set_content("Hi")
    entry = OutboxEntry(account.principal_id, account.id, "send",
                        {"raw": base64.b64encode(msg.as_bytes()).decode(), "message_id_header": "<k-5xx@example.com>"},
                        "k-5xx", id=7)
    google.inject(500, r"POST /gmail/v1/users/me/messages/send", count=1)
    with pytest.raises(TransientError):
        server.connector(account).apply(entry)
    assert google.calls("POST", "/messages/send$") == 1
    result = server.connector(account).apply(entry)
    assert server.sent_message_ids() == ["<k-5xx@example.com>"] and result["remote_id"]


def test_reply_is_sent_into_the_servers_thread(workspace, google, server, account):
    ids = seed(server, 1)
    sync(workspace, server, account)
    entry = actions.send_message(workspace, account.principal_id, account.id, to="zoe@example.org", subject="",
                                 body_text="Thanks!", in_reply_to="<contract-0@example.org>")
    report = sync(workspace, server, account)
    assert report.errors == []
    sent = google.sent()
    assert len(sent) == 1 and sent[0]["threadId"] == google.messages[ids[0]]["threadId"]
    assert workspace.outbox_entry(entry.id).result["remote_id"] == sent[0]["id"]


def test_move_archive_and_trash_change_labels(workspace, google, server, account):
    ids = seed(server, 2)
    label = google.add_label("Receipts")
    sync(workspace, server, account)
    scope = workspace.scope(account.principal_id)
    actions.move_message(workspace, mail_store.message_by_header_id(scope, "<contract-0@example.org>").id,
                         account.principal_id, "archive")
    actions.move_message(workspace, mail_store.message_by_header_id(scope, "<contract-1@example.org>").id,
                         account.principal_id, label)
    report = sync(workspace, server, account)
    assert report.errors == []
    assert "INBOX" not in google.messages[ids[0]]["labelIds"]
    assert label in google.messages[ids[1]]["labelIds"] and "INBOX" not in google.messages[ids[1]]["labelIds"]
    connector = server.connector(account)
    connector.apply(OutboxEntry(account.principal_id, account.id, "move", {"remote_id": ids[0], "to": "trash"}, "t"))
    assert "TRASH" in google.messages[ids[0]]["labelIds"]


def test_drafts_create_update_delete_idempotently(google, server, account):
    def draft(body: str) -> str:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = server.address, "zoe@example.org", "Draft"
        msg["Message-ID"] = "<draft-1@example.com>"
        msg.set_content(body)
        return base64.b64encode(msg.as_bytes()).decode()

    connector = server.connector(account)
    entry = OutboxEntry(account.principal_id, account.id, "save-draft",
                        {"raw": draft("first"), "message_id_header": "<draft-1@example.com>"}, "d1")
    created = connector.apply(entry)
    assert connector.apply(entry) == created  # a retry finds the draft instead of making another
    assert len(google.drafts) == 1
    update = OutboxEntry(account.principal_id, account.id, "save-draft",
                         {"raw": draft("second"), "message_id_header": "<draft-1@example.com>",
                          "draft_remote_id": created["draft_remote_id"]}, "d2")
    connector.apply(update)
    assert len(google.drafts) == 1
    assert b"second" in google.messages[google.drafts[created["draft_remote_id"]]]["raw"]
    delete = OutboxEntry(account.principal_id, account.id, "delete-draft",
                         {"draft_remote_id": created["draft_remote_id"]}, "d3")
    connector.apply(delete)
    connector.apply(delete)
    assert google.drafts == {}


# -- calendar ---------------------------------------------------------------------------------------------------------
WEEKLY = {
    "id": "standup", "iCalUID": "standup@google.com", "summary": "Stand-up",
    "start": {"dateTime": "2026-01-05T09:00:00-05:00", "timeZone": "America/New_York"},
    "end": {"dateTime": "2026-01-05T09:15:00-05:00", "timeZone": "America/New_York"},
    "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=10"],
}
MOVED = {
    "id": "standup_20260112T140000Z", "iCalUID": "standup@google.com", "recurringEventId": "standup",
    "summary": "Stand-up (moved)",
    "originalStartTime": {"dateTime": "2026-01-12T09:00:00-05:00", "timeZone": "America/New_York"},
    "start": {"dateTime": "2026-01-12T11:00:00-05:00", "timeZone": "America/New_York"},
    "end": {"dateTime": "2026-01-12T11:15:00-05:00", "timeZone": "America/New_York"},
}
CANCELLED = {
    "id": "standup_20260119T140000Z", "iCalUID": "standup@google.com", "recurringEventId": "standup",
    "status": "cancelled",
    "originalStartTime": {"dateTime": "2026-01-19T09:00:00-05:00", "timeZone": "America/New_York"},
}


def test_recurring_series_with_exceptions_is_one_event_with_its_ics(workspace, google, server, account):
    for resource in (WEEKLY, MOVED, CANCELLED):
        google.add_event(resource)
    google.add_event({"id": "holiday", "summary": "Office closed", "start": {"date": "2026-01-19"},
                      "end": {"date": "2026-01-20"}})
    report = sync(workspace, server, account)
    assert report.errors == [] and report.events["added"] == 2
    events = {e.summary: e for e in calendar_store.events(workspace.scope(account.principal_id))}
    standup = events["Stand-up"]
    assert standup.rrule == "FREQ=WEEKLY;BYDAY=MO;COUNT=10" and standup.timezone == "America/New_York"
    assert standup.start_utc.isoformat() == "2026-01-05T14:00:00+00:00"
    assert "RECURRENCE-ID;TZID=America/New_York:20260112T090000" in standup.ics
    assert "EXDATE;TZID=America/New_York:20260119T090000" in standup.ics
    assert "BEGIN:VTIMEZONE" in standup.ics
    holiday = events["Office closed"]
    assert holiday.all_day and str(holiday.start_date) == "2026-01-19"


def test_changed_occurrence_alone_rebuilds_the_whole_series(workspace, google, server, account):
    for resource in (WEEKLY, MOVED):
        google.add_event(resource)
    sync(workspace, server, account)
    google.add_event(CANCELLED)  # someone cancels one Monday: only that exception changes
    report = sync(workspace, server, account)
    assert report.errors == [] and report.events == {"added": 0, "updated": 1, "removed": 0}
    (standup,) = calendar_store.events(workspace.scope(account.principal_id))
    assert "EXDATE" in standup.ics and "RECURRENCE-ID" in standup.ics


def test_expired_sync_token_falls_back_to_a_full_listing(workspace, google, server, account):
    first = google.add_event({"summary": "Lunch", "start": {"dateTime": "2026-02-02T12:00:00Z"},
                              "end": {"dateTime": "2026-02-02T13:00:00Z"}})
    second = google.add_event({"summary": "Dentist", "start": {"dateTime": "2026-02-03T08:00:00Z"},
                               "end": {"dateTime": "2026-02-03T09:00:00Z"}})
    sync(workspace, server, account)
    google.expire_sync_tokens()
    google.update_event(first, {"summary": "Lunch with Kemi"})
    google.delete_event(second)
    google.reset_log()
    report = sync(workspace, server, account)
    assert report.errors == []
    assert 410 in google.statuses
    listings = [q for m, p, q, b in google.requests if p == "/calendars/primary/events"]
    assert "syncToken" in listings[0] and "syncToken" not in listings[1]
    assert [e.summary for e in calendar_store.events(workspace.scope(account.principal_id))] == ["Lunch with Kemi"]
    assert report.events == {"added": 0, "updated": 1, "removed": 1}
    assert workspace.get_cursor(account.id, "calendar") == f"sync-{google.event_seq}"


def test_event_create_update_delete_are_idempotent(workspace, google, server, account):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    sync(workspace, server, account)
    zone = ZoneInfo("Africa/Lagos")
    entry = actions.create_event(workspace, account.principal_id, account.id, summary="Call with Tokyo",
                                 start=datetime(2026, 4, 1, 9, 0, tzinfo=zone),
                                 end=datetime(2026, 4, 1, 9, 30, tzinfo=zone))
    connector = server.connector(workspace.account(account.id))
    created = connector.apply(entry)
    assert connector.apply(entry) == created  # retried after a crash: Google answers 409, no copy
    assert [e["summary"] for e in google.events.values()] == ["Call with Tokyo"]
    event = google.events[created["remote_id"]]
    # written in the principal's own zone, so a recurrence would keep its wall-clock time across DST
    assert event["start"] == {"dateTime": "2026-04-01T04:00:00-04:00", "timeZone": "America/New_York"}
    report = sync(workspace, server, account)
    assert report.errors == []
    (stored,) = calendar_store.events(workspace.scope(account.principal_id))
    assert stored.remote_id == created["remote_id"]
    connector.apply(OutboxEntry(account.principal_id, account.id, "event-update",
                                {"remote_id": created["remote_id"], "ics": entry.payload["ics"].replace(
                                    "Call with Tokyo", "Call with Osaka")}, "u1"))
    assert google.events[created["remote_id"]]["summary"] == "Call with Osaka"
    delete = OutboxEntry(account.principal_id, account.id, "event-delete", {"remote_id": created["remote_id"]}, "x1")
    connector.apply(delete)
    connector.apply(delete)
    assert google.events[created["remote_id"]]["status"] == "cancelled"


def test_free_busy_for_the_slot_finder(google, server, account):
    from datetime import datetime

    google.add_event({"summary": "Board", "start": {"dateTime": "2026-03-02T15:00:00Z"},
                      "end": {"dateTime": "2026-03-02T16:00:00Z"}})
    google.add_event({"summary": "Next week", "start": {"dateTime": "2026-03-09T15:00:00Z"},
                      "end": {"dateTime": "2026-03-09T16:00:00Z"}})
    busy = server.connector(account).free_busy(
        [server.address, "stranger@elsewhere.example"],
        datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC))
    assert busy == {
        server.address: [(datetime(2026, 3, 2, 15, tzinfo=UTC), datetime(2026, 3, 2, 16, tzinfo=UTC),
                          "busy")],
        "stranger@elsewhere.example": [],
    }
    assert google.calls("POST", "^/freeBusy$") == 1


# -- quota ------------------------------------------------------------------------------------------------------------
def test_full_sync_stays_within_the_per_user_quota(workspace, google, server, account, clock):
    seed(server, 300)
    google.clock = clock
    google.set_quota(per_second=250, per_minute=15000)
    report = sync(workspace, server, account, quota_per_second=250, quota_per_minute=15000)
    assert report.errors == [] and report.mail["added"] == 300
    assert 429 not in google.statuses
    units = 1 + 1 + 5 + 300 * 5 + 0  # profile, labels, one list page, 300 gets
    # Paced at the quota-bound rate: the simulated time is close to units / 250 per second, not far beyond it.
    elapsed = sum(clock.sleeps)
    assert (units - 250) / 250 * 0.9 <= elapsed <= units / 250 * 1.1


def test_quota_budget_waits_for_the_oldest_units_to_leave_the_window(clock):
    from assistant.connectors.gmail.ratelimit import QuotaBudget

    budget = QuotaBudget(250, None, clock=clock, sleep=clock.sleep, margin=0)
    for _ in range(50):
        budget.spend(5)
    assert clock.sleeps == []
    budget.spend(5)  # the 51st get in the same second waits for the first to leave the window
    assert clock.sleeps == [pytest.approx(1.0)]
    for _ in range(49):
        budget.spend(5)
    assert clock.now - 1000.0 == pytest.approx(1.0)  # the rest of the second batch fits once the first has left


def test_backoff_is_truncated_exponential_with_jitter():
    from assistant.connectors.gmail.ratelimit import Backoff

    assert [Backoff(rand=lambda: 0.0).delay(n) for n in range(7)] == [1, 2, 4, 8, 16, 32, 32]
    assert Backoff(rand=lambda: 0.5).delay(2) == 4.5


def test_send_whose_answer_was_lost_is_found_not_sent_again(google, server, account):
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = server.address, "zoe@example.org", "Hello"
    msg["Message-ID"] = "<k-lost@example.com>"
    msg.set_content("Hi")
    entry = OutboxEntry(account.principal_id, account.id, "send",
                        {"raw": base64.b64encode(msg.as_bytes()).decode(), "message_id_header": "<k-lost@example.com>"},
                        "k-lost", id=8)
    google.lose_responses(r"POST /gmail/v1/users/me/messages/send$")
    with pytest.raises(TransientError):
        server.connector(account).apply(entry)
    assert server.sent_message_ids() == ["<k-lost@example.com>"]
    result = server.connector(account).apply(entry)  # the outbox's retry
    assert server.sent_message_ids() == ["<k-lost@example.com>"] and result["remote_id"]


def test_quota_counts_a_call_from_its_answer_not_from_when_it_left(clock):
    from assistant.connectors.gmail.ratelimit import QuotaBudget

    budget = QuotaBudget(250, None, clock=clock, sleep=clock.sleep)
    for _ in range(50):
        budget.spend(5)
    clock.now += 0.3  # the batch was on the way; the server counted it somewhere in these 0.3 s
    budget.settle(50)
    budget.spend(5)
    assert clock.now - 1000.0 == pytest.approx(1.3)  # a window after the answer, when the server has surely let go


def test_newer_projects_quota_comes_from_the_account_settings(workspace, google, server, account, clock):
    seed(server, 320)
    workspace.update_account_settings(account.id, {**account.settings, "quota_per_minute": 6000, "units_per_get": 20})
    connector = server.connector(workspace.account(account.id))
    report = sync_account(workspace, account.id, connector)
    assert report.errors == [] and report.mail["added"] == 320
    assert connector.quota.spent == 1 + 1 + 5 + 320 * 20  # 6,407 units: more than a minute's 6,000
    assert clock.now - 1000.0 >= 60.0  # so part of it waited for the first minute's units to leave the window


def test_health_says_who_is_signed_in_or_what_to_do(google, server, account):
    assert server.connector(account).health() == "ok: signed in as principal@example.com"
    google.revoke_grants()
    assert "sign in again" in server.connector(account).health()


def _outgoing(server, header: str, key: str) -> OutboxEntry:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = server.address, "zoe@example.org", "Hello"
    msg["Message-ID"] = header
    msg.set_content("Hi")
    return OutboxEntry(1, 1, "send", {"raw": base64.b64encode(msg.as_bytes()).decode(), "message_id_header": header},
                       key, id=9)


@pytest.mark.parametrize("draft_first", [True, False])
def test_a_draft_with_the_same_message_id_is_not_taken_for_the_sent_copy_nor_hides_it(google, server, account,
                                                                                    draft_first):
    """Reported: the "already sent?" check looked at the first search hit only."""
    entry = _outgoing(server, "<k-twice@example.com>", "k-twice")
    raw = base64.b64decode(entry.payload["raw"])
    copies = [(raw, ["DRAFT"]), (raw, ["SENT"])]
    ids = [google.add_message(r, labels=labels) for r, labels in (copies if draft_first else copies[::-1])]
    sent_id = ids[1] if draft_first else ids[0]
    result = server.connector(account).apply(entry)
    assert result["remote_id"] == sent_id
    assert google.calls("POST", "/messages/send$") == 0  # found: not sent a second time


def test_a_sent_message_whose_id_only_resembles_ours_is_not_taken_for_it(google, server, account):
    """Reported: Gmail's search is by words, and the first hit was trusted without comparing its Message-ID."""
    google.loose_msgid_search = True
    other = _outgoing(server, "<k-lookalike.extra@example.com>", "other")
    google.add_message(base64.b64decode(other.payload["raw"]), labels=["SENT"])
    entry = _outgoing(server, "<k-lookalike@example.com>", "k-lookalike")
    server.connector(account).apply(entry)
    assert google.calls("POST", "/messages/send$") == 1  # ours had never gone out: it is sent now


def test_a_failing_google_token_endpoint_is_one_readable_line(workspace, google, server, account):
    """Reported: a 5xx from Google's token endpoint showed a raw Python tuple."""
    seed(server, 1)
    sync(workspace, server, account)
    google.expire_access_tokens()
    google.inject(503, r"POST /token$", count=10, body={"error": "server_error", "error_description": "Backend Error"})
    report = sync_account(workspace, account.id, server.connector(workspace.account(account.id)))
    assert report.status == "offline" and report.errors, report.errors
    for error in report.errors:  # one a resource (mail, calendar)
        assert "('" not in error and "{" not in error and error.endswith("server_error: Backend Error"), error
