from __future__ import annotations

import filecmp
import json
import logging
import mailbox
import re
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest

from assistant.calendar.ics import expand
from assistant.core import timezones
from assistant.core.errors import NotFound, UserError
from assistant.core.timezones import UTC
from assistant.demo.build import MARKER, RESOURCES, SOURCES_DIR, build_demo, write_demo_sources
from assistant.domain import Principal
from assistant.store import Store
from assistant.store import board as board_store
from assistant.store import calendar as calendar_store
from assistant.store import calls as call_store
from assistant.store import mail as mail_store
from assistant.sync.engine import sync_all

# A Sunday on which New York moves its clocks forward: the demo's "today" and "tomorrow" must still land right.
NOW = datetime(2026, 3, 8, 15, 30, tzinfo=UTC)
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
SPECS = {spec["name"]: spec for spec in json.loads((RESOURCES / "principals.json").read_text(encoding="utf-8"))}


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


BUILD_WARNINGS = _Collect()


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "workspace"
    logger = logging.getLogger("assistant.demo.build")
    logger.addHandler(BUILD_WARNINGS)
    try:
        build_demo(path, now=NOW)
    finally:
        logger.removeHandler(BUILD_WARNINGS)
    return path


@pytest.fixture
def demo(demo_dir: Path):
    store = Store(demo_dir, create=False)
    yield store
    store.close()


def scopes(store: Store) -> dict[str, object]:
    return {p.name: store.scope(p.id) for p in store.principals()}


def all_messages(scope) -> list:
    return [m for t in mail_store.threads(scope, limit=10_000) for m in mail_store.thread_messages(scope, t.id)]


def test_three_principals_in_three_zones(demo: Store, demo_dir: Path) -> None:
    principals = demo.principals()
    assert sorted(p.name for p in principals) == ["Adaeze Okafor", "Dana Whitfield", "Kenji Sato"]
    assert {p.timezone for p in principals} == {"America/New_York", "Asia/Tokyo", "Africa/Lagos"}
    assert {p.region for p in principals} == {"US", "JP", "NG"}
    assert len({p.colour for p in principals}) == 3
    for p in principals:
        assert p.signature and p.notes and p.addresses
        [account] = demo.accounts(p.id)
        assert account.kind == "local"
        maildir, calendar = Path(account.settings["maildir"]), Path(account.settings["calendar"])
        assert (maildir / "cur").is_dir() and (maildir / ".Sent" / "cur").is_dir()
        assert sorted(calendar.glob("*.ics"))
        assert demo_dir / SOURCES_DIR in maildir.parents
    assert (demo_dir / MARKER).is_file()


def test_each_principal_has_a_few_hundred_threaded_messages(demo: Store) -> None:
    for name, scope in scopes(demo).items():
        assert mail_store.message_count(scope) >= 200, name
        threads = mail_store.threads(scope, limit=10_000)
        assert len(threads) < mail_store.message_count(scope)
        long_threads = [t for t in threads if t.message_count >= 3]
        assert len(long_threads) >= 10, name
        for thread in long_threads[:5]:
            messages = mail_store.thread_messages(scope, thread.id)
            for earlier, later in zip(messages, messages[1:], strict=False):
                assert later.in_reply_to == earlier.message_id_header
                assert later.references[-1] == earlier.message_id_header
                assert later.references[: len(earlier.references)] == earlier.references


def test_sent_folder_holds_the_principals_own_mail(demo: Store) -> None:
    for p in demo.principals():
        scope = demo.scope(p.id)
        [account] = demo.accounts(p.id)
        sent = mail_store.folder_by_role(scope, account.id, "sent")
        assert sent is not None
        messages = all_messages(scope)
        sent_messages = [m for m in messages if sent.remote_id in m.folders]
        assert len(sent_messages) >= 50
        assert all(m.sender.email == p.primary_address for m in sent_messages)
        received = [m for m in messages if sent.remote_id not in m.folders]
        assert all(m.sender.email not in p.addresses for m in received)


