"""The connector interface: the one contract every mail/calendar provider implements.

A connector is built for one :class:`~assistant.domain.Account` and speaks to that account's provider only. It knows
nothing of the store, the UI or other accounts: the sync engine (``assistant.sync.engine``) asks it for changes since a
cursor and hands it outbox entries to apply. Connectors never import Qt.

Terms
-----
``cursor``
    An opaque string the connector gives with every page of changes and gets back on the next sync: a Gmail history id,
    a Graph delta link, a Calendar sync token, or the local connector's content-hash state. ``None`` means "never synced":
    the connector then enumerates everything (a *full* listing).
Pages
    ``mail_changes``, ``calendar_changes`` and ``contacts_changes`` yield pages. The engine applies each page and saves its cursor in one
    transaction, so a crash between pages loses nothing and repeats nothing (upserts are idempotent by remote id).
    ``cursor`` on a page may be ``None`` for all but the last page, meaning "not resumable here yet": a crash then redoes
    the listing, which upserts the same items again harmlessly.
Full listings
    A page with ``full=True`` belongs to an enumeration of everything on the server; ``seen`` lists every remote id it
    covered. After the last page the engine removes local items whose ids were not seen, except that an enumeration
    that sees nothing while the store holds items raises :class:`~assistant.core.errors.SourceLooksEmpty` instead of wiping.
Outbox entries
    ``apply(entry)`` performs one persisted change (ops below). It must be idempotent by ``entry.idempotency_key``: the
    engine retries an entry that was in flight when the process died, and the connector must recognise that it already
    happened (Gmail/local: a Message-ID derived from the key; Graph: the ``transactionId``/singleValueExtendedProperty).
    It returns a result dict (e.g. ``{"remote_id": ...}``) or raises :class:`~assistant.core.errors.TransientError` (retry
    with backoff; ``retry_after`` honoured), :class:`~assistant.core.errors.PermanentError` (shown, not retried) or
    :class:`~assistant.core.errors.NeedsSignIn`.

Ops and payloads
    ``set-flags``  {"remote_id", "is_read"?: bool, "is_flagged"?: bool}
    ``move``       {"remote_id", "to": folder remote id or role ("archive", "trash", "inbox")}
    ``send``       {"raw": base64 RFC 5322 with its Message-ID set, "message_id_header", "remote_thread_id"?}
    ``save-draft`` {"raw", "message_id_header", "draft_remote_id"?}  -> {"draft_remote_id"}
    ``delete-draft`` {"draft_remote_id"}
    ``event-create`` / ``event-update`` {"ics": VCALENDAR text with one UID, "remote_id"?}  -> {"remote_id"}
    ``event-delete`` {"remote_id"}
"""
from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from assistant.domain import Account, AccountStatus, CalendarEvent, Folder, Message, OutboxEntry, RemoteContact

ON_DEMAND_SUFFIX = ":on-demand"  # the part id of a connector's placeholder ("it has attachments, not fetched yet")

class Capability(str, enum.Enum):
    MAIL = "mail"
    CALENDAR = "calendar"
    CONTACTS = "contacts"
    SEND = "send"
    DRAFTS = "drafts"  # real drafts in the provider's Drafts folder
    LABELS = "labels"  # a message can be in several "folders" at once (Gmail); otherwise folders are exclusive
    SERVER_SCHEDULED_SEND = "server-scheduled-send"  # the provider sends later even with the laptop closed
    ATTACHMENTS_ON_DEMAND = "attachments-on-demand"
    # the provider stamps every message it receives with Authentication-Results (SPF/DKIM/DMARC) above anything the
    # message carried: the topmost one is the provider's word on who sent it (approvals/origin.py)
    VOUCHES_FOR_SENDERS = "vouches-for-senders"
    # anyone can mail the mailbox, through a server the app knows nothing of (any IMAP server): a stamp on a message
    # cannot be told from one its sender wrote, so only a DKIM signature, or a copy in the account's Sent folder,
    # proves who sent it (approvals/origin.py)
    SIGNATURES_REQUIRED = "signatures-required"


@dataclass
class MailPage:
    folders: list[Folder] = field(default_factory=list)
    upserted: list[tuple[Message, bytes | None]] = field(default_factory=list)  # (message, raw source if fetched)
    removed: list[str] = field(default_factory=list)
    cursor: str | None = None
    full: bool = False
    seen: list[str] = field(default_factory=list)


@dataclass
class CalendarPage:
    upserted: list[CalendarEvent] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    cursor: str | None = None
    full: bool = False
    seen: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one line per item the connector could not read


@dataclass
class ContactsPage:
    upserted: list[RemoteContact] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    cursor: str | None = None
    full: bool = False
    seen: list[str] = field(default_factory=list)


class AccountStore(Protocol):
    """What signing in needs of the workspace's store (``assistant.store.Store``, which connectors do not import)."""

    def principal(self, principal_id: int) -> object: ...
    def accounts(self, principal_id: int | None = None) -> list[Account]: ...
    def account(self, account_id: int) -> Account: ...
    def add_account(self, a: Account) -> Account: ...
    def update_account_settings(self, account_id: int, settings: dict[str, Any]) -> None: ...
    def set_account_status(self, account_id: int, status: AccountStatus) -> None: ...


class Connector(ABC):
    """One provider account. Subclasses set ``kind``, ``display_name`` and ``capabilities``."""

    kind: ClassVar[str]
    display_name: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]] = frozenset()

    def __init__(self, account: Account, *, credentials: Any = None, **options: Any):
        self.account = account
        self.credentials = credentials
        self.options = options
        self.requests_made = 0  # every remote call counts; reported by `assistant sync --json`

    @property
    def account_id(self) -> int:
        """The account's id: a connector is made for an account the store holds, which has one."""
        return self.account.id

    def has(self, capability: Capability) -> bool:
        return capability in self.capabilities

    @abstractmethod
    def mail_changes(self, cursor: str | None) -> Iterator[MailPage]:
        """Pages of mail changes since ``cursor`` (``None``: full listing)."""

    def calendar_changes(self, cursor: str | None) -> Iterator[CalendarPage]:
        """Pages of calendar changes since ``cursor``; connectors without ``CALENDAR`` yield nothing."""
        return iter(())

    def contacts_changes(self, cursor: str | None) -> Iterator[ContactsPage]:
        """Pages of the principal's address-book changes since ``cursor``; connectors without ``CONTACTS`` yield
        nothing. The engine asks only when the account's ``contacts`` setting is on (its scope is asked for then)."""
        return iter(())

    @abstractmethod
    def apply(self, entry: OutboxEntry) -> dict[str, Any]:
        """Perform one outbox entry, idempotently by ``entry.idempotency_key``."""

    def fetch_raw(self, remote_id: str) -> bytes:
        """The RFC 5322 source of one message (attachments on demand)."""
        raise NotImplementedError

    def resume(self, cursors: dict[str, str | None]) -> None:  # noqa: B027 - optional: most keep no state of writes
        """The cursors saved after the last pull, per resource ("calendar", "contacts"), handed over before the outbox is
        pushed: a connector whose writes need what its last pull saw (CalDAV's ETags for ``If-Match``) reads it here."""

    def health(self) -> str:
        """One line for ``assistant doctor``: reachable, signed in, or what is wrong."""
        return "ok"

    def close(self) -> None:  # noqa: B027 - optional for connectors that hold nothing open
        """Release sockets and files."""
