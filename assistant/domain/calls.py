"""Calls, logged or imported."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class CallDirection(str, enum.Enum):
    INCOMING = "in"
    OUTGOING = "out"
    MISSED = "missed"
    VOICEMAIL = "voicemail"


@dataclass
class Call:
    principal_id: int
    direction: CallDirection
    number_raw: str
    started_utc: datetime
    duration_s: int = 0
    number_e164: str = ""
    number_valid: bool = False
    caller_name: str = ""
    outcome: str = ""
    notes: str = ""
    source: str = "manual"
    source_key: str = ""  # stable key from an import, so re-imports add nothing twice
    id: int = 0  # 0 until the store gives it one
