"""A reply the principal may have to approve."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from assistant.domain.mail import Address


class DraftState(StrEnum):
    """Where a draft is in its life (``assistant.approvals.lifecycle``). The values are what the store keeps."""

    DRAFT = "draft"
    AWAITING_APPROVAL = "awaiting-approval"
    APPROVED = "approved"  # only while there is nothing to do yet (e.g. a send was undone)
    REJECTED = "rejected"
    REVISED = "revised"  # changed after it was submitted: needs approval again
    SCHEDULED = "scheduled"
    NEEDS_CONFIRMATION = "needs-confirmation"  # the app's send time passed while it was closed
    SENDING = "sending"  # in the outbox, within the undo window until it goes
    FAILED = "failed"  # the provider refused its send or its approval request: retry, edit or delete it
    SENT = "sent"
    SENT_BY_PRINCIPAL = "sent-by-principal"
    WITHDRAWN = "withdrawn"


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
    state: DraftState = DraftState.DRAFT
    created_utc: datetime | None = None
    updated_utc: datetime | None = None
    id: int = 0  # 0 until the store gives it one
    version: int = 1
    content_hash: str = ""
    approved_hash: str = ""  # the content hash the principal approved; an edit since then needs approval again
    approval: str = ""  # per-draft override of the principal's ApprovalPolicy ("" = the principal's)
    comment: str = ""  # the principal's last comment (a rejection's reason)
    send_at_utc: datetime | None = None
    send_where: str = ""  # "server" (provider sends later) or "app"
