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


def test_after_a_restart_an_edit_is_still_conditional_on_what_the_last_sync_saw(radicale: RadicaleServer,  # noqa: F811
                                                                                   workspace):
    """Each pass is a new connector, as after a restart: the engine hands it the saved calendar cursor before the
    outbox is pushed (``Connector.resume``), so the edit goes with the ETag it was based on and a change someone made
    on the server meanwhile — with nothing in it that says it is later — is not overwritten."""
    import socket

    from assistant.store import calendar as calendar_store
    from assistant.sync import actions
    from assistant.sync.engine import sync_account

    with socket.socket() as s:  # a port nothing listens on: the mail half fails, alone, as it may
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    radicale.make_calendar()
    href = radicale.put(CALENDAR, "a.ics", event_ics("a@other", "Board call"))
    principal = workspace.add_principal(Principal("Dana Whitfield", "Europe/Dublin", ["dana@example.org"]))
    account = workspace.add_account(Account(principal.id, "imap", "dana@example.org", {
        "username": USER, "imap_host": "127.0.0.1", "imap_port": closed_port, "imap_security": "plain",
        "caldav_url": radicale.url}))

    def one_pass():
        connector = ImapConnector(workspace.account(account.id), credentials=PASSWORD, timeout=5)
        try:
            return sync_account(workspace, account.id, connector)
        finally:
            connector.close()

    one_pass()
    [event] = calendar_store.events(workspace.scope(principal.id))
    radicale.put(CALENDAR, "a.ics", event_ics("a@other", "Board call (moved by Sam)", "20260310T140000",
                                              "20260310T150000"))
    actions.update_event(workspace, principal.id, event.id, summary="Board call with agenda")
    report = one_pass()
    assert "SUMMARY:Board call (moved by Sam)" in radicale.get(href)[0]
    assert report.outbox["failed"] == 1