def test_mail_has_html_attachments_flags_and_non_ascii(demo: Store) -> None:
    for name, scope in scopes(demo).items():
        messages = all_messages(scope)
        assert sum(1 for m in messages if m.body_html and m.body_text) >= 20, name
        assert all(m.body_text for m in messages), name
        attached = [a for m in messages for a in m.attachments]
        assert {"application/pdf", "text/calendar", "text/csv"} <= {a.content_type for a in attached}, name
        assert all(a.size > 0 and a.filename for a in attached)
        assert any(not m.subject.isascii() for m in messages), name
        assert any(len(m.subject) > 100 for m in messages), name
        assert any(m.is_flagged for m in messages) and any(not m.is_read for m in messages), name
        assert sum(m.is_read for m in messages) > len(messages) / 2
        assert not [m.parse_error for m in messages if m.parse_error]
        assert all(m.date_utc <= NOW for m in messages)
        assert min(m.date_utc for m in messages) >= NOW - timedelta(days=61)
    kenji = scopes(demo)["Kenji Sato"]
    assert any(JAPANESE.search(m.subject) for m in all_messages(kenji))
    assert any(JAPANESE.search(a.filename) for m in all_messages(kenji) for a in m.attachments)
    adaeze_senders = {m.sender.name for m in all_messages(scopes(demo)["Adaeze Okafor"])}
    assert "Oluwaseun Adébáyọ̀" in adaeze_senders and "Chiamaka Nwọ́kọ́lọ" in adaeze_senders


def test_calendar_has_recurring_all_day_and_foreign_zone_events(demo: Store) -> None:
    for p in demo.principals():
        scope = demo.scope(p.id)
        events = calendar_store.events(scope)
        assert any(e.all_day and e.start_date for e in events), p.name
        recurring = [e for e in events if e.is_recurring]
        assert len(recurring) >= 2, p.name
        spec = SPECS[p.name]
        assert any(f"TZID={spec['other_zone']}" in e.ics for e in events), p.name
        weekly = next(e for e in recurring if "RECURRENCE-ID" in e.ics)
        assert "EXDATE" in weekly.ics
        occurrences = expand(weekly, NOW - timedelta(weeks=4), NOW + timedelta(weeks=3))
        local_starts = [timezones.in_zone(o.start_utc, p.timezone) for o in occurrences]
        usual = {(s.hour, s.minute) for s, o in zip(local_starts, occurrences, strict=False) if "(moved)" not in o.summary}
        assert len(usual) == 1, "a weekly meeting keeps its wall-clock time across DST"
        moved = [s for s, o in zip(local_starts, occurrences, strict=False) if "(moved)" in o.summary]
        assert len(moved) == 1
        assert (moved[0].hour, moved[0].minute) == ((min(usual)[0] + 2) % 24, min(usual)[1])
        gaps = [b.date() - a.date() for a, b in zip(local_starts, local_starts[1:], strict=False)]
        assert timedelta(days=14) in gaps, "one occurrence is cancelled by EXDATE"


def test_calls_and_tasks(demo: Store) -> None:
    today_count = tomorrow_count = 0
    for p in demo.principals():
        scope = demo.scope(p.id)
        calls = call_store.recent_calls(scope)
        assert len(calls) == 12
        assert all(c.number_valid and c.number_e164.startswith("+") for c in calls)
        names = {c["name"] for c in SPECS[p.name]["correspondents"]}
        assert any(c.caller_name in names for c in calls)
        assert all(c.started_utc <= NOW for c in calls)
        tasks = board_store.cards(scope)
        assert 3 <= len(tasks) <= 6
        local_today = timezones.in_zone(NOW, p.timezone).date()
        due_days = [timezones.in_zone(t.due_utc, p.timezone).date() for t in tasks if t.due_utc]
        today_count += due_days.count(local_today)
        tomorrow_count += due_days.count(local_today + timedelta(days=1))
    assert today_count >= 3 and tomorrow_count >= 3
    assert {row["principal"] for row in demo.today(NOW)} == {p.name for p in demo.principals()}


