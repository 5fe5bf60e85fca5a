"""Date-time editors hold the wall-clock time of a zone (the principal's): read back as the UTC instant it means."""
from __future__ import annotations

from datetime import datetime

from PySide6.QtWidgets import QDateTimeEdit

from assistant.core import timezones


def edit_utc(edit: QDateTimeEdit, zone: str) -> datetime:
    """The instant the editor's date and time (to the minute) name in ``zone``; DST gaps and folds as
    :func:`timezones.local_to_utc` reads them."""
    value = edit.dateTime()
    naive = datetime(value.date().year(), value.date().month(), value.date().day(), value.time().hour(),
                     value.time().minute())
    return timezones.local_to_utc(naive, zone)
