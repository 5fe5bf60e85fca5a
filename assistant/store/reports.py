"""Report templates and the reports made: the SQL under :mod:`assistant.reports`, which checks a template's rules
(:func:`assistant.reports.templates.save_template`) and makes each report once (:func:`assistant.reports.schedule`)."""
from __future__ import annotations

from datetime import date, time
from typing import TYPE_CHECKING

from assistant.core import timezones
from assistant.core.timezones import to_epoch
from assistant.domain import ReportKind, ReportTemplate
from assistant.store.changes import Area

if TYPE_CHECKING:
    from assistant.store import PrincipalScope


def _time(text: str) -> time | None:
    return time.fromisoformat(text) if text else None


def template(scope: PrincipalScope) -> ReportTemplate:
    """The principal's template (the defaults until one is saved)."""
    r = scope.db.execute("SELECT * FROM report_templates WHERE principal_id=?", (scope.principal_id,)).fetchone()
    if r is None:
        return ReportTemplate()
    return ReportTemplate(
        sections=tuple(s for s in r["sections"].split(",") if s), greeting=r["greeting"], sign_off=r["sign_off"],
        signed=r["signed"], date_locale=r["date_locale"], show_time=bool(r["show_time"]), eod_at=_time(r["eod_at"]),
        weekly_at=_time(r["weekly_at"]),
    )


def write_template(scope: PrincipalScope, t: ReportTemplate) -> None:
    """Store a template already checked by the reports feature."""
    with scope.store.transaction():
        scope.store.changed(Area.PRINCIPALS, scope.principal_id)
        scope.db.execute(
            "INSERT INTO report_templates(principal_id, sections, greeting, sign_off, signed, date_locale, show_time,"
            " eod_at, weekly_at) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(principal_id) DO UPDATE SET"
            " sections=excluded.sections, greeting=excluded.greeting, sign_off=excluded.sign_off,"
            " signed=excluded.signed, date_locale=excluded.date_locale, show_time=excluded.show_time,"
            " eod_at=excluded.eod_at, weekly_at=excluded.weekly_at",
            (scope.principal_id, ",".join(t.sections), t.greeting, t.sign_off, t.signed, t.date_locale,
             int(t.show_time), f"{t.eod_at:%H:%M}" if t.eod_at else "", f"{t.weekly_at:%H:%M}" if t.weekly_at else ""),
        )


def made(scope: PrincipalScope, kind: ReportKind, period: date) -> bool:
    """Whether the report of ``kind`` for ``period`` was made (or tried and failed) already."""
    return scope.db.execute(
        "SELECT 1 FROM reports_made WHERE principal_id=? AND kind=? AND period=?",
        (scope.principal_id, kind.value, period.isoformat()),
    ).fetchone() is not None


def claim(scope: PrincipalScope, kind: ReportKind, period: date, draft_id: int = 0, error: str = "") -> bool:
    """Record that the report of ``kind`` for ``period`` was made (its draft) or failed (why); False when it was
    recorded before, in which case the caller's transaction must not keep a second report."""
    with scope.store.transaction():
        cur = scope.db.execute(
            "INSERT OR IGNORE INTO reports_made(principal_id, kind, period, draft_id, error, at_utc)"
            " VALUES (?,?,?,?,?,?)",
            (scope.principal_id, kind.value, period.isoformat(), draft_id, error, to_epoch(timezones.now_utc())),
        )
    return cur.rowcount > 0


def report_draft_ids(scope: PrincipalScope) -> set[int]:
    """The drafts that are the principal's reports (a report does not list the reports before it)."""
    rows = scope.db.execute("SELECT draft_id FROM reports_made WHERE principal_id=? AND draft_id != 0",
                            (scope.principal_id,))
    return {r["draft_id"] for r in rows}
