"""The shared connector contract against a real Dovecot (IMAP) and Postfix (SMTP submission) on 127.0.0.1."""
from __future__ import annotations

import pytest

from tests.connectors.contract import ConnectorContract
from tests.connectors.imap.imap_handle import DovecotHandle, dovecot, imap_registered, servers  # noqa: F401


class TestImapContract(ConnectorContract):
    @pytest.fixture
    def server(self, dovecot: DovecotHandle) -> DovecotHandle:  # noqa: F811
        return dovecot
