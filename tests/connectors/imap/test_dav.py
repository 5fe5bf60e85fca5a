"""Calendars and contacts over CalDAV/CardDAV against a real Radicale on 127.0.0.1 (``radicale_server.py``).

The sync runs through the engine (``sync_account``) and the user's actions (``sync.actions``), with a connector that
only delegates to :class:`DavCalendars`, built the way the IMAP connector wires it: the saved calendar cursor is the
state its writes need.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from assistant.calendar.ics import expand
from assistant.connectors.base import CalendarPage, Capability, Connector, ContactsPage
from assistant.connectors.imap import dav as dav_module
from assistant.connectors.imap.dav import DavCalendars
from assistant.core.errors import NeedsSignIn, PermanentError, TransientError
from assistant.domain import Account, OutboxEntry, Principal
from assistant.store import Store
from assistant.store import calendar as calendar_store
from assistant.store import contacts as contact_store
from assistant.sync import actions
from assistant.sync.engine import sync_account
from tests.connectors.imap.radicale_server import (
    ADDRESS_BOOK,
    CALENDAR,
    PASSWORD,
    USER,
    CorruptingProxy,
    RadicaleServer,
    event_ics,
    radicale,  # noqa: F401 - the fixture
)

DUBLIN = "Europe/Dublin"


class DavOnly(Connector):
    """The calendar and contacts half of a connector, nothing else: what the IMAP connector delegates."""

    kind = "dav-test"
    display_name = "CalDAV (test)"
    capabilities = frozenset({Capability.CALENDAR, Capability.CONTACTS})

    def __init__(self, account: Account, *, dav: DavCalendars):
        super().__init__(account)
        self.dav = dav

    def mail_changes(self, cursor: str | None) -> Iterator[Any]:
        return iter(())

    def calendar_changes(self, cursor: str | None) -> Iterator[CalendarPage]:
        yield from self.dav.calendar_changes(cursor)

    def contacts_changes(self, cursor: str | None) -> Iterator[ContactsPage]:
        yield from self.dav.contacts_changes(cursor)

    def apply(self, entry: OutboxEntry) -> dict[str, Any]:
        return self.dav.apply(entry)


def make_dav(server: RadicaleServer, account: Account, state: Any = None, password: str = PASSWORD) -> DavCalendars:
    return DavCalendars(server.url, USER, password, state, principal_id=account.principal_id, account_id=account.id)


@pytest.fixture
def server(radicale: RadicaleServer) -> RadicaleServer:  # noqa: F811
    radicale.make_calendar()
    return radicale


@pytest.fixture
def account(workspace: Store) -> Account:
    principal = workspace.add_principal(Principal("Dana Whitfield", DUBLIN, ["dana@example.org"]))
    return workspace.add_account(Account(principal.id, "dav-test", "dana@example.org", {"contacts": True}))


def sync(store: Store, server: RadicaleServer, account: Account, *, errors_ok: bool = False):
    """One pass as the app makes it: a new connector whose DAV state is the saved calendar cursor."""
    dav = make_dav(server, account, store.get_cursor(account.id, "calendar"))
    report = sync_account(store, account.id, DavOnly(store.account(account.id), dav=dav))
    if not errors_ok:
        assert report.errors == [], report.errors
    return report


def events_by_summary(store: Store, account: Account) -> dict[str, Any]:
    return {e.summary: e for e in calendar_store.events(store.scope(account.principal_id))}


# -- discovery -------------------------------------------------------------------------------------------------------
def test_discovery_finds_the_principals_calendars_and_address_books(server, account):
    server.make_calendar("family")
    server.make_address_book()
    dav = make_dav(server, account)
    assert dav.discover_calendars() == {f"/{USER}/{CALENDAR}/": "Work", f"/{USER}/family/": "Family"}
    assert dav.discover_address_books() == {f"/{USER}/{ADDRESS_BOOK}/": "Contacts"}
    assert dav.health().startswith("ok: 2 calendars")


def test_a_wrong_password_is_one_line_asking_to_sign_in(server, workspace, account):
    with pytest.raises(NeedsSignIn, match="did not accept the user name or password"):
        make_dav(server, account, password="wrong").discover_calendars()
    report = sync_account(workspace, account.id, DavOnly(account, dav=make_dav(server, account, password="wrong")))
    assert report.status == "needs-sign-in" and workspace.account(account.id).status.value == "needs-sign-in"
    assert report.errors == [f"the calendar server 127.0.0.1:{server.port} did not accept the user name or password "
                             f"of {USER}: check them, or make a new app password"]


def test_an_unreachable_server_is_a_transient_one_line_error(server, workspace, account):
    dav = make_dav(server, account)
    dav.discover_calendars()
    server.stop()
    with pytest.raises(TransientError, match=r"^cannot reach the calendar server 127\.0\.0\.1:\d+ while "):
        list(dav.calendar_changes(None))
    report = sync_account(workspace, account.id, DavOnly(account, dav=make_dav(server, account)))
    assert report.status == "offline" and report.errors
    assert all(e.startswith(("calendar: cannot reach", "contacts: cannot reach")) and "\n" not in e
               for e in report.errors), report.errors


# -- from the server --------------------------------------------------------------------------------------------------
def test_first_sync_then_changes_by_sync_token(server, workspace, account):
    a = server.put(CALENDAR, "a.ics", event_ics("a@other", "Board call"))
    b = server.put(CALENDAR, "b.ics", event_ics("b@other", "Dentist", "20260311T150000", "20260311T160000"))
    report = sync(workspace, server, account)
    assert report.events == {"added": 2, "updated": 0, "removed": 0}
    events = events_by_summary(workspace, account)
    assert events["Board call"].remote_id == a and events["Board call"].calendar_id == f"/{USER}/{CALENDAR}/"
    assert events["Board call"].start_utc == datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # GMT in March before the switch

    cursor = workspace.get_cursor(account.id, "calendar")
    assert "radicale.org/ns/sync/" in cursor  # the server's sync token is what the next pass asks with
    assert sync(workspace, server, account).events == {"added": 0, "updated": 0, "removed": 0}

    server.put(CALENDAR, "b.ics", event_ics("b@other", "Dentist (moved)", "20260312T150000", "20260312T160000"))
    server.delete(a)
    server.put(CALENDAR, "c.ics", event_ics("c@other", "Lunch with Sam"))
    dav = make_dav(server, account)
    pages = list(dav.calendar_changes(workspace.get_cursor(account.id, "calendar")))
    assert not any(p.full for p in pages)  # incremental: only what changed since the token
    assert sorted(e.summary for p in pages for e in p.upserted) == ["Dentist (moved)", "Lunch with Sam"]
    assert [r for p in pages for r in p.removed] == [a]

    report = sync(workspace, server, account)
    assert report.events == {"added": 1, "updated": 1, "removed": 1}
    assert sorted(events_by_summary(workspace, account)) == ["Dentist (moved)", "Lunch with Sam"]
    assert events_by_summary(workspace, account)["Dentist (moved)"].remote_id == b


def test_changes_come_a_batch_at_a_time_and_only_the_last_page_resumes(server, workspace, account, monkeypatch):
    monkeypatch.setattr(dav_module, "MULTIGET_BATCH", 2)
    server.make_calendar("family")
    for n in range(5):
        server.put(CALENDAR, f"w{n}.ics", event_ics(f"w{n}@other", f"Work {n}"))
    server.put("family", "f0.ics", event_ics("f0@other", "Family 0"))
    pages = list(make_dav(server, account).calendar_changes(None))
    assert [len(p.upserted) for p in pages] == [2, 2, 1, 1]
    assert all(p.full for p in pages) and [p.cursor is not None for p in pages] == [False, False, False, True]
    assert sorted(h for p in pages for h in p.seen) == sorted(e.remote_id for p in pages for e in p.upserted)
    report = sync(workspace, server, account)
    assert report.events == {"added": 6, "updated": 0, "removed": 0}
    server.delete(f"/{USER}/{CALENDAR}/w1.ics")
    server.put("family", "f1.ics", event_ics("f1@other", "Family 1"))
    assert sync(workspace, server, account).events == {"added": 1, "updated": 0, "removed": 1}
    assert len(events_by_summary(workspace, account)) == 6


def test_a_truncated_sync_answer_is_followed_to_the_end(server, account):
    """RFC 6578 3.6: a server may answer part of the changes, with a 507 for the collection and a token to go on
    from (Google's CalDAV does, a few hundred at a time). The proxy makes Radicale's first answer such a part."""
    import re

    for n in range(3):
        server.put(CALENDAR, f"e{n}.ics", event_ics(f"e{n}@other", f"Event {n}"))
    asked: list[bytes] = []

    def request(method: str, body: bytes, _content: bytes) -> bytes:
        if method == "REPORT" and b"sync-collection" in body:
            asked.append(body)
            return body.replace(b"<D:sync-token>part-1</D:sync-token>", b"<D:sync-token></D:sync-token>")
        return body

    def answer(method: str, body: bytes, content: bytes) -> bytes:
        if not (method == "REPORT" and b"<D:sync-token></D:sync-token>" in body):
            return content
        responses = re.findall(rb"<(?:\w+:)?response>.*?</(?:\w+:)?response>", content, re.S)
        truncated = (f"<response xmlns=\"DAV:\"><href>/{USER}/{CALENDAR}/</href>"
                     "<status>HTTP/1.1 507 Insufficient Storage</status></response>").encode()
        head = content[:content.index(responses[0])]
        tail = content[content.index(responses[-1]) + len(responses[-1]):]
        return re.sub(rb"(<(?:\w+:)?sync-token>)[^<]*(</)", rb"\1part-1\2", head + responses[0] + truncated + tail)

    proxy = CorruptingProxy(server.url, {}, requests_=request, answers=answer)
    try:
        dav = DavCalendars(proxy.url, USER, PASSWORD, principal_id=account.principal_id, account_id=account.id)
        pages = list(dav.calendar_changes(None))
    finally:
        proxy.stop()
    assert len(asked) == 2 and b"part-1" in asked[1]  # asked again from the token of the part
    assert sorted(e.summary for p in pages for e in p.upserted) == ["Event 0", "Event 1", "Event 2"]
    assert "part-1" not in pages[-1].cursor and "radicale.org/ns/sync/" in pages[-1].cursor


def test_a_forgotten_sync_token_lists_again_without_losing_or_doubling(server, workspace, account):
    server.put(CALENDAR, "a.ics", event_ics("a@other", "Board call"))
    sync(workspace, server, account)
    cursor = workspace.get_cursor(account.id, "calendar")
    forgotten = cursor.replace("radicale.org/ns/sync/", "radicale.org/ns/sync/0000")
    workspace.set_cursor(account.id, "calendar", forgotten)
    server.put(CALENDAR, "b.ics", event_ics("b@other", "Dentist"))
    report = sync(workspace, server, account)
    assert report.events == {"added": 1, "updated": 0, "removed": 0}
    assert sorted(events_by_summary(workspace, account)) == ["Board call", "Dentist"]


def test_a_calendar_deleted_on_the_server_takes_only_its_own_events(server, workspace, account):
    server.make_calendar("family")
    server.put(CALENDAR, "a.ics", event_ics("a@other", "Board call"))
    server.put("family", "b.ics", event_ics("b@other", "School play"))
    sync(workspace, server, account)
    assert sorted(events_by_summary(workspace, account)) == ["Board call", "School play"]
    answer = server.http.delete(server.collection_url("family"))
    assert answer.status_code in (200, 204)
    report = sync(workspace, server, account)
    assert report.events == {"added": 0, "updated": 0, "removed": 1}
    assert sorted(events_by_summary(workspace, account)) == ["Board call"]


def test_a_server_that_suddenly_shows_nothing_wipes_nothing(server, workspace, account):
    server.put(CALENDAR, "a.ics", event_ics("a@other", "Board call"))
    sync(workspace, server, account)
    server.http.delete(server.collection_url(CALENDAR))  # a wiped account, a wrong URL, a server restored empty
    report = sync(workspace, server, account, errors_ok=True)
    assert len(report.errors) == 1 and report.errors[0].startswith("calendar: "), report.errors
    assert sorted(events_by_summary(workspace, account)) == ["Board call"]


def test_without_sync_tokens_etags_are_compared(server, workspace, account):
    a = server.put(CALENDAR, "a.ics", event_ics("a@other", "Board call"))
    server.put(CALENDAR, "b.ics", event_ics("b@other", "Dentist"))
    dav = make_dav(server, account)
    dav.use_sync_collection = False
    first = list(dav.calendar_changes(None))
    assert sorted(e.summary for p in first for e in p.upserted) == ["Board call", "Dentist"]
    server.put(CALENDAR, "b.ics", event_ics("b@other", "Dentist (moved)"))
    server.delete(a)
    again = make_dav(server, account)
    again.use_sync_collection = False
    pages = list(again.calendar_changes(first[-1].cursor))
    assert [e.summary for p in pages for e in p.upserted] == ["Dentist (moved)"]  # the unchanged one is not read
    assert pages[-1].full and pages[-1].seen == [f"/{USER}/{CALENDAR}/b.ics"]


def test_a_broken_object_is_one_line_and_the_rest_syncs(server, workspace, account):
    server.put(CALENDAR, "good.ics", event_ics("good@other", "Board call"))
    server.put(CALENDAR, "broken.ics", event_ics("broken@other", "Nowhen", "20260310T071500", "20260310T081500"))
    # The server serves that object with its start cut short: no iCalendar reader can place it.
    proxy = CorruptingProxy(server.url, {b"DTSTART;TZID=Europe/Dublin:20260310T071500": b"DTSTART:2026031"})
    try:
        dav = DavCalendars(proxy.url, USER, PASSWORD, principal_id=account.principal_id, account_id=account.id)
        report = sync_account(workspace, account.id, DavOnly(account, dav=dav))
    finally:
        proxy.stop()
    assert report.errors == []
    assert sorted(events_by_summary(workspace, account)) == ["Board call"]
    broken = [w for w in report.warnings if w.startswith("broken.ics")]
    assert len(broken) == 1 and "\n" not in broken[0] and "DTSTART" in broken[0], report.warnings
    # Mended on the server, it arrives with the next pass.
    server.put(CALENDAR, "broken.ics", event_ics("broken@other", "Nowhen, now placed", "20260310T071600",
                                                 "20260310T081500"))
    assert sync(workspace, server, account).events["added"] == 1
    assert sorted(events_by_summary(workspace, account)) == ["Board call", "Nowhen, now placed"]


def test_recurring_series_with_an_override_is_one_event_as_the_local_connector_keeps_it(server, workspace, account):
    weekly = event_ics("standup@other", "Stand-up", "20260302T093000", "20260302T094500",
                       extra="RRULE:FREQ=WEEKLY;COUNT=6")
    moved = event_ics("standup@other", "Stand-up (late)", "20260316T113000", "20260316T114500",
                      extra="RECURRENCE-ID;TZID=Europe/Dublin:20260316T093000")
    override = moved[moved.index("BEGIN:VEVENT"):moved.index("END:VCALENDAR")]
    server.put(CALENDAR, "standup.ics", weekly.replace("END:VCALENDAR", override + "END:VCALENDAR"))
    sync(workspace, server, account)
    event = events_by_summary(workspace, account)["Stand-up"]
    assert event.rrule == "FREQ=WEEKLY;COUNT=6" and event.timezone == DUBLIN
    assert "RECURRENCE-ID" in event.ics and "BEGIN:VTIMEZONE" in event.ics
    occurrences = expand(event, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))
    starts = [o.start_utc for o in occurrences]
    assert len(starts) == 6
    assert datetime(2026, 3, 16, 11, 30, tzinfo=UTC) in starts  # the override, moved two hours
    # 09:30 in Dublin stays 09:30 across the switch to summer time on 29 March: 08:30 UTC from then on
    assert starts[-1] == datetime(2026, 4, 6, 8, 30, tzinfo=UTC)


def test_events_on_daylight_saving_edges_are_stored_in_utc_with_their_zone(server, workspace, account):
    # 29 March 2026, 01:00 UTC: Dublin goes from GMT to IST; 25 October, 01:00 UTC: back (01:00-02:00 happens twice,
    # and RFC 5545 reads such a time as its first occurrence).
    server.put(CALENDAR, "before.ics", event_ics("before@other", "Before the switch", "20260329T003000",
                                                 "20260329T023000"))
    server.put(CALENDAR, "after.ics", event_ics("after@other", "After the switch", "20260329T023000",
                                                "20260329T033000"))
    server.put(CALENDAR, "twice.ics", event_ics("twice@other", "Hour that happens twice", "20261025T013000",
                                                "20261025T020000"))
    sync(workspace, server, account)
    events = events_by_summary(workspace, account)
    assert events["Before the switch"].start_utc == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert events["Before the switch"].end_utc == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # one hour, not two
    assert events["After the switch"].start_utc == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert events["Hour that happens twice"].start_utc == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    for event in events.values():
        assert event.timezone == DUBLIN and "DTSTART;TZID=Europe/Dublin:" in event.ics


# -- to the server ----------------------------------------------------------------------------------------------------
def test_create_update_delete_from_the_app_reach_the_server(server, workspace, account):
    sync(workspace, server, account)
    zone = timedelta(hours=1)  # IST in June
    start = datetime(2026, 6, 1, 10, 0, tzinfo=UTC) - zone
    actions.create_event(workspace, account.principal_id, account.id, summary="Quarterly review", start=start,
                         end=start + timedelta(hours=1), location="Room 2")
    report = sync(workspace, server, account)
    assert report.outbox["sent"] == 1
    names = server.names(CALENDAR)
    assert len(names) == 1 and names[0].endswith("@assistant.ics")
    href = f"/{USER}/{CALENDAR}/{names[0]}"
    text, _ = server.get(href)
    assert "SUMMARY:Quarterly review" in text and "DTSTART;TZID=Europe/Dublin:20260601T100000" in text
    event = events_by_summary(workspace, account)["Quarterly review"]
    assert event.remote_id == href  # the stand-in id became the server's
    assert report.events["added"] == 0 and len(events_by_summary(workspace, account)) == 1  # read back, not doubled

    actions.update_event(workspace, account.principal_id, event.id, summary="Quarterly review (Q2)")
    assert sync(workspace, server, account).outbox["sent"] == 1
    assert "SUMMARY:Quarterly review (Q2)" in server.get(href)[0]
    event = events_by_summary(workspace, account)["Quarterly review (Q2)"]

    actions.delete_event(workspace, account.principal_id, event.id)
    assert sync(workspace, server, account).outbox["sent"] == 1
    assert server.names(CALENDAR) == []
    assert events_by_summary(workspace, account) == {}


def test_an_event_made_here_on_the_spring_forward_night_keeps_its_zone_on_the_server(server, workspace, account):
    sync(workspace, server, account)
    start = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 00:30 GMT; the clocks go to 02:00 IST at 01:00 GMT
    actions.create_event(workspace, account.principal_id, account.id, summary="Night shift handover", start=start,
                         end=start + timedelta(hours=2))
    sync(workspace, server, account)
    [name] = server.names(CALENDAR)
    text, _ = server.get(f"/{USER}/{CALENDAR}/{name}")
    assert "DTSTART;TZID=Europe/Dublin:20260329T003000" in text
    assert "DTEND;TZID=Europe/Dublin:20260329T033000" in text  # two hours later, one of them skipped by the clocks
    assert "BEGIN:VTIMEZONE" in text
    # Read back from the server by a fresh pass, the instants are the ones typed.
    workspace.set_cursor(account.id, "calendar", None)
    sync(workspace, server, account)
    event = events_by_summary(workspace, account)["Night shift handover"]
    assert (event.start_utc, event.end_utc) == (start, start + timedelta(hours=2))
    assert event.timezone == DUBLIN


def test_an_event_made_and_changed_before_any_sync_arrives_once_as_changed(server, workspace, account):
    sync(workspace, server, account)
    start = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)
    actions.create_event(workspace, account.principal_id, account.id, summary="Offsite", start=start,
                         end=start + timedelta(hours=3))
    event = events_by_summary(workspace, account)["Offsite"]
    actions.update_event(workspace, account.principal_id, event.id, summary="Offsite in Galway")
    report = sync(workspace, server, account)
    assert report.outbox["sent"] == 2
    [name] = server.names(CALENDAR)
    assert "SUMMARY:Offsite in Galway" in server.get(f"/{USER}/{CALENDAR}/{name}")[0]
    assert sorted(events_by_summary(workspace, account)) == ["Offsite in Galway"]


def test_a_create_retried_after_a_crash_makes_one_event(server, workspace, account):
    dav = make_dav(server, account)
    ics = event_ics("key-1@assistant", "Once only")
    entry = OutboxEntry(account.principal_id, account.id, "event-create", {"ics": ics}, "key-1", id=1)
    first = dav.apply(entry)
    again = make_dav(server, account).apply(entry)  # a new process that never heard of the first attempt
    assert first == again == {"remote_id": f"/{USER}/{CALENDAR}/key-1@assistant.ics"}
    assert server.names(CALENDAR) == ["key-1@assistant.ics"]


def test_an_edit_never_overwrites_a_change_made_on_the_server_meanwhile(server, workspace, account):
    href = server.put(CALENDAR, "a.ics", event_ics("a@other", "Board call"))
    sync(workspace, server, account)
    event = events_by_summary(workspace, account)["Board call"]
    # Behind the client's back, someone moves the call in their own calendar app.
    server.put(CALENDAR, "a.ics", event_ics("a@other", "Board call (moved by Sam)", "20260310T140000",
                                            "20260310T150000"))
    actions.update_event(workspace, account.principal_id, event.id, summary="Board call with agenda")
    report = sync(workspace, server, account, errors_ok=True)
    assert report.outbox["failed"] == 1
    [failed] = report.failed
    assert "was changed on the calendar server" in failed["error"] and "\n" not in failed["error"]
    assert "SUMMARY:Board call (moved by Sam)" in server.get(href)[0]
    # The server's version is what the app shows after the same pass.
    assert sorted(events_by_summary(workspace, account)) == ["Board call (moved by Sam)"]


def test_without_a_saved_state_an_edit_still_keeps_a_later_revision_on_the_server(server, workspace, account):
    """A connector that was not handed the saved state cannot send the ETag the edit was based on: it reads the
    server's copy and writes only when that is no later revision than the edited one (SEQUENCE, LAST-MODIFIED,
    DTSTAMP, which editing here keeps and other clients raise)."""
    href = server.put(CALENDAR, "a.ics", event_ics("a@other", "Board call"))
    sync(workspace, server, account)
    event = events_by_summary(workspace, account)["Board call"]

    def edit(summary: str) -> OutboxEntry:
        import icalendar

        cal = icalendar.Calendar.from_ical(event.ics)
        next(iter(cal.walk("VEVENT")))["SUMMARY"] = summary
        return OutboxEntry(account.principal_id, account.id, "event-update",
                           {"ics": cal.to_ical().decode(), "remote_id": href}, summary, id=1)

    make_dav(server, account).apply(edit("Board call with agenda"))  # nobody else touched it: written
    assert "SUMMARY:Board call with agenda" in server.get(href)[0]
    server.put(CALENDAR, "a.ics", event_ics("a@other", "Board call (moved by Sam)", "20260310T140000",
                                            "20260310T150000", stamp=datetime(2026, 2, 1, 8, 0, tzinfo=UTC)))
    with pytest.raises(PermanentError, match="was changed on the calendar server"):
        make_dav(server, account).apply(edit("Board call, agenda v2"))
    assert "SUMMARY:Board call (moved by Sam)" in server.get(href)[0]


def test_a_412_with_unchanged_content_is_retried_once_with_the_new_etag(server, workspace, account):
    href = server.put(CALENDAR, "a.ics", event_ics("a@other", "Board call at the Café"))
    dav = make_dav(server, account)
    list(dav.calendar_changes(None))
    items = dav.state["calendar"]["collections"][f"/{USER}/{CALENDAR}/"]["items"]
    assert items[href][0] == server.get(href)[1]
    items[href][0] = '"an-etag-the-server-no-longer-has"'  # the ETag moved, the content did not
    before = dav.requests_made
    dav.apply(OutboxEntry(account.principal_id, account.id, "event-update",
                          {"ics": event_ics("a@other", "Board call, agenda attached"), "remote_id": href}, "k", id=1))
    assert dav.requests_made - before == 3  # PUT (412), GET, PUT
    assert "SUMMARY:Board call\\, agenda attached" in server.get(href)[0]


def test_a_delete_does_not_remove_what_someone_changed_meanwhile(server, workspace, account):
    href = server.put(CALENDAR, "a.ics", event_ics("a@other", "Board call"))
    sync(workspace, server, account)
    event = events_by_summary(workspace, account)["Board call"]
    server.put(CALENDAR, "a.ics", event_ics("a@other", "Board call (now with the auditors)"))
    actions.delete_event(workspace, account.principal_id, event.id)
    report = sync(workspace, server, account, errors_ok=True)
    assert report.outbox["failed"] == 1 and "was not deleted" in report.failed[0]["error"]
    assert server.get(href)[0]
    assert sorted(events_by_summary(workspace, account)) == ["Board call (now with the auditors)"]


# -- contacts ---------------------------------------------------------------------------------------------------------
VCARD = ("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\nN:{name};;;;\r\nEMAIL;TYPE=work:{email}\r\n"
         "TEL;TYPE=cell:{phone}\r\nEND:VCARD\r\n")


def test_contacts_over_carddav_when_asked(server, workspace, account):
    server.make_address_book()
    server.put(ADDRESS_BOOK, "sam.vcf", VCARD.format(uid="sam", name="Sam Ortiz", email="sam@example.org",
                                                     phone="+353 86 123 4567"), "text/vcard")
    zoe = server.put(ADDRESS_BOOK, "zoe.vcf", VCARD.format(uid="zoe", name="Zoë Ng", email="zoe@example.org",
                                                           phone="086 765 4321"), "text/vcard")
    report = sync(workspace, server, account)
    assert report.contacts == {"added": 2, "updated": 0, "removed": 0}
    scope = workspace.scope(account.principal_id)
    assert contact_store.contact_for_email(scope, "zoe@example.org").name == "Zoë Ng"
    assert contact_store.contact_for_phone(scope, "+353861234567").name == "Sam Ortiz"

    server.delete(zoe)
    server.put(ADDRESS_BOOK, "sam.vcf", VCARD.format(uid="sam", name="Sam Ortiz-Byrne", email="sam@example.org",
                                                     phone="+353 86 123 4567"), "text/vcard")
    dav = make_dav(server, account)
    pages = list(dav.contacts_changes(workspace.get_cursor(account.id, "contacts")))
    assert not any(p.full for p in pages)
    assert [c.name for p in pages for c in p.upserted] == ["Sam Ortiz-Byrne"]
    assert [r for p in pages for r in p.removed] == [zoe]
    assert sync(workspace, server, account).contacts == {"added": 0, "updated": 1, "removed": 1}
