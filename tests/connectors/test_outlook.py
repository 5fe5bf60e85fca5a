"""The Outlook connector through the real msal and its real HTTP code against the fake identity + Graph server
(tests/fakes/microsoft.py) over HTTPS with a certificate made here; Graph documentation bodies from ../shared/testdata."""
from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from datetime import UTC
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import requests

from assistant.connectors import load
from assistant.connectors.outlook import OutlookConnector
from assistant.connectors.outlook.auth import account_key, sign_in
from assistant.connectors.outlook.connector import DEFERRED_SEND_PROPERTY, IDEMPOTENCY_PROPERTY
from assistant.core.credentials import CredentialStore
from assistant.core.errors import NeedsSignIn, TransientError
from assistant.domain import Account, OutboxEntry, Principal
from assistant.store import Store
from assistant.store import calendar as calendar_store
from assistant.store import mail as mail_store
from assistant.sync.engine import sync_account
from tests.connectors.contract import ConnectorContract, ServerHandle
from tests.fakes.microsoft import TENANT_ID, USER_OID, FakeMicrosoft, make_self_signed_cert

GRAPH_JSON = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata" / "graph_json"
CLIENT_ID = "3f0c9a51-6b55-4d1e-8f1b-1d2f7b9e0c11"


def doc(name: str) -> dict[str, Any]:
    return json.loads((GRAPH_JSON / name).read_text())


def doc_headers(name: str) -> dict[str, str]:
    return dict(h.split(": ", 1) for h in doc(name)["headers"])


