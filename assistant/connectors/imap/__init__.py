"""Any provider over the open protocols: IMAP and SMTP for mail, CalDAV and CardDAV for calendars and contacts."""
from assistant.connectors.imap.connector import ImapConnector

__all__ = ["ImapConnector"]
