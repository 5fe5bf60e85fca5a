"""Any provider over the open protocols: IMAP and SMTP for mail, CalDAV and CardDAV for calendars and contacts.

``ImapConnector`` is imported when first asked for (the entry point, a test): the command line reads the presets at
start, and a search must not pay for imapclient and ssl."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.connectors.imap.connector import ImapConnector

__all__ = ["ImapConnector"]


def __getattr__(name: str) -> Any:
    if name == "ImapConnector":
        from assistant.connectors.imap.connector import ImapConnector

        return ImapConnector
    raise AttributeError(name)