@pytest.fixture
def fake(tmp_path, monkeypatch):
    cert, key = make_self_signed_cert(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with FakeMicrosoft(cert, key, user="principal@example.com") as ms:
        monkeypatch.setenv("ASSISTANT_MS_AUTHORITY", ms.authority)
        monkeypatch.setenv("ASSISTANT_GRAPH_ROOT", ms.graph_root)
        yield ms


def approver(fake: FakeMicrosoft, shown: list[str] | None = None):
    """The user reading the device-code message and approving the code on the (fake) verification page."""

    def show(message: str) -> None:
        if shown is not None:
            shown.append(message)
        fake.approve(re.search(r"enter the code (\w+)", message).group(1))

    return show


@pytest.fixture
def principal(workspace: Store) -> Principal:
    return workspace.add_principal(Principal("Dana", "America/New_York", ["principal@example.com"]))


@pytest.fixture
def account(workspace, principal, fake) -> Account:
    return sign_in(workspace, principal.id, CLIENT_ID, device_code=True, print_fn=approver(fake))


class FakeClock:
    """Time that passes only when someone sleeps: a Retry-After costs nothing and is recorded."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeps(clock) -> list[float]:
    return clock.sleeps


@pytest.fixture
def connector(account, clock):
    made = OutlookConnector(account, credentials=CredentialStore(), sleep=clock.sleep, clock=clock)
    yield made
    made.close()


def run_sync(workspace: Store, account: Account, connector: OutlookConnector):
    report = sync_account(workspace, account.id, connector)
    assert report.errors == []
    return report


def entry(account: Account, op: str, payload: dict[str, Any], key: str | None = None) -> OutboxEntry:
    return OutboxEntry(account.principal_id, account.id, op, payload, key or uuid.uuid4().hex, id=1)


# -- sign-in ----------------------------------------------------------------------------------------------------------
def test_device_code_sign_in_keeps_the_msal_cache_in_the_credential_store(workspace, principal, fake, memory_keyring):
    shown: list[str] = []
    account = sign_in(workspace, principal.id, CLIENT_ID, device_code=True, print_fn=approver(fake, shown))
    assert account.kind == "outlook" and account.address == "principal@example.com"
    assert "enter the code" in shown[0]
    assert account.settings["home_account_id"] == f"{USER_OID}.{TENANT_ID}"
    assert account.settings["authority_overridden"] is True
    cache = json.loads(CredentialStore().get(account_key(account.id)))
    assert cache["RefreshToken"] and cache["AccessToken"]
    assert not any("refresh" in str(v).lower() for v in account.settings.values())  # the secret is not in the workspace
    grants = [r["grant_type"] for r in fake.token_requests]
    assert grants == ["urn:ietf:params:oauth:grant-type:device_code"]
    # Signing in again refreshes the same account rather than adding another.
    again = sign_in(workspace, principal.id, CLIENT_ID, device_code=True, print_fn=approver(fake))
    assert again.id == account.id and len(workspace.accounts(principal.id)) == 1


def test_a_sign_in_the_service_answers_with_an_outage_says_to_try_again_not_that_it_failed(workspace, principal, fake,
                                                                                          memory_keyring):
    fake.token_faults.append((503, {}, {"error": "temporarily_unavailable", "error_description": "AADSTS90033: busy"}))
    with pytest.raises(TransientError, match="Microsoft sign-in service"):
        sign_in(workspace, principal.id, CLIENT_ID, device_code=True, print_fn=approver(fake))
    assert workspace.accounts(principal.id) == []


def test_registered_through_entry_point():
    assert load("outlook") is OutlookConnector


# -- mail sync --------------------------------------------------------------------------------------------------------
def seed_documentation_messages(fake: FakeMicrosoft) -> dict[str, str]:
    """The Graph documentation's message bodies, delivered into the fake mailbox; returns subject -> id."""
    ids = {}
    full = doc("v1.0_message-get__resp0.json")["body"]
    ids[full["subject"]] = fake.add_message("inbox", **full)
    for n in range(3):
        for item in doc(f"concepts_delta-query-messages__resp{n}.json")["body"]["value"]:
            ids[item["subject"]] = fake.add_message("inbox", **item)
    return ids


def test_first_sync_maps_graph_json_without_fetching_mime(workspace, account, connector, fake):
    ids = seed_documentation_messages(fake)
    report = run_sync(workspace, account, connector)
    assert report.mail["added"] == 6
    scope = workspace.scope(account.principal_id)
    concert = mail_store.message(scope, mail_store.message_by_header_id(scope, "<MWHPR6E1BE060@MWHPR1120.namprd22.prod.outlook.com>").id)
    assert concert.remote_id == ids["9/9/2018: concert"]
    assert concert.subject == "9/9/2018: concert" and concert.is_read and not concert.is_flagged
    assert concert.sender.email == "adelev@contoso.OnMicrosoft.com" and concert.sender.name == "Adele Vance"
    assert [a.email for a in concert.to] == ["AlexW@contoso.OnMicrosoft.com"]
    assert "The group represents Nevada." in concert.body_html
    assert concert.remote_thread_id == "AAQkADOUpag6yWs="
    assert concert.folders == [fake.folder_id("inbox")]
    assert concert.date_utc.isoformat() == "2018-09-09T03:15:08+00:00"
    assert mail_store.folder_by_role(scope, account.id, "inbox").remote_id == fake.folder_id("inbox")
    assert mail_store.folder_by_role(scope, account.id, "sent").name == "Sent Items"
    assert not fake.requests_to("$value")
    for request in fake.graph_requests:
        assert 'IdType="ImmutableId"' in request["headers"].get("Prefer", ""), request["path"]
    deltas = fake.requests_to("/messages/delta")
    assert deltas and all("odata.maxpagesize=100" in r["headers"]["Prefer"] for r in deltas)


def test_server_side_changes_arrive_next_sync_and_a_quiet_pass_costs_one_request_per_folder(
    workspace, account, connector, fake
):
    ids = seed_documentation_messages(fake)
    run_sync(workspace, account, connector)
    fake.update_message(ids["Holiday hours update"], isRead=True, flag={"flagStatus": "flagged"})
    new_id = fake.add_message("inbox", subject="Board pack for Thursday")
    report = run_sync(workspace, account, connector)
    assert report.mail == {"added": 1, "updated": 1, "removed": 0}
    scope = workspace.scope(account.principal_id)
    assert [m.remote_id for m in mail_store.search_messages(scope, "board pack")] == [new_id]
    holiday = next(m for m in mail_store.search_messages(scope, "holiday hours"))
    assert holiday.is_read and holiday.is_flagged

    tracked = len(json.loads(workspace.get_cursor(account.id, "mail"))["folders"])
    before = connector.requests_made
    report = run_sync(workspace, account, connector)
    assert report.mail == {"added": 0, "updated": 0, "removed": 0}
    assert connector.requests_made - before == tracked + 1  # one delta per folder, one for the calendar


def test_removed_messages_go_and_moved_ones_stay(workspace, account, connector, fake):
    ids = seed_documentation_messages(fake)
    run_sync(workspace, account, connector)
    fake.delete_message(ids["Fabric CDN now available"])
    fake.move_message(ids["Holiday promotion sale"], "archive")
    report = run_sync(workspace, account, connector)
    assert report.mail["removed"] == 1
    remaining = mail_store.message_remote_ids(workspace.scope(account.principal_id), account.id)
    assert ids["Fabric CDN now available"] not in remaining
    assert ids["Holiday promotion sale"] in remaining
    moved = mail_store.search_messages(workspace.scope(account.principal_id), "promotion")[0]
    assert moved.folders == [fake.folder_id("archive")]


def test_removal_seen_after_the_destination_folder_was_read_is_checked_before_deleting(workspace, account, connector, fake):
    ids = seed_documentation_messages(fake)
    run_sync(workspace, account, connector)
    pages = connector.mail_changes(workspace.get_cursor(account.id, "mail"))
    # The archive's delta is read before the move happens, so only Inbox's @removed shows it this pass.
    cursor = json.loads(workspace.get_cursor(account.id, "mail"))
    archive_only = dict(cursor, folders={fake.folder_id("inbox"): cursor["folders"][fake.folder_id("inbox")]})
    fake.move_message(ids["Holiday promotion sale"], "archive")
    pages = list(connector.mail_changes(json.dumps(archive_only)))
    assert not any(p.removed for p in pages)
    moved = [m for p in pages for m, _ in p.upserted if m.remote_id == ids["Holiday promotion sale"]]
    assert moved and moved[0].folders == [fake.folder_id("archive")]


def test_expired_delta_token_falls_back_to_a_full_resync_without_duplicates(workspace, account, connector, fake):
    ids = seed_documentation_messages(fake)
    run_sync(workspace, account, connector)
    count = mail_store.message_count(workspace.scope(account.principal_id))
    fake.expire_delta_tokens()
    fake.delete_message(ids["New or modified user account information"])
    fake.add_message("inbox", subject="After the gap")
    report = run_sync(workspace, account, connector)
    assert report.mail == {"added": 1, "updated": 0, "removed": 1}
    assert mail_store.message_count(workspace.scope(account.principal_id)) == count
    assert any(r for r in fake.graph_requests if "$deltatoken" in str(r["query"]))
    headers = [r[0] for r in workspace.db.execute("SELECT remote_id FROM messages WHERE account_id=?", (account.id,))]
    assert len(headers) == len(set(headers))


# -- throttling and faults ----------------------------------------------------------------------------------------------
def test_429_with_fractional_retry_after_pauses_the_mailbox_then_succeeds(workspace, account, connector, fake, sleeps):
    seed_documentation_messages(fake)
    throttled = doc("concepts_throttling__resp0.json")
    fake.fail_next(429, body=throttled["body"], headers=doc_headers("concepts_throttling__resp0.json"),
                   path_contains="/messages/delta")
    report = run_sync(workspace, account, connector)
    assert report.mail["added"] == 6
    assert sleeps == [2.128]


def test_per_item_429_inside_batch_is_retried_alone(workspace, account, connector, fake, sleeps):
    fake.fail_next(429, headers={"Retry-After": "1.5"}, path_contains="/mailFolders/inbox", in_batch=True)
    run_sync(workspace, account, connector)
    assert sleeps == [1.5]
    assert mail_store.folder_by_role(workspace.scope(account.principal_id), account.id, "inbox") is not None
    inbox_lookups = [r for r in fake.graph_requests if r["in_batch"] and r["path"].endswith("/mailFolders/inbox")]
    assert len(inbox_lookups) == 2
    assert len([r for r in fake.graph_requests if r["in_batch"] and r["path"].endswith("/mailFolders/drafts")]) == 1


def test_503_is_retried_with_backoff(workspace, account, connector, fake, sleeps):
    fake.fail_next(503, count=2, path_contains="/mailFolders/delta")
    run_sync(workspace, account, connector)
    assert sleeps == [1.0, 2.0]


def test_throttling_that_does_not_end_is_a_transient_error(account, connector, fake, sleeps):
    fake.fail_next(429, count=10, headers={"Retry-After": "3"}, path_contains="/mailFolders/delta")
    with pytest.raises(TransientError) as raised:
        list(connector.mail_changes(None))
    assert raised.value.retry_after == 3.0


def early_arrivals(fake: FakeMicrosoft, since: int = 0) -> list[tuple[str, float, float]]:
    """Requests that reached the mailbox while a 429/503 it answered still said to wait: (path, seconds after the
    answer, its Retry-After)."""
    return [(a["path"], round(a["at"] - t["at"], 3), t["retry_after"])
            for t in fake.throttles for a in fake.arrivals[since:] if a["n"] > t["n"] and a["at"] < t["at"] + t["retry_after"]]


def test_a_429_holds_every_worker_of_the_mailbox_until_its_retry_after_has_passed(account, fake):
    """Reported (issue 15, point 4): after a 429, a request to the same mailbox could still leave from another of the
    four workers before Retry-After had passed. Two 429s a moment apart in an incremental pass: the workers already
    waiting out the first must wait out the second too. Real time (four threads), a 1 s Retry-After."""
    connector = OutlookConnector(account, credentials=CredentialStore())
    try:
        cursor = list(connector.mail_changes(None))[-1].cursor
        assert len(json.loads(cursor)["folders"]) > 4  # more folders than workers: some start while the mailbox is held
        # The first four folder deltas: 429 at 0.4 s, answers at 0.6 s (those two workers go on to the next folders and
        # wait), a second 429 at 0.8 s that holds the mailbox until 1.8 s.
        fake.fail_next(429, headers={"Retry-After": "1"}, path_contains="/messages/delta", delay=0.4)
        fake.slow_next(0.6, count=2, path_contains="/messages/delta")
        fake.fail_next(429, headers={"Retry-After": "1"}, path_contains="/messages/delta", delay=0.8)
        since = len(fake.arrivals)
        list(connector.mail_changes(cursor))
    finally:
        connector.close()
    assert [t["status"] for t in fake.throttles] == [429, 429]
    assert early_arrivals(fake, since) == []
    assert len([a for a in fake.arrivals[since:] if a["at"] > fake.throttles[1]["at"]]) >= 4  # the waiters went on


def test_a_429_inside_a_batch_holds_the_rest_of_the_call_too(account, connector, fake, clock):
    """Twenty-five sub-requests are two ``$batch`` calls: an item of the first answered 429 holds the second."""
    fake.clock = clock
    fake.fail_next(429, headers={"Retry-After": "1.5"}, path_contains="/mailFolders/inbox", in_batch=True)
    answers = connector.client.batch(
        [{"id": str(n), "method": "GET", "url": "/me/mailFolders/inbox?$select=id"} for n in range(25)])
    assert len(answers) == 25 and {a["status"] for a in answers.values()} == {200}
    assert len(fake.requests_to("/$batch")) == 3  # 20 + 5, then the throttled item again
    assert early_arrivals(fake) == []
    assert clock.sleeps == [1.5]


@pytest.mark.parametrize("retry_after", ["86400", "1e300"])
def test_an_absurd_retry_after_ends_the_pass_as_offline_at_once_instead_of_stalling(
    workspace, account, connector, fake, clock, retry_after
):
    run_sync(workspace, account, connector)
    cursor = workspace.get_cursor(account.id, "mail")
    fake.fail_next(429, headers={"Retry-After": retry_after}, path_contains="/messages/delta")
    started = time.monotonic()
    with pytest.raises(TransientError) as raised:
        list(connector.mail_changes(cursor))
    assert raised.value.retry_after == 86400.0  # the sync and the outbox back off that long (a day at most)
    assert clock.sleeps == []  # nobody waited any of it
    # The mailbox stays held: the next pass ends as "offline" without a request, mail and calendar alike.
    since = len(fake.arrivals)
    report = sync_account(workspace, account.id, connector)
    assert report.status == "offline"
    assert [line.split(":")[0] for line in report.errors] == ["mail", "calendar"]
    assert len(fake.arrivals) == since and clock.sleeps == []
    assert time.monotonic() - started < 10


def test_expired_access_token_is_refreshed_once(workspace, account, connector, fake):
    seed_documentation_messages(fake)
    saved = CredentialStore().get(account_key(account.id))
    fake.expire_access_tokens()
    run_sync(workspace, account, connector)
    assert [r["grant_type"] for r in fake.token_requests][-1] == "refresh_token"
    assert [r["grant_type"] for r in fake.token_requests].count("refresh_token") == 1
    # msal's cache changed (new tokens): it was written back to the credential store.
    assert CredentialStore().get(account_key(account.id)) != saved


def test_revoked_refresh_token_means_needs_sign_in_and_nothing_queued_is_lost(workspace, account, connector, fake):
    seed_documentation_messages(fake)
    run_sync(workspace, account, connector)
    workspace.enqueue(entry(account, "set-flags", {"remote_id": next(iter(fake.messages)), "is_read": True}))
    fake.revoke_refresh_tokens()
    fake.expire_access_tokens()
    report = sync_account(workspace, account.id, connector)
    assert report.status == "needs-sign-in"
    assert "sign in to Outlook again" in report.errors[0] and "AADSTS50173" in report.errors[0]
    assert workspace.account(account.id).status.value == "needs-sign-in"
    assert [e.state for e in workspace.outbox(account.id)] == ["pending"]
    # A restarted app: msal still holds an access token it thinks fresh; Graph's 401 leads to the same answer.
    restarted = OutlookConnector(workspace.account(account.id), sleep=lambda s: None)
    with pytest.raises(NeedsSignIn):
        list(restarted.mail_changes(workspace.get_cursor(account.id, "mail")))
    restarted.close()


def test_expiring_access_token_is_renewed_silently_and_a_revoked_grant_stops_there(workspace, principal, fake):
    fake.token_expires_in = 60  # msal treats a token with under five minutes left as expired
    account = sign_in(workspace, principal.id, CLIENT_ID, device_code=True, print_fn=approver(fake))
    connector = OutlookConnector(account, sleep=lambda s: None)
    try:
        list(connector.mail_changes(None))
        assert [r["grant_type"] for r in fake.token_requests][-1] == "refresh_token"
        fake.revoke_refresh_tokens()
        before = connector.requests_made
        with pytest.raises(NeedsSignIn, match="sign in to Outlook again"):
            list(connector.mail_changes(None))
        assert connector.requests_made == before  # refused before any Graph request
    finally:
        connector.close()


# -- writes -------------------------------------------------------------------------------------------------------------
def reply_entry(account: Account, original_header: str, key: str, **extra: Any) -> OutboxEntry:
    msg = EmailMessage()
    msg["From"] = "principal@example.com"
    msg["To"] = "Adele Vance <adelev@contoso.OnMicrosoft.com>"
    msg["Subject"] = "RE: 9/9/2018: concert"
    msg["Message-ID"] = f"<{key}@assistant.example>"
    msg["In-Reply-To"] = original_header
    msg["References"] = original_header
    msg.set_content("Count me in.")
    return entry(account, "send", {"raw": base64.b64encode(msg.as_bytes()).decode(),
                                   "message_id_header": msg["Message-ID"], **extra}, key)


class LostAnswer:
    """A process killed at a chosen point: before a request leaves, or after the server did it but before we heard."""

    def __init__(self, session: requests.Session, fragment: str, *, after_server: bool):
        self.real = session.request
        self.fragment, self.after_server = fragment, after_server
        session.request = self  # type: ignore[method-assign]

    def __call__(self, method, url, **kw):
        if self.fragment in url:
            if self.after_server:
                self.real(method, url, **kw).close()
            raise requests.ConnectionError("killed")
        return self.real(method, url, **kw)


@pytest.mark.parametrize("after_server", [True, False], ids=["answer-lost", "killed-before-send"])
def test_kill_between_send_requested_and_confirmed_never_sends_twice(workspace, account, connector, fake, after_server):
    seed_documentation_messages(fake)
    original = "<MWHPR6E1BE060@MWHPR1120.namprd22.prod.outlook.com>"
    key = uuid.uuid4().hex
    outbox = reply_entry(account, original, key)
    LostAnswer(connector.client.session, "/send", after_server=after_server)
    with pytest.raises(TransientError):
        connector.apply(outbox)
    restarted = OutlookConnector(account, sleep=lambda s: None)
    try:
        result = restarted.apply(outbox)
        again = restarted.apply(outbox)
    finally:
        restarted.close()
    assert len(fake.sent) == 1
    assert result["remote_id"] == again["remote_id"] and again.get("already_sent")
    sent = fake.messages_in("sentitems")
    assert len(sent) == 1 and not fake.messages_in("drafts")
    concert = fake.find(original)[0]
    assert sent[0]["conversationId"] == concert["conversationId"]  # createReply threads it in the conversation
    assert sent[0]["subject"] == "RE: 9/9/2018: concert"
    assert sent[0]["body"]["content"].strip() == "Count me in."
    assert fake.requests_to("/createReply") and not fake.requests_to("/createReplyAll")
    assert {"id": IDEMPOTENCY_PROPERTY, "value": key} in sent[0]["singleValueExtendedProperties"]


def test_scheduled_send_is_handed_to_the_server(account, connector, fake):
    seed_documentation_messages(fake)
    outbox = reply_entry(account, "<MWHPR6E1BE060@MWHPR1120.namprd22.prod.outlook.com>", "sched-1",
                         send_at="2026-12-01T14:30:00+01:00")
    result = connector.apply(outbox)
    assert result["scheduled"] == "2026-12-01T14:30:00+01:00"
    waiting = fake.messages_in("outbox")
    assert len(waiting) == 1 and not fake.messages_in("sentitems")
    assert {"id": DEFERRED_SEND_PROPERTY, "value": "2026-12-01T13:30:00Z"} in waiting[0]["singleValueExtendedProperties"]


def test_new_message_keeps_its_message_id(account, connector, fake):
    msg = EmailMessage()
    msg["To"] = "zoe@example.org"
    msg["Subject"] = "Agenda"
    msg["Message-ID"] = "<agenda-1@assistant.example>"
    msg.set_content("Attached.")
    msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="agenda.pdf")
    connector.apply(entry(account, "send", {"raw": base64.b64encode(msg.as_bytes()).decode(),
                                            "message_id_header": msg["Message-ID"]}))
    sent = fake.messages_in("sentitems")
    assert [m["internetMessageId"] for m in sent] == ["<agenda-1@assistant.example>"]
    assert sent[0]["attachments"][0]["name"] == "agenda.pdf"
    assert not fake.requests_to("/createReply")