def test_every_principal_has_a_fortnight_of_time_of_every_kind_and_no_two_entries_overlap(demo: Store) -> None:
    from assistant import timekeeping
    from assistant.domain import TimeSource
    from assistant.store import time as time_store

    everyone = []
    for p in demo.principals():
        scope = demo.scope(p.id)
        entries = time_store.entries(scope, NOW - timedelta(days=15), NOW + timedelta(days=1))
        assert {e.source for e in entries} == set(TimeSource), p.name
        assert all(e.end_utc is not None and e.end_utc <= NOW for e in entries)
        days = {timezones.in_zone(e.start_utc, p.timezone).date() for e in entries}
        worked = {timezones.in_zone(e.start_utc, p.timezone).date() for e in entries if e.source != TimeSource.CALL}
        assert len(days) >= 8 and all(day.isoweekday() in p.business_hours.days for day in worked), p.name
        subjects = {f"thread:{t.id}": t.subject for t in mail_store.threads(scope, limit=10_000)}
        calls = {f"call:{c.id}": c for c in call_store.recent_calls(scope)}
        for e in entries:  # what each entry was about is the principal's own, as it was called
            if e.item.startswith("thread:"):
                assert e.item_title == subjects[e.item]
            if e.source == TimeSource.CALL:
                assert calls[e.item].duration_s == e.seconds and e.item_title.startswith("Call ")
        billing = time_store.billing(scope)
        assert billing.rate is not None and billing.currency == SPECS[p.name]["billing"]["currency"]
        assert timekeeping.timesheet(demo, p.id, (NOW - timedelta(days=15)).date(), NOW.date()).amount
        everyone += entries
    assert {time_store.billing(demo.scope(p.id)).currency for p in demo.principals()} == {"USD", "JPY", "NGN"}
    everyone.sort(key=lambda e: e.start_utc)
    for earlier, later in zip(everyone, everyone[1:], strict=False):  # one assistant, one thing at a time
        assert earlier.end_utc is not None and earlier.end_utc <= later.start_utc, (earlier, later)


def test_every_open_card_with_a_due_time_has_its_reminder(demo: Store) -> None:
    from assistant import reminders
    from assistant.board.service import reminder_link

    for p in demo.principals():
        cards = [c for c in board_store.cards(demo.scope(p.id)) if c.due_utc and c.remind and c.done_utc is None]
        assert len(cards) >= 3
        pending = {(r.link, r.due_utc) for r in reminders.pending(demo, p.id) if r.kind == "task"}
        assert {(reminder_link(c.id), c.due_utc) for c in cards} <= pending, p.name


def test_no_message_of_one_principal_is_visible_through_another(demo: Store) -> None:
    by_name = scopes(demo)
    for name, scope in by_name.items():
        own_accounts = {a.id for a in demo.accounts(scope.principal_id)}
        own = all_messages(scope)
        assert {m.account_id for m in own} == own_accounts
        for other_name, other in by_name.items():
            if other_name == name:
                continue
            for m in own[:20]:
                with pytest.raises(NotFound):
                    mail_store.message(other, m.id)
                assert mail_store.thread_messages(other, m.thread_id) == []
                assert mail_store.message_by_header_id(other, m.message_id_header) is None
    for word, owner in (("Brightline", "Dana Whitfield"), ("Kamakura", "Kenji Sato"), ("Lekki", "Adaeze Okafor")):
        for name, scope in by_name.items():
            found = mail_store.search_messages(scope, word)
            assert bool(found) == (name == owner), (word, name)
            assert all(m.principal_id == scope.principal_id for m in found)


def test_a_word_of_a_demo_subject_is_found(demo: Store) -> None:
    dana = scopes(demo)["Dana Whitfield"]
    found = mail_store.search_messages(dana, "engagement")
    assert found and all("engagement" in (m.subject + m.snippet).lower() for m in found[:5])
    assert all(m.principal_id == dana.principal_id for m in found)
    assert mail_store.search_messages(dana, "subject:invoice has:attachment")
    adaeze = scopes(demo)["Adaeze Okafor"]
    assert mail_store.search_messages(adaeze, "Adébáyọ̀")
    # unicode61 does not split runs of CJK text, so a Japanese subject is found by a whole run between punctuation.
    assert mail_store.search_messages(scopes(demo)["Kenji Sato"], "構造計算書の送付について")


