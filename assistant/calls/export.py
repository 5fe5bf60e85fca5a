"""Calls as rows: the JSON the command line prints and the CSV that the Calls tab and ``assistant call export`` write."""
from __future__ import annotations

import csv
from typing import Any

from assistant.core import timezones
from assistant.core.phones import classify
from assistant.domain import Call

EXPORT_COLUMNS = ["id", "started_utc", "started_local", "direction", "number_as_typed", "number_e164", "number_kind",
                  "caller_name", "duration_s", "outcome", "notes", "source"]


def call_json(call: Call, zone: str) -> dict[str, Any]:
    return {
        "id": call.id,
        "direction": call.direction.value,
        "number": call.number_raw,
        "number_e164": call.number_e164 or None,
        "number_kind": classify(call.number_raw, call.number_e164),
        "caller_name": call.caller_name,
        "started_utc": timezones.iso_utc(call.started_utc),
        "started_local": timezones.iso_local(call.started_utc, zone),
        "started_assistant": timezones.iso_local(call.started_utc, timezones.assistant_zone_name()),
        "duration_s": call.duration_s,
        "outcome": call.outcome,
        "notes": call.notes,
        "source": call.source,
    }


def write_csv(handle: Any, calls: list[Call], zone: str) -> None:
    writer = csv.DictWriter(handle, EXPORT_COLUMNS)
    writer.writeheader()
    for c in calls:
        r = call_json(c, zone)
        writer.writerow({
            "id": c.id, "started_utc": r["started_utc"], "started_local": r["started_local"], "direction": r["direction"],
            "number_as_typed": c.number_raw, "number_e164": c.number_e164, "number_kind": r["number_kind"],
            "caller_name": c.caller_name, "duration_s": c.duration_s, "outcome": c.outcome, "notes": c.notes,
            "source": c.source,
        })
