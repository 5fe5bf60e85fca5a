from __future__ import annotations

import email
import email.policy
import mailbox
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from assistant.core.errors import InvalidInput, NotFound, TransientError
from assistant.mail.compose import reply_subject
from assistant.store import calendar as calendar_store
from assistant.store import mail as mail_store
from assistant.sync import actions
from assistant.sync.engine import sync_account

TESTDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata"


def _synced(local, *numbers):
    for n in numbers:
        local.add(n)
    report = sync_account(local.store, local.account.id)
    assert report.errors == []
    return report


def test_reply_is_threaded_and_shows_in_sent_at_once(local, tmp_path):
    _synced(local, 1)
    attachment = tmp_path / "figures Q3.csv"
    attachment.write_text("quarter,revenue\nQ3,1200\n")
    entry = actions.send_message(local.store, local.account.principal_id, local.account.id,
                                 to=["Zoë Ng <zoe@example.org>"], cc="boss@example.org", subject="",
                                 body_text="Thanks — figures attached.", in_reply_to="<contract-1@example.org>",
                                 attachments=[str(attachment)])
    assert entry.op == "send" and len(entry.idempotency_key) == 32
    import base64

    sent = email.message_from_bytes(base64.b64decode(entry.payload["raw"]), policy=email.policy.default)
    assert sent["Message-ID"] == f"<{entry.idempotency_key}@example.com>"
    assert str(sent["From"]) == "Ada Obi <ada@example.com>"
    assert str(sent["To"]) == "Zoë Ng <zoe@example.org>" and str(sent["Cc"]) == "boss@example.org"
    assert sent["Subject"] == "Re: Quarterly numbers, part 1"
    assert sent["In-Reply-To"] == "<contract-1@example.org>"
    assert sent["References"] == "<contract-1@example.org>"
    assert sent["Date"] is not None
    assert [p.get_filename() for p in sent.iter_attachments()] == ["figures Q3.csv"]

    scope = local.scope
    local_copy = mail_store.message_by_header_id(scope, sent["Message-ID"])
    parent = mail_store.message_by_header_id(scope, "<contract-1@example.org>")
    assert local_copy.folders == ["Sent"] and local_copy.is_read
    assert local_copy.thread_id == parent.thread_id  # threaded with its parent before anything was sent

    report = sync_account(local.store, local.account.id)
    assert report.outbox["sent"] == 1 and report.mail["added"] == 0
    assert local.count(f"SELECT COUNT(*) FROM messages WHERE account_id=? AND message_id_header='{sent['Message-ID']}'") == 1
    assert mail_store.folder_by_role(scope, local.account.id, "sent").remote_id == "Sent"


def test_reply_subject_is_prefixed_once():
    assert reply_subject("Lunch") == "Re: Lunch"
    assert reply_subject("RE: Lunch") == "RE: Lunch"
    assert reply_subject("AW: Mittag") == "AW: Mittag"
    assert reply_subject("Re[2]: Lunch") == "Re[2]: Lunch"
    assert reply_subject("Reading list") == "Re: Reading list"


def test_bad_recipient_or_missing_attachment_writes_nothing(local, tmp_path):
    _synced(local, 1)
    before = local.count()
    with pytest.raises(InvalidInput, match="not an e-mail address"):
        actions.send_message(local.store, local.account.principal_id, local.account.id, to="Zoë", subject="x",
                             body_text="y")
    with pytest.raises(InvalidInput, match="cannot attach"):
        actions.send_message(local.store, local.account.principal_id, local.account.id, to="z@example.org",
                             subject="x", body_text="y", attachments=[str(tmp_path / "missing.pdf")])
    assert local.count() == before and local.store.outbox() == []


def test_local_effect_and_outbox_entry_land_together(local, monkeypatch):
    _synced(local, 1)
    message = mail_store.message_by_header_id(local.scope, "<contract-1@example.org>")

    def broken_enqueue(entry):
        raise RuntimeError("disk full")

    monkeypatch.setattr(local.store, "enqueue", broken_enqueue)
    with pytest.raises(RuntimeError):
        actions.mark_read(local.store, message.id, local.account.principal_id)
    assert not mail_store.message(local.scope, message.id).is_read  # rolled back with the failed enqueue


def test_queued_flag_survives_a_pull_while_the_push_fails(local):
    _synced(local, 1)
    message = mail_store.message_by_header_id(local.scope, "<contract-1@example.org>")
    actions.mark_read(local.store, message.id, local.account.principal_id)

    from assistant.connectors.local import LocalConnector

    class Offline(LocalConnector):
        def apply(self, entry):
            raise TransientError("network is unreachable")

    account = local.store.account(local.account.id)
    local.add(2)  # something to pull, so the pull rewrites rows
    report = sync_account(local.store, account.id, Offline(account))
    assert report.outbox["pending"] == 1
    assert mail_store.message(local.scope, message.id).is_read
    sync_account(local.store, account.id, now=datetime(2100, 1, 1, tzinfo=UTC))
    [path] = [p for p in (local.maildir / "cur").iterdir()]
    assert path.name.endswith(":2,S")


