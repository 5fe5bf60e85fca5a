"""Time worked for a principal, and how it is billed."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class TimeSource(StrEnum):
    """Where an entry came from; the values are what the store keeps."""

    AUTO = "auto"  # the window in use for this principal
    TIMER = "timer"  # the manual timer (work done outside the app)
    MANUAL = "manual"  # typed in afterwards
    CALL = "call"  # a logged call's duration


@dataclass
class TimeEntry:
    principal_id: int
    start_utc: datetime
    end_utc: datetime | None  # None while a timer runs
    source: TimeSource = TimeSource.MANUAL
    billable: bool = True
    note: str = ""
    item: str = ""  # what was worked on, as a link: "thread:12", "task:3", "call:7", "event:5"
    item_title: str = ""  # that item's title when the entry was made ("Re: Deed of assignment")
    id: int = 0  # 0 until the store gives it one

    @property
    def seconds(self) -> int:
        return 0 if self.end_utc is None else max(0, int((self.end_utc - self.start_utc).total_seconds()))


ROUNDING_MINUTES = (0, 6, 10, 15)  # 0: exact


@dataclass
class Billing:
    """A principal's billing settings. ``rate`` is per hour in ``currency`` (None: no rate, timesheets without
    amounts); a retainer is ``retainer_minutes`` per ``retainer_per`` ("month" or "week"); time is rounded up to
    ``rounding_min`` (0: exact) per entry or per day."""

    rate: Decimal | None = None
    currency: str = ""
    retainer_minutes: int | None = None
    retainer_per: str = ""  # "month" | "week" | ""
    rounding_min: int = 0
    rounding_per: str = "entry"  # "entry" | "day"
    billable_default: bool = True
