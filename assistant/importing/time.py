"""Time entries from the CSV an offboarding writes (``time.csv``: start and end in UTC, source, billable, note, item),
through the one write path of entries (``store.time.add_entry``), which refuses an entry overlapping one already there
— so importing a file twice adds nothing the second time."""
from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from assistant.core.errors import InvalidInput, UserError
from assistant.domain import TimeEntry, TimeSource
from assistant.importing.base import ImportReport
from assistant.store import Store
from assistant.store import time as time_store

COLUMNS = ("start_utc", "end_utc", "source", "billable", "note")


def parse_iso_utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} names no zone")
    return moment.astimezone(UTC)


def is_time_csv(head: bytes) -> bool:
    first = head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].decode("utf-8", "replace").strip().split(",")
    return all(c in first for c in COLUMNS) and "item_title" in first


def import_time(store: Store, principal_id: int, path: Path) -> ImportReport:
    scope = store.scope(principal_id)
    report = ImportReport(kind="time:csv")
    with path.open(newline="", encoding="utf-8") as f:
        for line, row in enumerate(csv.DictReader(f), 2):
            item = f"{path.name} line {line}"
            try:
                start = parse_iso_utc(row["start_utc"])
                end = parse_iso_utc(row["end_utc"]) if row.get("end_utc") else None
                source = TimeSource(row.get("source") or "manual")
            except (KeyError, ValueError) as exc:
                report.rejected.append((item, f"cannot read it: {exc}"))
                continue
            entry = TimeEntry(principal_id, start, end, source=source, billable=row.get("billable", "1") != "0",
                              note=row.get("note", ""), item=row.get("item", ""), item_title=row.get("item_title", ""))
            try:
                time_store.add_entry(scope, entry, actor="import")
            except InvalidInput as exc:
                if "overlap" in str(exc):
                    report.skipped += 1
                else:
                    report.rejected.append((item, str(exc)))
                continue
            except UserError as exc:
                report.rejected.append((item, str(exc)))
                continue
            report.imported += 1
    return report