def test_every_demo_source_file_syncs_without_a_warning(demo_dir: Path) -> None:
    assert [r.getMessage() for r in BUILD_WARNINGS.records] == []


def test_refuses_a_folder_that_is_not_a_demo(tmp_path: Path) -> None:
    real = tmp_path / "real"
    store = Store(real)
    store.add_principal(Principal("Real Client", "Europe/Dublin", ["c@example.com"]))
    store.close()
    before = sorted(p.name for p in real.iterdir())
    with pytest.raises(UserError, match="not a demo workspace"):
        build_demo(real, now=NOW)
    assert sorted(p.name for p in real.iterdir()) == before
    store = Store(real, create=False)
    assert [p.name for p in store.principals()] == ["Real Client"]
    store.close()

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("keep me")
    with pytest.raises(UserError):
        build_demo(notes, now=NOW)
    assert (notes / "todo.txt").read_text() == "keep me"


def test_new_mail_arrives_with_next_sync_and_rebuild_replaces_everything(tmp_path: Path) -> None:
    workspace = tmp_path / "w"
    build_demo(workspace, now=NOW)
    store = Store(workspace, create=False)
    counts = {p.name: mail_store.message_count(store.scope(p.id)) for p in store.principals()}
    dana = store.principal_by_name("Dana Whitfield")
    [account] = store.accounts(dana.id)

    msg = EmailMessage()
    msg["From"] = "Marcus Bell <mbell@harlowgroup.example>"
    msg["To"] = dana.primary_address
    msg["Subject"] = "Zeppelin hangar lease — urgent signature"
    msg["Date"] = format_datetime(NOW)
    msg["Message-ID"] = make_msgid(domain="harlowgroup.example")
    msg.set_content("Please sign today.")
    mailbox.Maildir(account.settings["maildir"], create=False).add(msg)

    reports = sync_all(store)
    assert all(r.ok for r in reports)
    assert sum(r.mail["added"] for r in reports) == 1
    scope = store.scope(dana.id)
    assert mail_store.message_count(scope) == counts["Dana Whitfield"] + 1
    [arrived] = mail_store.search_messages(scope, "zeppelin")
    assert not arrived.is_read
    assert mail_store.search_messages(store.scope(store.principal_by_name("Kenji Sato").id), "zeppelin") == []
    store.close()

    build_demo(workspace, now=NOW)
    store = Store(workspace, create=False)
    assert {p.name: mail_store.message_count(store.scope(p.id)) for p in store.principals()} == counts
    assert len(store.accounts()) == 3
    assert mail_store.search_messages(store.scope(store.principal_by_name("Dana Whitfield").id), "zeppelin") == []
    assert (workspace / MARKER).is_file()
    store.close()


def test_sources_are_deterministic(tmp_path: Path) -> None:
    first = write_demo_sources(tmp_path / "a", now=NOW)
    second = write_demo_sources(tmp_path / "b", now=NOW)
    assert [s.message_count for s in first] == [s.message_count for s in second]
    compare = filecmp.dircmp(tmp_path / "a", tmp_path / "b")

    def identical(cmp: filecmp.dircmp) -> bool:
        _, mismatch, errors = filecmp.cmpfiles(cmp.left, cmp.right, cmp.common_files, shallow=False)
        return not (cmp.left_only or cmp.right_only or mismatch or errors) and all(
            identical(sub) for sub in cmp.subdirs.values()
        )

    assert identical(compare)


def test_default_now_makes_the_demo_look_current(tmp_path: Path) -> None:
    real_now = timezones.now_utc()
    sources = write_demo_sources(tmp_path / "s", now=real_now)
    newest = max(
        Path(f).stat().st_mtime for s in sources for f in (s.maildir / "cur").iterdir()
    )
    assert real_now - timedelta(days=1) <= datetime.fromtimestamp(newest, UTC) <= real_now
