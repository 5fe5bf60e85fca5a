"""The provider's side of an IMAP account on the test Dovecot: another client (a phone, webmail) changing the mailbox
over IMAP, and mail arriving through real delivery (LMTP into Dovecot, or SMTP into Postfix)."""
from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from typing import Any

import pytest
from imapclient import IMAPClient

from assistant import connectors
from assistant.connectors.imap import ImapConnector
from assistant.domain import Account
from tests.connectors.contract import ServerHandle
from tests.connectors.imap.mailserver import USERS, MailServers, mail_servers

ADDRESS = "principal@example.com"


@pytest.fixture(scope="module")
def servers() -> Iterator[MailServers]:
    with mail_servers() as running:
        yield running


@pytest.fixture(autouse=True)
def imap_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The entry point as pyproject.toml declares it, for an environment installed before it was added."""
    points = dict(connectors._entry_points())
    if "imap" not in points:
        points["imap"] = EntryPoint("imap", "assistant.connectors.imap:ImapConnector", connectors.GROUP)
        monkeypatch.setattr(connectors, "_entry_points", lambda: points)


class DovecotHandle(ServerHandle):
    kind = "imap"
    address = ADDRESS

    def __init__(self, servers: MailServers, **connector_options: Any):
        self.servers = servers
        self.connector_options = connector_options
        self.made: list[ImapConnector] = []

    def settings(self) -> dict[str, Any]:
        return {"username": ADDRESS, "imap_host": "127.0.0.1", "imap_port": self.servers.dovecot.imap_port,
                "imap_security": "starttls", "smtp_host": "127.0.0.1",
                "smtp_port": self.servers.postfix.submission_port, "smtp_security": "starttls"}

    def connector(self, account: Account) -> ImapConnector:
        made = ImapConnector(account, credentials=USERS[ADDRESS], ssl_context=self.servers.client_context(),
                             **self.connector_options)
        self.made.append(made)
        return made

    @contextlib.contextmanager
    def client(self, user: str = ADDRESS) -> Iterator[IMAPClient]:
        client = IMAPClient("127.0.0.1", port=self.servers.dovecot.imap_port, ssl=False, timeout=30)
        client.starttls(self.servers.client_context())
        client.login(user, USERS[user])
        try:
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def reset(self) -> None:
        """Every folder of every test user emptied: each test starts from a clean mailbox on the running server."""
        for user in USERS:
            with self.client(user) as client:
                for flags, _d, name in client.list_folders():
                    if b"\\Noselect" in flags:
                        continue
                    if name not in ("INBOX", "Sent", "Drafts", "Trash", "Archive", "Junk"):
                        client.delete_folder(name)
                        continue
                    client.select_folder(name)
                    uids = client.search("ALL")
                    if uids:
                        client.delete_messages(uids)
                        client.expunge()

    def add_message(self, raw: bytes) -> None:
        self.servers.dovecot.deliver(ADDRESS, raw)

    def _uids(self, client: IMAPClient, message_id_header: str) -> list[int]:
        return list(client.search(["HEADER", "Message-ID", message_id_header]))

    def remove_message(self, message_id_header: str) -> None:
        with self.client() as client:
            client.select_folder("INBOX")
            uids = self._uids(client, message_id_header)
            client.delete_messages(uids)
            client.expunge()

    def set_flags(self, message_id_header: str, *, read: bool | None = None, flagged: bool | None = None) -> None:
        with self.client() as client:
            client.select_folder("INBOX")
            uids = self._uids(client, message_id_header)
            for value, flag in ((read, b"\\Seen"), (flagged, b"\\Flagged")):
                if value is True:
                    client.add_flags(uids, [flag])
                elif value is False:
                    client.remove_flags(uids, [flag])

    def flags(self, message_id_header: str) -> dict[str, bool]:
        with self.client() as client:
            client.select_folder("INBOX", readonly=True)
            uids = self._uids(client, message_id_header)
            flags = set(client.fetch(uids, ["FLAGS"])[uids[0]][b"FLAGS"])
        return {"read": b"\\Seen" in flags, "flagged": b"\\Flagged" in flags}

    def message_ids(self, folder: str, user: str = ADDRESS) -> list[str]:
        with self.client(user) as client:
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            if not uids:
                return []
            data = client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
        out = []
        for item in data.values():
            header = next(v for k, v in item.items() if k.startswith(b"BODY"))
            out.append(header.decode().partition(":")[2].strip())
        return out

    def sent_message_ids(self) -> list[str]:
        return self.message_ids("Sent")

    def wait_for(self, folder: str, message_id: str, user: str = ADDRESS, timeout: float = 20.0) -> list[str]:
        """The folder's Message-IDs once ``message_id`` is there (delivery through the MTA takes a moment)."""
        deadline = time.monotonic() + timeout
        while True:
            ids = self.message_ids(folder, user)
            if message_id in ids or time.monotonic() > deadline:
                return ids
            time.sleep(0.2)

    def close(self) -> None:
        for made in self.made:
            made.close()


@pytest.fixture
def dovecot(servers: MailServers) -> Iterator[DovecotHandle]:
    handle = DovecotHandle(servers)
    handle.reset()
    yield handle
    handle.close()
