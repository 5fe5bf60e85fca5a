"""The scheduled reports without Qt: when each is due in the principal's zone (across their DST changes), made once per
principal and period (also after a restart), as ordinary drafts under the approval policy."""
from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from assistant.approvals import drafts
from assistant.domain import Account, DraftState, Principal, ReportKind, ReportTemplate
from assistant.reports import schedule, templates
from assistant.store import Store
from assistant.store import audit as audit_store


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    store = Store(tmp_path / "ws")
    ann = store.add_principal(Principal("Ann Lee", "America/New_York", ["ann@example.com"]))
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    store.add_account(Account(ann.id, "local", "ann@example.com", settings={"maildir": str(maildir)}))
    templates.save_template(store, ann.id, ReportTemplate(eod_at=time(17, 30), weekly_at=time(18, 0), signed="Sam"))
    ken = store.add_principal(Principal("Ken Sato", "Asia/Tokyo", ["ken@example.jp"], region="JP"))  # no account
    templates.save_template(store, ken.id, ReportTemplate(eod_at=time(18, 0)))
    store.close()
    return tmp_path / "ws"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def reports_of(store: Store, principal_id: int) -> list[tuple[str, DraftState]]:
    return [(d.subject, d.state) for d in drafts.list_drafts(store, principal_id)
            if d.subject.startswith(("End of day", "Your week"))]


@pytest.mark.parametrize(("now", "expected"), [
    # Friday 6 March 2026 after 17:30 EST (22:30 UTC): next is Monday 9 March 17:30 EDT, which is 21:30 UTC
    (utc(2026, 3, 6, 23, 30), utc(2026, 3, 9, 21, 30)),
    # Friday 30 October 2026 after 17:30 EDT (21:30 UTC): next is Monday 2 November 17:30 EST, 22:30 UTC
    (utc(2026, 10, 30, 22, 30), utc(2026, 11, 2, 22, 30)),
    (utc(2026, 3, 9, 21, 0), utc(2026, 3, 9, 21, 30)),  # the same day, before the time
])
def test_the_report_is_due_at_the_same_wall_clock_time_across_dst(ws, now, expected):
    store = Store(ws)
    ann = store.principal_by_name("Ann Lee")
    templates.save_template(store, ann.id, ReportTemplate(eod_at=time(17, 30)))
    ken = store.principal_by_name("Ken Sato")
    templates.save_template(store, ken.id, ReportTemplate())  # on demand only
    try:
        assert schedule.next_due(store, now) == expected
    finally:
        store.close()


def test_each_report_is_made_once_also_after_a_restart_and_never_late(ws):
    store = Store(ws)
    ann = store.principal_by_name("Ann Lee")

    def anns(made: list[schedule.Made]) -> list[schedule.Made]:
        return [m for m in made if m.principal_id == ann.id]

    monday_before = utc(2026, 12, 7, 22, 29)  # 17:29 in New York
    assert anns(schedule.make_due(store, monday_before)) == []
    made = schedule.make_due(store, utc(2026, 12, 7, 22, 31))
    ann_made = [m for m in made if m.principal_id == ann.id]
    assert [(m.kind, m.period, m.state) for m in ann_made] == [(ReportKind.EOD, date(2026, 12, 7), "awaiting-approval")]
    assert anns(schedule.make_due(store, utc(2026, 12, 7, 23, 0))) == []
    store.close()
    store = Store(ws)  # the app started again later that evening
    assert anns(schedule.make_due(store, utc(2026, 12, 8, 2, 0))) == []  # 21:00 in New York, still the 7th there
    assert reports_of(store, ann.id) == [("End of day — Mon, Dec 7, 2026", DraftState.AWAITING_APPROVAL)]
    # Tuesday: the app was closed all evening, and opened on Wednesday morning: Tuesday's report is not made late
    assert anns(schedule.make_due(store, utc(2026, 12, 9, 13, 0))) == []
    # Friday: the end-of-day report at 17:30 and the weekly summary at 18:00, each once
    assert [m.kind for m in schedule.make_due(store, utc(2026, 12, 11, 23, 5)) if m.principal_id == ann.id] == \
        [ReportKind.EOD, ReportKind.WEEKLY]
    assert anns(schedule.make_due(store, utc(2026, 12, 11, 23, 10))) == []
    assert sorted(s for s, _ in reports_of(store, ann.id)) == ["End of day — Fri, Dec 11, 2026",
                                                                "End of day — Mon, Dec 7, 2026",
                                                                "Your week — Mon, Dec 7 to Fri, Dec 11, 2026"]
    weekly = next(d for d in drafts.list_drafts(store, ann.id) if d.subject.startswith("Your week"))
    assert "End of day" not in weekly.body_text  # the reports waiting for approval are not news in the next one
    actions = [e.action for e in audit_store.entries(store.scope(ann.id))]
    assert actions.count("draft-created") == actions.count("approval-requested") == 3  # audited like any draft
    store.close()


def test_a_report_that_cannot_be_made_is_told_once(ws):
    store = Store(ws)
    ken = store.principal_by_name("Ken Sato")
    made = [m for m in schedule.make_due(store, utc(2026, 12, 7, 9, 5)) if m.principal_id == ken.id]  # 18:05 Tokyo
    assert [(m.draft_id, m.state) for m in made] == [(0, "failed")]
    assert "no account" in made[0].error
    assert schedule.make_due(store, utc(2026, 12, 7, 9, 30)) == []
    store.close()


def test_a_second_process_cannot_make_the_same_report(ws, monkeypatch):
    first, second = Store(ws), Store(ws)
    now = utc(2026, 12, 7, 22, 31)
    try:
        schedule.make_due(first, now)
        # the second process looked before the first made it: the claim, in the draft's transaction, still refuses
        monkeypatch.setattr(schedule.report_store, "made", lambda *_args: False)
        assert [m for m in schedule.make_due(second, now) if m.kind == ReportKind.EOD and m.draft_id] == []
        ann = first.principal_by_name("Ann Lee")
        assert len(reports_of(first, ann.id)) == 1
    finally:
        first.close()
        second.close()
