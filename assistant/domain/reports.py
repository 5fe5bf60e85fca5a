"""What a principal's reports look like, and when they are made."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from enum import StrEnum


class ReportKind(StrEnum):
    EOD = "eod"  # the end-of-day report, for one of the principal's days
    WEEKLY = "weekly"  # the weekly summary, for one of their weeks (its Monday names it)


#: the sections a report can have, in the order it shows them; the time spent is ``show_time``
SECTIONS: tuple[str, ...] = ("mail", "approvals", "calls", "done", "due", "meetings")
DEFAULT_GREETING = "Hi {first},"
DEFAULT_SIGN_OFF = "Best,"


@dataclass
class ReportTemplate:
    """One principal's template. ``greeting`` may say ``{first}`` or ``{name}``; ``date_locale`` is a CLDR locale
    (``en_GB``, ``de``, ``ja``; '' = English); ``signed`` '' = the assistant's own full name. ``eod_at`` and
    ``weekly_at`` are wall-clock times in the principal's zone (None: made on demand only); the end-of-day report is
    made on each of their working days, the weekly summary on the last working day of their week."""

    sections: tuple[str, ...] = SECTIONS
    greeting: str = DEFAULT_GREETING
    sign_off: str = DEFAULT_SIGN_OFF
    signed: str = ""
    date_locale: str = ""
    show_time: bool = True
    eod_at: time | None = None
    weekly_at: time | None = None
