"""Messages, threads, folders, addresses and attachments."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Address:
    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


@dataclass
class Attachment:
    filename: str
    content_type: str
    size: int
    content_id: str = ""
    part_id: str = ""  # where to find it again: MIME part path, or the provider's attachment id


@dataclass
class Folder:
    account_id: int
    remote_id: str
    name: str
    role: str = ""  # inbox, sent, drafts, trash, archive, spam, or "" for a user folder/label
    id: int = 0  # 0 until the store gives it one
@dataclass
class Message:
    """One message as the store keeps it. ``raw`` is the RFC 5322 source when we have it."""

    principal_id: int
    account_id: int
    remote_id: str
    subject: str
    sender: Address | None
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    date_utc: datetime | None = None
    message_id_header: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)  # remote folder/label ids
    is_read: bool = False
    is_flagged: bool = False
    snippet: str = ""
    body_text: str = ""
    body_html: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    size: int = 0
    thread_id: int | None = None
    remote_thread_id: str = ""
    parse_error: str = ""
    id: int = 0  # 0 until the store gives it one
    @property
    def has_attachments(self) -> bool:
        return bool(self.attachments)


@dataclass
class Thread:
    principal_id: int
    subject: str
    last_date_utc: datetime | None
    message_count: int
    unread_count: int
    has_attachments: bool
    is_flagged: bool
    participants: list[str] = field(default_factory=list)
    snippet: str = ""
    id: int = 0  # 0 until the store gives it one
