"""A principal's contacts."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Contact:
    principal_id: int
    name: str
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)  # E.164 where valid
    source: str = ""
    id: int = 0  # 0 until the store gives it one
@dataclass
class RemoteContact:
    """A contact as the provider holds it: phones as typed there (the store normalises them to E.164)."""

    remote_id: str
    name: str = ""
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