def test_queued_send_keeps_its_local_copy_through_a_full_listing(local):
    from assistant.connectors.local import LocalConnector

    class Offline(LocalConnector):
        def apply(self, entry):
            raise TransientError("network is unreachable")

    _synced(local, 1)
    entry = actions.send_message(local.store, local.account.principal_id, local.account.id, to="zoe@example.org",
                                 subject="Later", body_text="Queued.")
    local.store.set_cursor(local.account.id, "mail", None)  # the next pull lists everything
    account = local.store.account(local.account.id)
    report = sync_account(local.store, account.id, Offline(account))
    assert report.errors == [] and report.mail["removed"] == 0 and report.outbox["pending"] == 1
    assert mail_store.message_by_header_id(local.scope, entry.payload["message_id_header"]).folders == ["Sent"]


def test_move_to_archive_creates_the_folder_and_moves_the_file(local):
    _synced(local, 1, 2)
    message = mail_store.message_by_header_id(local.scope, "<contract-2@example.org>")
    actions.move_message(local.store, message.id, local.account.principal_id, "archive")
    assert mail_store.message(local.scope, message.id).folders == ["Archive"]
    report = sync_account(local.store, local.account.id)
    assert report.errors == [] and report.outbox["sent"] == 1
    archived = mailbox.Maildir(local.maildir / ".Archive", create=False)
    assert [m["Message-ID"] for m in archived] == ["<contract-2@example.org>"]
    assert local.count() == 2
    moved = mail_store.message(local.scope, message.id)
    assert moved.folders == ["Archive"]
    assert mail_store.folder_by_role(local.scope, local.account.id, "archive").remote_id == "Archive"


def test_move_to_unknown_folder_is_refused(local):
    _synced(local, 1)
    message = mail_store.message_by_header_id(local.scope, "<contract-1@example.org>")
    with pytest.raises(NotFound, match="no folder"):
        actions.move_message(local.store, message.id, local.account.principal_id, "Clients/Acme")


# -- calendars ---------------------------------------------------------------------------------------------------------
def _with_calendar(local, path: Path):
    settings = {**local.account.settings, "calendar": str(path)}
    local.store.update_account_settings(local.account.id, settings)


def test_calendar_folder_syncs_create_edit_and_delete(local, tmp_path):
    calendar = tmp_path / "calendar"
    calendar.mkdir()
    for name in ("calendars__america_new_york.ics", "calendars__example.ics", "calendars__broken_ical.ics"):
        source = TESTDATA / "ics" / "collective_icalendar" / name
        (calendar / name).write_bytes(source.read_bytes())
    _with_calendar(local, calendar)
    report = sync_account(local.store, local.account.id)
    assert report.errors == []
    first = report.events["added"]
    assert first == 4
    assert any(w.startswith("calendars__broken_ical.ics: ") for w in report.warnings)  # reported, the rest synced
    assert sync_account(local.store, local.account.id).events == {"added": 0, "updated": 0, "removed": 0}

    entry = actions.create_event(local.store, local.account.principal_id, local.account.id, summary="Board meeting",
                                 start=datetime(2026, 3, 3, 15, tzinfo=UTC),
                                 end=datetime(2026, 3, 3, 16, tzinfo=UTC), location="Lagos")
    assert any(e.summary == "Board meeting" for e in calendar_store.events(local.scope))  # at once, before any sync
    report = sync_account(local.store, local.account.id)
    assert report.errors == [] and report.outbox["sent"] == 1
    uid = f"{entry.idempotency_key}@assistant"
    assert (calendar / f"{uid}.ics").exists()
    assert [e.remote_id for e in calendar_store.events(local.scope) if e.summary == "Board meeting"] == [uid]
    assert report.events["added"] == 0  # the local copy took the remote id: no second copy

    board = next(e for e in calendar_store.events(local.scope) if e.summary == "Board meeting")
    actions.update_event(local.store, local.account.principal_id, board.id, summary="Board meeting (moved)",
                         start=datetime(2026, 3, 3, 17, tzinfo=UTC),
                         end=datetime(2026, 3, 3, 18, tzinfo=UTC))
    assert calendar_store.event(local.scope, board.id).summary == "Board meeting (moved)"
    report = sync_account(local.store, local.account.id)
    assert report.errors == [] and report.events["added"] == report.events["removed"] == 0
    assert b"Board meeting (moved)" in (calendar / f"{uid}.ics").read_bytes()
    assert calendar_store.event(local.scope, board.id).start_utc == datetime(2026, 3, 3, 17, tzinfo=UTC)

    # An event that shares a file with others is moved into its own file when edited; the others stay put.
    shared = next(e for e in calendar_store.events(local.scope) if e.calendar_id == "calendar" and e.uid != uid
                  and e.uid.encode() in (calendar / "calendars__example.ics").read_bytes())
    actions.update_event(local.store, local.account.principal_id, shared.id, location="Room 4")
    report = sync_account(local.store, local.account.id)
    assert report.errors == [] and report.events["added"] == report.events["removed"] == 0
    assert shared.uid.encode() not in (calendar / "calendars__example.ics").read_bytes()
    assert calendar_store.event(local.scope, shared.id).location == "Room 4"
    assert len(calendar_store.events(local.scope)) == first + 1

    actions.delete_event(local.store, local.account.principal_id, board.id)
    report = sync_account(local.store, local.account.id)
    assert report.errors == [] and not (calendar / f"{uid}.ics").exists()
    assert len(calendar_store.events(local.scope)) == first

    (calendar / "calendars__example.ics").unlink()
    assert sync_account(local.store, local.account.id).events["removed"] == 2
    assert len(calendar_store.events(local.scope)) == 2