def test_flags_and_moves_reach_the_server(account, connector, fake):
    ids = seed_documentation_messages(fake)
    target = ids["Holiday hours update"]
    connector.apply(entry(account, "set-flags", {"remote_id": target, "is_read": True, "is_flagged": True}))
    assert fake.messages[target]["isRead"] is True
    assert fake.messages[target]["flag"] == {"flagStatus": "flagged"}
    result = connector.apply(entry(account, "move", {"remote_id": target, "to": "archive"}))
    assert result["remote_id"] == target  # immutable ids survive moves
    assert fake.messages[target]["parentFolderId"] == fake.folder_id("archive")
    fake.delete_message(target)
    assert connector.apply(entry(account, "set-flags", {"remote_id": target, "is_read": False}))["gone"]


def test_attachments_and_source_on_demand(account, connector, fake):
    message_id = fake.add_message("inbox", subject="Contract", hasAttachments=True,
                                  body={"contentType": "text", "content": "see attached"})
    pages = list(connector.mail_changes(None))
    message = next(m for p in pages for m, _ in p.upserted if m.remote_id == message_id)
    assert message.has_attachments
    raw = connector.fetch_raw(message_id)
    assert b"Subject: Contract" in raw and b"see attached" in raw


# -- calendar -----------------------------------------------------------------------------------------------------------
def seed_calendar(fake: FakeMicrosoft) -> dict[str, str]:
    ids = {}
    for n in range(3):
        for item in doc(f"concepts_delta-query-events__resp{n}.json")["body"]["value"]:
            ids[item["subject"]] = fake.add_event(**item)
    master = fake.add_event(
        subject="Weekly sync", type="seriesMaster", originalStartTimeZone="Eastern Standard Time",
        start={"dateTime": "2026-11-02T14:00:00.0000000", "timeZone": "UTC"},
        end={"dateTime": "2026-11-02T14:30:00.0000000", "timeZone": "UTC"},
        recurrence={"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"], "firstDayOfWeek": "sunday"},
                    "range": {"type": "numbered", "numberOfOccurrences": 4, "startDate": "2026-11-02",
                              "recurrenceTimeZone": "Eastern Standard Time"}},
    )
    ids["Weekly sync"] = master
    # Mondays 9:00 New York: 14:00Z before 2026-11-01? No: the series starts after DST ended, so 14:00Z throughout.
    for day, kind in (("02", "occurrence"), ("16", "exception")):
        start = f"2026-11-{day}T14:00:00.0000000" if kind == "occurrence" else f"2026-11-{day}T16:00:00.0000000"
        fake.add_event(subject="Weekly sync" if kind == "occurrence" else "Weekly sync (moved)", type=kind,
                       seriesMasterId=master, originalStart=f"2026-11-{day}T14:00:00Z",
                       start={"dateTime": start, "timeZone": "UTC"},
                       end={"dateTime": start.replace(":00:00.", ":30:00."), "timeZone": "UTC"})
    fake.add_event(subject="Weekly sync", type="occurrence", seriesMasterId=master,
                   originalStart="2026-11-23T14:00:00Z",
                   start={"dateTime": "2026-11-23T14:00:00.0000000", "timeZone": "UTC"},
                   end={"dateTime": "2026-11-23T14:30:00.0000000", "timeZone": "UTC"})
    # 2026-11-09 was cancelled: no instance.
    return ids


