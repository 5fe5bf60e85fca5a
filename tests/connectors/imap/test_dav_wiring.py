"""The IMAP connector's calendar half is DavCalendars: its calendar pages and event ops reach the real Radicale."""
from __future__ import annotations

from assistant.connectors.imap import ImapConnector
from assistant.domain import Account, OutboxEntry, Principal
from tests.connectors.imap.radicale_server import (
    CALENDAR,
    PASSWORD,
    USER,
    RadicaleServer,
    event_ics,
    radicale,  # noqa: F401 - the fixture
)


def test_the_imap_connector_delegates_calendars_to_caldav(radicale: RadicaleServer, workspace):  # noqa: F811
    radicale.make_calendar()
    href = radicale.put(CALENDAR, "a.ics", event_ics("a@other", "Board call"))
    principal = workspace.add_principal(Principal("Dana Whitfield", "Europe/Dublin", ["dana@example.org"]))
    account = workspace.add_account(Account(principal.id, "imap", "dana@example.org", {
        "username": USER, "imap_host": "127.0.0.1", "caldav_url": radicale.url}))
    connector = ImapConnector(account, credentials=PASSWORD)
    try:
        pages = list(connector.calendar_changes(None))
        assert [e.summary for p in pages for e in p.upserted] == ["Board call"]
        assert pages[-1].full and pages[-1].seen == [href]
        entry = OutboxEntry(principal.id, account.id, "event-create",
                            {"ics": event_ics("k1@assistant", "Made in the app")}, "k1", id=1)
        assert connector.apply(entry) == {"remote_id": f"/{USER}/{CALENDAR}/k1@assistant.ics"}
        assert "SUMMARY:Made in the app" in radicale.get(f"/{USER}/{CALENDAR}/k1@assistant.ics")[0]
    finally:
        connector.close()