def test_single_ics_file_is_rewritten_atomically(local, tmp_path):
    calendar = tmp_path / "work.ics"
    calendar.write_bytes((TESTDATA / "ics" / "collective_icalendar" / "calendars__america_new_york.ics").read_bytes())
    _with_calendar(local, calendar)
    before = sync_account(local.store, local.account.id).events["added"]
    actions.create_event(local.store, local.account.principal_id, local.account.id, summary="Offsite",
                         start=date(2026, 4, 1), end=date(2026, 4, 3))
    report = sync_account(local.store, local.account.id)
    assert report.errors == []
    assert b"Offsite" in calendar.read_bytes()
    assert not list(tmp_path.glob(".tmp-*"))
    events = calendar_store.events(local.scope)
    assert len(events) == before + 1
    offsite = next(e for e in events if e.summary == "Offsite")
    assert offsite.all_day and offsite.start_date == date(2026, 4, 1)
    actions.delete_event(local.store, local.account.principal_id, offsite.id)
    sync_account(local.store, local.account.id)
    assert b"Offsite" not in calendar.read_bytes() and calendar.exists()
    assert len(calendar_store.events(local.scope)) == before


def test_a_weekly_event_keeps_its_local_time_across_daylight_saving(local):
    """Created in March before New York springs forward: still 09:00 local the week after."""
    from datetime import datetime

    from assistant.calendar.ics import expand
    from assistant.core.timezones import get_zone

    store, principal_id = local.store, local.account.principal_id
    store.update_principal(_with_zone(store.principal(principal_id), "America/New_York"))
    start = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # 09:00 EST, a Monday
    actions.create_event(store, principal_id, local.account.id, summary="Weekly review", start=start,
                         end=start.replace(hour=15), rrule="FREQ=WEEKLY;COUNT=3")
    (event,) = [e for e in calendar_store.events(store.scope(principal_id)) if e.summary == "Weekly review"]
    assert "TZID=America/New_York" in event.ics and "BEGIN:VTIMEZONE" in event.ics
    occurrences = expand(event, start, datetime(2026, 3, 30, tzinfo=UTC))
    local_hours = [o.start_utc.astimezone(get_zone("America/New_York")).hour for o in occurrences]
    assert local_hours == [9, 9, 9]
    assert [o.start_utc.hour for o in occurrences] == [14, 13, 13]  # UTC moves; the wall clock does not


def _with_zone(principal, zone):
    principal.timezone = zone
    return principal


def test_moving_a_weekly_event_keeps_it_on_local_time_across_daylight_saving(local):
    """Moved to 10:00 New York time in February: still 10:00 local after the March change, not 11:00."""
    from datetime import datetime

    from assistant.calendar.ics import expand
    from assistant.core.timezones import get_zone

    store, principal_id = local.store, local.account.principal_id
    store.update_principal(_with_zone(store.principal(principal_id), "America/New_York"))
    start = datetime(2026, 2, 23, 14, 0, tzinfo=UTC)  # Monday 09:00 EST
    actions.create_event(store, principal_id, local.account.id, summary="Standing call", start=start,
                         end=start.replace(hour=15), rrule="FREQ=WEEKLY;COUNT=4")
    (event,) = [e for e in calendar_store.events(store.scope(principal_id)) if e.summary == "Standing call"]
    moved = datetime(2026, 2, 23, 15, 0, tzinfo=UTC)  # 10:00 EST, given in UTC as a UI might
    actions.update_event(store, principal_id, event.id, start=moved, end=moved.replace(hour=16))
    event = calendar_store.event(store.scope(principal_id), event.id)
    assert "TZID=America/New_York" in event.ics
    occurrences = expand(event, moved, datetime(2026, 3, 31, tzinfo=UTC))
    assert [o.start_utc.astimezone(get_zone("America/New_York")).hour for o in occurrences] == [10, 10, 10, 10]