def test_calendar_first_sync_series_and_removals(workspace, account, connector, fake):
    ids = seed_calendar(fake)
    report = run_sync(workspace, account, connector)
    assert report.events["added"] == 6
    scope = workspace.scope(account.principal_id)
    events = {e.summary: e for e in calendar_store.events(scope)}
    rest = events["Rest!"]
    assert rest.location == "Home" and rest.start_utc.isoformat() == "2016-12-12T02:00:00+00:00"
    weekly = events["Weekly sync"]
    assert weekly.remote_id == ids["Weekly sync"] and weekly.rrule == "FREQ=WEEKLY;COUNT=4;BYDAY=MO;WKST=SU"
    assert weekly.timezone == "America/New_York"
    assert "DTSTART;TZID=America/New_York:20261102T090000" in weekly.ics
    assert "RECURRENCE-ID;TZID=America/New_York:20261116T090000" in weekly.ics
    assert "EXDATE;TZID=America/New_York:20261109T090000" in weekly.ics
    assert "BEGIN:VTIMEZONE" in weekly.ics
    # The shared expansion reads it like any .ics: the cancelled Monday gone, the moved one moved.
    from datetime import datetime

    from assistant.calendar.ics import expand

    november = expand(weekly, datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    assert [o.start_utc.isoformat() for o in november] == [
        "2026-11-02T14:00:00+00:00", "2026-11-16T16:00:00+00:00", "2026-11-23T14:00:00+00:00"]
    deltas = fake.requests_to("/calendarView/delta")
    assert deltas and all('outlook.timezone="UTC"' in r["headers"]["Prefer"] for r in deltas)
    assert "startDateTime" in deltas[0]["query"] and "endDateTime" in deltas[0]["query"]

    fake.delete_event(ids["Pick up car"])
    exception = next(eid for eid, e in fake.events.items() if e["type"] == "exception")
    fake.delete_event(exception)  # the moved occurrence is cancelled outright
    report = run_sync(workspace, account, connector)
    assert report.events["removed"] == 1 and report.events["updated"] == 1
    weekly = next(e for e in calendar_store.events(scope) if e.summary == "Weekly sync")
    assert "RECURRENCE-ID" not in weekly.ics and "20261116T090000" in weekly.ics  # now an EXDATE


def test_events_created_updated_deleted_idempotently(account, connector, fake):
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:lunch-1@assistant\r\n"
        "DTSTAMP:20261101T000000Z\r\nDTSTART;TZID=Europe/Dublin:20261203T123000\r\n"
        "DTEND;TZID=Europe/Dublin:20261203T133000\r\nSUMMARY:Lunch with Zoë\r\nLOCATION:The Winding Stair\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    create = entry(account, "event-create", {"ics": ics}, "create-lunch")
    first = connector.apply(create)
    again = connector.apply(create)
    assert first == again and len(fake.events) == 1
    created = fake.events[first["remote_id"]]
    assert created["start"] == {"dateTime": "2026-12-03T12:30:00", "timeZone": "Europe/Dublin"}
    assert created["location"] == {"displayName": "The Winding Stair"}
    connector.apply(entry(account, "event-update", {"ics": ics.replace("Lunch with Zoë", "Lunch (moved)"),
                                                     "remote_id": first["remote_id"]}))
    assert fake.events[first["remote_id"]]["subject"] == "Lunch (moved)"
    connector.apply(entry(account, "event-delete", {"remote_id": first["remote_id"]}))
    connector.apply(entry(account, "event-delete", {"remote_id": first["remote_id"]}))
    assert fake.events == {}


# -- limits -------------------------------------------------------------------------------------------------------------
def test_ten_thousand_message_first_sync_within_110_requests_and_4_concurrent(account, connector, fake):
    fake.add_messages_bulk(10_000)
    for name in ("Clients", "Receipts"):
        folder = fake.add_folder(name)
        fake.add_message(folder, subject=f"in {name}")
    pages = list(connector.mail_changes(None))
    assert sum(len(p.upserted) for p in pages) == 10_002
    assert connector.requests_made <= 110, connector.requests_made
    # A quiet pass, the folders' deltas run side by side: never more than four at once against the mailbox.
    before = connector.requests_made
    list(connector.mail_changes(pages[-1].cursor))
    tracked = len(json.loads(pages[-1].cursor)["folders"])
    assert connector.requests_made - before == tracked
    assert fake.max_in_flight <= 4
    assert not any(r for r in fake.graph_requests if r["path"].endswith("$value"))


# -- the shared contract ------------------------------------------------------------------------------------------------
class OutlookServer(ServerHandle):
    kind = "outlook"
    address = "principal@example.com"

    def __init__(self, fake: FakeMicrosoft, workspace: Store):
        self.fake, self.workspace = fake, workspace

    def settings(self):
        return {"client_id": CLIENT_ID, "tenant": "common", "home_account_id": f"{USER_OID}.{TENANT_ID}",
                "authority": self.fake.authority, "authority_overridden": True}

    def connector(self, account: Account) -> OutlookConnector:
        if CredentialStore().get(account_key(account.id)) is None:
            sign_in(self.workspace, account.principal_id, CLIENT_ID, device_code=True, print_fn=approver(self.fake))
        return OutlookConnector(account, sleep=lambda s: None)

    def add_message(self, raw):
        self.fake.add_mime(raw)

    def remove_message(self, message_id_header):
        self.fake.delete_message(self.fake.find(message_id_header)[0]["id"])

    def set_flags(self, message_id_header, *, read=None, flagged=None):
        changes: dict[str, Any] = {}
        if read is not None:
            changes["isRead"] = read
        if flagged is not None:
            changes["flag"] = {"flagStatus": "flagged" if flagged else "notFlagged"}
        self.fake.update_message(self.fake.find(message_id_header)[0]["id"], **changes)

    def flags(self, message_id_header):
        message = self.fake.find(message_id_header)[0]
        return {"read": bool(message["isRead"]), "flagged": message["flag"]["flagStatus"] == "flagged"}

    def sent_message_ids(self):
        return [m["internetMessageId"] for m in self.fake.messages_in("sentitems")]


class TestOutlookContract(ConnectorContract):
    @pytest.fixture
    def server(self, fake, workspace):
        return OutlookServer(fake, workspace)


# -- endpoints ----------------------------------------------------------------------------------------------------------
def test_authority_and_graph_root_overrides(monkeypatch):
    from assistant.connectors.outlook.auth import authority_url, graph_root
    from assistant.core.errors import UserError

    monkeypatch.delenv("ASSISTANT_MS_AUTHORITY", raising=False)
    monkeypatch.delenv("ASSISTANT_GRAPH_ROOT", raising=False)
    assert authority_url("organizations") == ("https://login.microsoftonline.com/organizations", False)
    assert graph_root() == "https://graph.microsoft.com/v1.0"
    monkeypatch.setenv("ASSISTANT_MS_AUTHORITY", "https://login.microsoftonline.us")
    assert authority_url("contoso.onmicrosoft.us") == ("https://login.microsoftonline.us/contoso.onmicrosoft.us", True)
    monkeypatch.setenv("ASSISTANT_MS_AUTHORITY", "https://login.partner.microsoftonline.cn/6babcaad-604b-40ac-a9d7/")
    assert authority_url() == ("https://login.partner.microsoftonline.cn/6babcaad-604b-40ac-a9d7", True)
    monkeypatch.setenv("ASSISTANT_GRAPH_ROOT", "https://microsoftgraph.chinacloudapi.cn/v1.0/")
    assert graph_root() == "https://microsoftgraph.chinacloudapi.cn/v1.0"
    monkeypatch.setenv("ASSISTANT_MS_AUTHORITY", "http://127.0.0.1:8080/common")
    with pytest.raises(UserError, match="https"):
        authority_url()


def test_shared_mailbox_is_synced_through_users_address(workspace, account, fake):
    fake.add_message("inbox", subject="For the boss")
    workspace.update_account_settings(account.id, {**account.settings, "mailbox": "boss@example.com"})
    shared = OutlookConnector(workspace.account(account.id), sleep=lambda s: None)
    try:
        with pytest.raises(Exception, match="Access is denied"):
            list(shared.mail_changes(None))
        fake.shared_with.add("boss@example.com")
        pages = list(shared.mail_changes(None))
    finally:
        shared.close()
    assert [m.subject for p in pages for m, _ in p.upserted] == ["For the boss"]
    assert all(r["path"].startswith("/users/boss@example.com/") for r in fake.graph_requests if r["path"] != "/$batch")


def test_interactive_sign_in_through_the_system_browser_and_loopback(workspace, principal, fake, monkeypatch):
    import html
    import threading
    import webbrowser

    visited: list[str] = []

    def browser(url: str, *args: Any, **kwargs: Any) -> bool:
        """The system browser: the user signs in, the page posts the answer back to msal's loopback server."""
        visited.append(url)

        def sign_in_and_post() -> None:
            with requests.Session() as session:
                page = session.get(url, timeout=10).text
                action = html.unescape(re.search(r'action="([^"]+)"', page).group(1))
                fields = {k: html.unescape(v) for k, v in re.findall(r'name="([^"]+)" value="([^"]*)"', page)}
                session.post(action, data=fields, timeout=10).close()

        threading.Thread(target=sign_in_and_post, daemon=True).start()
        return True

    monkeypatch.setattr(webbrowser, "open", browser)
    account = sign_in(workspace, principal.id, CLIENT_ID, device_code=False, print_fn=lambda m: None)
    assert account.address == "principal@example.com"
    assert visited[0].startswith(fake.authority + "/oauth2/v2.0/authorize?")
    assert "redirect_uri=http%3A%2F%2Flocalhost" in visited[0] and "code_challenge_method=S256" in visited[0]
    assert [r["grant_type"] for r in fake.token_requests] == ["authorization_code"]
    assert CredentialStore().get(account_key(account.id))


def test_a_draft_saved_on_the_server_is_the_one_sent(account, connector, fake):
    msg = EmailMessage()
    msg["To"] = "zoe@example.org"
    msg["Subject"] = "Minutes"
    msg["Message-ID"] = "<minutes-1@assistant.example>"
    msg.set_content("First go.")
    raw = base64.b64encode(msg.as_bytes()).decode()
    saved = connector.apply(entry(account, "save-draft", {"raw": raw, "message_id_header": msg["Message-ID"]}, "save-1"))
    assert connector.apply(entry(account, "save-draft", {"raw": raw, "message_id_header": msg["Message-ID"]},
                                 "save-1")) == saved  # retried: found by its key, not created twice
    msg.set_content("Final version.")
    raw = base64.b64encode(msg.as_bytes()).decode()
    connector.apply(entry(account, "save-draft", {"raw": raw, "message_id_header": msg["Message-ID"],
                                                  "draft_remote_id": saved["draft_remote_id"]}, "save-2"))
    assert fake.messages[saved["draft_remote_id"]]["body"]["content"].strip() == "Final version."
    assert {"id": IDEMPOTENCY_PROPERTY, "value": "save-1"} in fake.messages[saved["draft_remote_id"]][
        "singleValueExtendedProperties"]
    sent = connector.apply(entry(account, "send", {"raw": raw, "message_id_header": msg["Message-ID"],
                                                   "draft_remote_id": saved["draft_remote_id"]}, "send-1"))
    assert sent["remote_id"] == saved["draft_remote_id"]
    assert not fake.messages_in("drafts") and len(fake.messages_in("sentitems")) == 1
    connector.apply(entry(account, "delete-draft", {"draft_remote_id": "AAMkADgone="}))  # already gone: fine


# -- more throttling and calendar edges ------------------------------------------------------------------------------------
def test_a_429_pauses_every_thread_working_on_the_mailbox(account, fake):
    import threading

    slept: list[tuple[str, float]] = []
    release = threading.Event()

    def sleep(seconds: float) -> None:
        slept.append((threading.current_thread().name, round(seconds, 1)))
        if threading.current_thread().name == "throttled":
            release.wait(10)  # still waiting out the Retry-After when the other thread starts

    connector = OutlookConnector(account, sleep=sleep)
    try:
        throttled = threading.Thread(target=connector.client.pause, args=(2.128,), name="throttled")
        throttled.start()
        while not slept:
            release.wait(0.01)
        connector.client.request("GET", "/me/mailFolders/inbox")
        release.set()
        throttled.join()
    finally:
        connector.close()
    assert slept[0] == ("throttled", 2.1)
    assert slept[1][0] == "MainThread" and 1.5 < slept[1][1] <= 2.1


def test_concurrency_per_mailbox_is_capped_by_the_semaphore(account, fake):
    for n in range(12):
        fake.add_message(fake.add_folder(f"Client {n}"), subject=f"for client {n}")
    connector = OutlookConnector(account, sleep=lambda s: None, max_concurrency=2)
    try:
        cursor = list(connector.mail_changes(None))[-1].cursor
        fake.max_in_flight = 0
        list(connector.mail_changes(cursor))
    finally:
        connector.close()
    assert 1 <= fake.max_in_flight <= 2


def test_calendar_window_rolls_and_expired_calendar_token_relists(account, connector, fake):
    seed_calendar(fake)
    cursor = list(connector.calendar_changes(None))[-1].cursor
    state = json.loads(cursor)
    fake.expire_delta_tokens()
    relisted = list(connector.calendar_changes(cursor))
    assert relisted[0].full and len({rid for p in relisted for rid in p.seen}) == 6
    state["window"][0] = "2020-01-01T00:00:00+00:00"  # a cursor from long ago: the window moves on
    rolled = list(connector.calendar_changes(json.dumps(state)))
    assert rolled[0].full
    new_window = json.loads(rolled[-1].cursor)["window"]
    assert new_window[0] > "2026-01-01"
    last = fake.requests_to("/calendarView/delta")[-1]
    assert last["query"]["startDateTime"].startswith(new_window[0][:10])


def test_an_unreadable_event_is_reported_and_the_rest_synced(account, connector, fake):
    seed_calendar(fake)
    fake.add_event(subject="Broken", start={"dateTime": "next Tuesday", "timeZone": "UTC"},
                   end={"dateTime": "2026-11-03T10:00:00", "timeZone": "UTC"})
    pages = list(connector.calendar_changes(None))
    assert [line for p in pages for line in p.errors if "event" in line]
    assert len({e.summary for p in pages for e in p.upserted}) == 6


def test_new_and_deleted_folders_are_noticed_when_the_tree_is_checked(workspace, account, fake, sleeps):
    clients = fake.add_folder("Clients")
    fake.add_message(clients, subject="Retainer")
    connector = OutlookConnector(account, sleep=sleeps.append, folder_refresh_s=0)
    try:
        run_sync(workspace, account, connector)
        receipts = fake.add_folder("Receipts")
        fake.add_message(receipts, subject="Invoice 7")
        report = run_sync(workspace, account, connector)
        assert report.mail["added"] == 1
        assert {f.name for f in mail_store.folders(workspace.scope(account.principal_id))} >= {"Clients", "Receipts"}
        fake.delete_folder(clients)
        report = run_sync(workspace, account, connector)
    finally:
        connector.close()
    assert report.mail["removed"] == 1
    assert [m.subject for m in mail_store.search_messages(workspace.scope(account.principal_id), "retainer")] == []
    assert str(clients) not in json.loads(workspace.get_cursor(account.id, "mail"))["folders"]


def test_free_busy_for_the_slot_finder(account, connector, fake):
    from datetime import datetime

    fake.schedules = doc("v1.0_calendar-getschedule__resp0.json")["body"]["value"]
    busy = connector.free_busy(["adelev@contoso.onmicrosoft.com", "meganb@contoso.onmicrosoft.com", "nobody@x.example"],
                               datetime(2019, 3, 15, 15, tzinfo=UTC), datetime(2019, 3, 16, 1, tzinfo=UTC))
    # "Pacific Standard Time" 12:00-14:00 on 15 March 2019 (PDT, UTC-7) is 19:00-21:00 UTC.
    assert [(s.isoformat(), e.isoformat(), status) for s, e, status in busy["adelev@contoso.onmicrosoft.com"]] == [
        ("2019-03-15T19:00:00+00:00", "2019-03-15T21:00:00+00:00", "busy")]
    assert len(busy["meganb@contoso.onmicrosoft.com"]) == 5 and busy["nobody@x.example"] == []
    request = fake.requests_to("/calendar/getSchedule")[0]
    assert request["body"]["startTime"] == {"dateTime": "2019-03-15T15:00:00", "timeZone": "UTC"}


def test_a_reply_sent_in_the_app_lands_once_in_sent_items_of_its_conversation(workspace, account, connector, fake):
    from assistant.sync import actions

    seed_documentation_messages(fake)
    run_sync(workspace, account, connector)
    original = "<MWHPR6E1BE060@MWHPR1120.namprd22.prod.outlook.com>"
    queued = actions.send_message(workspace, account.principal_id, account.id, to="adelev@contoso.OnMicrosoft.com",
                                  subject="", body_text="Count me in.", in_reply_to=original)
    # The app dies after Graph took the send but before the answer arrived.
    LostAnswer(connector.client.session, "/send", after_server=True)
    report = sync_account(workspace, account.id, connector)
    assert [e.state for e in workspace.outbox(account.id)] == ["pending"] and report.outbox["sent"] == 0
    workspace.db.execute("UPDATE outbox SET next_attempt_utc=NULL")
    restarted = OutlookConnector(workspace.account(account.id), sleep=lambda s: None)
    try:
        report = run_sync(workspace, account, restarted)
    finally:
        restarted.close()
    assert report.outbox["sent"] == 1 and len(fake.sent) == 1
    done = workspace.outbox_entry(queued.id)
    assert done.state == "done" and done.result["already_sent"]
    sent = fake.messages_in("sentitems")
    assert len(sent) == 1 and sent[0]["conversationId"] == fake.find(original)[0]["conversationId"]
    scope = workspace.scope(account.principal_id)
    local = [m for m in mail_store.search_messages(scope, "count me in")]
    assert [m.remote_id for m in local] == [sent[0]["id"]]  # the local stand-in became the server's copy: no twin
    assert local[0].folders == [fake.folder_id("sentitems")]
    assert mail_store.message(scope, local[0].id).thread_id == mail_store.message_by_header_id(scope, original).thread_id


@pytest.mark.parametrize(("status", "headers", "body"), [
    (503, {}, {"error": "temporarily_unavailable", "error_description": "AADSTS90033: A transient error has occurred."}),
    (500, {}, "<html><body>Internal Server Error</body></html>"),
    (429, {"Retry-After": "5"}, {"error": "temporarily_unavailable",
                                 "error_description": "AADSTS50196: The server terminated an operation because it "
                                                      "encountered a client request loop."}),
])
def test_a_failing_or_throttling_sign_in_service_is_offline_not_a_bug_nor_a_sign_in(workspace, account, connector,
                                                                                   fake, status, headers, body, caplog):
    """Reported: a 500/503 from the token endpoint became "internal error" with an msal traceback; a 429 became
    "needs sign-in"."""
    seed_documentation_messages(fake)
    fake.expire_access_tokens()
    fake.token_faults.append((status, headers, body))
    report = sync_account(workspace, account.id, connector)
    assert report.status == "offline", report.errors
    assert report.errors and "internal error" not in report.errors[0] and "sign in" not in report.errors[0]
    assert "Microsoft sign-in service" in report.errors[0]
    assert not any(r.exc_info for r in caplog.records)  # nothing logged as a bug
    asked = len(fake.token_requests)
    again = sync_account(workspace, account.id, connector)  # at once: msal holds off (Retry-After, else 60 s)
    assert again.status == "offline" and len(fake.token_requests) == asked
    assert workspace.account(account.id).status.value == "offline"  # still signed in: it is tried again later
