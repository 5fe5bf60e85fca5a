"""A reply the principal may have to approve."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from assistant.domain.mail import Address


@dataclass
class Draft:
    principal_id: int
    account_id: int
    to: list[Address]
    subject: str
    body_text: str
    cc: list[Address] = field(default_factory=list)
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)  # local file paths
    state: str = "draft"
    created_utc: datetime | None = None
    updated_utc: datetime | None = None
    id: int | None = None
    version: int = 1
    content_hash: str = ""
    approved_hash: str = ""  # the content hash the principal approved; an edit since then needs approval again
    approval: str = ""  # per-draft override of the principal's ApprovalPolicy ("" = the principal's)
    comment: str = ""  # the principal's last comment (a rejection's reason)
    send_at_utc: datetime | None = None
    send_where: str = ""  # "server" (provider sends later) or "app"
