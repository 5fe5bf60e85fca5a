"""Contacts from Google (People API) and Outlook (Graph contacts delta), through the real client code against the
fakes: asked for only when turned on, synced incrementally, an expired token listing everything again without
duplicates, looked up by number or address, and never seen by another principal."""
from __future__ import annotations

import urllib.parse

import pytest

from assistant.cli.main import build_parser
from assistant.connectors.gmail import GmailConnector
from assistant.connectors.gmail.auth import CONTACTS_SCOPE
from assistant.connectors.gmail.auth import sign_in as google_sign_in
from assistant.connectors.outlook import OutlookConnector
from assistant.connectors.outlook.auth import sign_in as outlook_sign_in
from assistant.core.credentials import CredentialStore
from assistant.domain import Contact, Principal, RemoteContact
from assistant.store import contacts as contact_store
from assistant.sync.engine import sync_account
from tests.connectors.test_gmail_auth import Browser
from tests.connectors.test_outlook import CLIENT_ID, approver
from tests.fakes.google import FakeGoogle
from tests.fakes.microsoft import FakeMicrosoft, make_self_signed_cert


@pytest.fixture
def google(monkeypatch):
    fake = FakeGoogle(email_address="ada@example.com").start()
    monkeypatch.setenv("ASSISTANT_GOOGLE_API_ROOT", fake.root)
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the fake's token endpoint is plain http on 127.0.0.1
    yield fake
    fake.stop()


@pytest.fixture
def microsoft(tmp_path, monkeypatch):
    cert, key = make_self_signed_cert(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with FakeMicrosoft(cert, key, user="dana@example.com") as ms:
        monkeypatch.setenv("ASSISTANT_MS_AUTHORITY", ms.authority)
        monkeypatch.setenv("ASSISTANT_GRAPH_ROOT", ms.graph_root)
        yield ms


@pytest.fixture
def ada(workspace):
    return workspace.add_principal(Principal("Ada", "Europe/London", ["ada@example.com"], region="GB"))


@pytest.fixture
def dana(workspace):
    return workspace.add_principal(Principal("Dana", "America/New_York", ["dana@example.com"], region="US"))


def google_account(workspace, principal, google, tmp_path, *, contacts):
    browser = Browser()
    account = google_sign_in(workspace, principal.id, google.write_client_secrets(tmp_path / "client_secret.json"),
                             open_browser=False, print_fn=browser.printed.put, timeout_seconds=30, contacts=contacts)
    browser.join(30)
    scopes = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(browser.url).query))["scope"].split()
    return account, scopes


def gmail_sync(workspace, account):
    connector = GmailConnector(workspace.account(account.id), sleep=lambda s: None)
    try:
        report = sync_account(workspace, account.id, connector)
    finally:
        connector.close()
    assert report.errors == [], report.errors
    return report


def outlook_sync(workspace, account):
    connector = OutlookConnector(workspace.account(account.id), credentials=CredentialStore(), sleep=lambda s: None)
    try:
        report = sync_account(workspace, account.id, connector)
    finally:
        connector.close()
    assert report.errors == [], report.errors
    return report


def by_name(scope) -> dict[str, Contact]:
    return {c.name: c for c in contact_store.contacts(scope)}


# -- Google -----------------------------------------------------------------------------------------------------------
def test_google_contacts_off_asks_no_contacts_scope_and_makes_no_contacts_request(workspace, google, ada, tmp_path):
    google.add_person("Grace Hopper", ["grace@example.com"], ["020 7946 0018"])
    account, scopes = google_account(workspace, ada, google, tmp_path, contacts=False)
    assert CONTACTS_SCOPE not in scopes and account.settings["contacts"] is False

    report = gmail_sync(workspace, account)
    assert google.calls(path="people") == 0
    assert report.contacts == {"added": 0, "updated": 0, "removed": 0}
    assert "contacts" in report.to_json() and contact_store.contacts(workspace.scope(ada.id)) == []


def test_google_contacts_sync_then_changes_arrive_by_sync_token(workspace, google, ada, tmp_path):
    grace = google.add_person("Grace Hopper", ["Grace@Example.COM"], ["020 7946 0018", "ext 12"])
    alan = google.add_person("Alan Turing", ["alan@example.com"], ["+44 161 496 0000"])
    account, scopes = google_account(workspace, ada, google, tmp_path, contacts=True)
    assert CONTACTS_SCOPE in scopes and account.settings["contacts"] is True

    report = gmail_sync(workspace, account)
    assert report.contacts == {"added": 2, "updated": 0, "removed": 0}
    scope = workspace.scope(ada.id)
    contacts = by_name(scope)
    assert contacts["Grace Hopper"].emails == ["grace@example.com"]
    assert contacts["Grace Hopper"].phones == ["+442079460018", "ext 12"]  # an unparseable number is kept as typed
    assert contacts["Grace Hopper"].source == "gmail"
    # Found by a number typed in national format, and by an address in any case.
    assert contact_store.contact_for_phone(scope, "020 7946 0018").name == "Grace Hopper"
    assert contact_store.contact_for_phone(scope, "+44 20 7946 0018").name == "Grace Hopper"
    assert contact_store.contact_for_email(scope, "GRACE@example.com").name == "Grace Hopper"
    assert contact_store.contact_for_phone(scope, "020 7946 0999") is None

    google.update_person(grace, phones=["020 7946 0999"])
    google.delete_person(alan)
    google.reset_log()
    report = gmail_sync(workspace, account)
    assert report.contacts == {"added": 0, "updated": 1, "removed": 1}
    (listing,) = [q for m, p, q, _b in google.requests if p.endswith("/connections")]
    assert listing["syncToken"]  # an incremental pass, not a full listing
    assert list(by_name(scope)) == ["Grace Hopper"]
    assert contact_store.contact_for_phone(scope, "020 7946 0999").name == "Grace Hopper"
    assert contact_store.contact_for_phone(scope, "020 7946 0018") is None

    report = gmail_sync(workspace, account)  # nothing changed: nothing counted
    assert report.contacts == {"added": 0, "updated": 0, "removed": 0}


@pytest.mark.parametrize("status", [400, 410])
def test_google_expired_sync_token_lists_everything_again_without_duplicates(workspace, google, ada, tmp_path, status):
    google.add_person("Grace Hopper", ["grace@example.com"], ["020 7946 0018"])
    alan = google.add_person("Alan Turing", ["alan@example.com"])
    account, _ = google_account(workspace, ada, google, tmp_path, contacts=True)
    gmail_sync(workspace, account)

    google.expire_contact_sync_tokens(status)
    google.add_person("Mary Somerville", ["mary@example.com"])
    google.delete_person(alan)
    google.reset_log()
    report = gmail_sync(workspace, account)
    assert report.contacts == {"added": 1, "updated": 0, "removed": 1}
    listings = [q for m, p, q, _b in google.requests if p.endswith("/connections")]
    assert [bool(q.get("syncToken")) for q in listings] == [True, False]
    assert sorted(by_name(workspace.scope(ada.id))) == ["Grace Hopper", "Mary Somerville"]
    assert len(contact_store.contacts(workspace.scope(ada.id))) == 2

    google.reset_log()
    gmail_sync(workspace, account)  # the full listing's token works again
    assert [bool(q.get("syncToken")) for m, p, q, _b in google.requests if p.endswith("/connections")] == [True]


def test_google_contacts_refused_is_a_contacts_error_and_mail_still_syncs(workspace, google, ada, tmp_path):
    from tests.connectors.contract import make_raw

    account, _ = google_account(workspace, ada, google, tmp_path, contacts=True)
    google.add_message(make_raw(1))
    google.inject(403, "/connections$", body={"error": {"code": 403, "message": "Request had insufficient scopes.",
                                                        "status": "PERMISSION_DENIED"}})
    connector = GmailConnector(workspace.account(account.id), sleep=lambda s: None)
    report = sync_account(workspace, account.id, connector)
    connector.close()
    assert report.mail["added"] == 1
    assert len(report.errors) == 1 and report.errors[0].startswith("contacts: ") and "insufficient" in report.errors[0]


# -- Outlook ----------------------------------------------------------------------------------------------------------
def test_outlook_contacts_off_asks_no_contacts_scope_and_makes_no_contacts_request(workspace, microsoft, dana):
    microsoft.add_contact(displayName="Grace Hopper", mobilePhone="(202) 555-0143")
    account = outlook_sign_in(workspace, dana.id, CLIENT_ID, device_code=True, print_fn=approver(microsoft))
    assert microsoft.requested_scopes and "Contacts.Read" not in " ".join(microsoft.requested_scopes)
    report = outlook_sync(workspace, account)
    assert microsoft.requests_to("/contacts") == []
    assert report.contacts == {"added": 0, "updated": 0, "removed": 0}
    assert contact_store.contacts(workspace.scope(dana.id)) == []


def test_outlook_contacts_delta_then_changes_then_expired_delta_token(workspace, microsoft, dana):
    grace = microsoft.add_contact(displayName="Grace Hopper", mobilePhone="(202) 555-0143",
                                  emailAddresses=[{"name": "Grace", "address": "Grace@Example.com"}])
    alan = microsoft.add_contact(displayName="Alan Turing", businessPhones=["+1 212 555 0199"],
                                 emailAddresses=[{"name": "Alan", "address": "alan@example.com"}])
    account = outlook_sign_in(workspace, dana.id, CLIENT_ID, device_code=True, print_fn=approver(microsoft),
                              contacts=True)
    assert "Contacts.Read" in microsoft.requested_scopes[-1].split()
    assert account.settings["contacts"] is True

    report = outlook_sync(workspace, account)
    assert report.contacts == {"added": 2, "updated": 0, "removed": 0}
    scope = workspace.scope(dana.id)
    assert by_name(scope)["Grace Hopper"].phones == ["+12025550143"]
    assert by_name(scope)["Grace Hopper"].emails == ["grace@example.com"]
    assert contact_store.contact_for_phone(scope, "202-555-0143").name == "Grace Hopper"
    assert contact_store.contact_for_email(scope, "ALAN@example.com").name == "Alan Turing"
    assert workspace.get_cursor(account.id, "contacts").startswith(microsoft.graph_root + "/me/contacts/delta?")

    microsoft.update_contact(grace, displayName="Grace B. Hopper")
    microsoft.delete_contact(alan)
    report = outlook_sync(workspace, account)
    assert report.contacts == {"added": 0, "updated": 1, "removed": 1}
    assert "$deltatoken" in microsoft.requests_to("/contacts/delta")[-1]["query"]
    assert list(by_name(scope)) == ["Grace B. Hopper"]

    microsoft.expire_delta_tokens()
    microsoft.add_contact(displayName="Mary Somerville", homePhones=["(212) 555-0100"])
    report = outlook_sync(workspace, account)
    assert report.contacts == {"added": 1, "updated": 0, "removed": 0}
    contact_requests = microsoft.requests_to("/contacts/delta")
    assert "$deltatoken" in contact_requests[-2]["query"] and "$deltatoken" not in contact_requests[-1]["query"]
    assert sorted(by_name(scope)) == ["Grace B. Hopper", "Mary Somerville"]


# -- the store --------------------------------------------------------------------------------------------------------
def test_one_principals_contacts_are_never_anothers(workspace, google, ada, dana, tmp_path):
    google.add_person("Grace Hopper", ["grace@example.com"], ["020 7946 0018"])
    account, _ = google_account(workspace, ada, google, tmp_path, contacts=True)
    gmail_sync(workspace, account)
    ada_scope, dana_scope = workspace.scope(ada.id), workspace.scope(dana.id)
    assert contact_store.contact_for_phone(ada_scope, "+442079460018").name == "Grace Hopper"
    assert contact_store.contact_for_phone(dana_scope, "+442079460018") is None
    assert contact_store.contact_for_email(dana_scope, "grace@example.com") is None
    assert contact_store.contacts(dana_scope) == []
    assert contact_store.contact_remote_ids(dana_scope, account.id) == set()
    assert contact_store.remove_contacts(dana_scope, account.id, contact_store.contact_remote_ids(ada_scope, account.id)) == 0
    with pytest.raises(Exception, match="no account"):
        contact_store.upsert_contact(dana_scope, account.id, RemoteContact("people/c1", "Intruder"))
    assert len(contact_store.contacts(ada_scope)) == 1


def test_manual_contacts_stay_and_are_found_first(workspace, ada):
    scope = workspace.scope(ada.id)
    contact_store.add_contact(scope, Contact(ada.id, "Grace (typed)", ["grace@example.com"], ["+442079460018"], source="manual"))
    assert contact_store.contact_for_phone(scope, "020 7946 0018").name == "Grace (typed)"
    assert contact_store.contact_for_email(scope, "grace@example.com").name == "Grace (typed)"
    assert contact_store.contact_for_phone(scope, "") is None and contact_store.contact_for_email(scope, " ") is None


def test_cli_contacts_flag_is_passed_through():
    parser = build_parser()
    gmail = parser.parse_args(["account", "add", "gmail", "--principal", "Ada", "--client-secrets", "c.json",
                               "--contacts"])
    outlook = parser.parse_args(["account", "add", "outlook", "--principal", "Ada", "--client-id", "x"])
    assert gmail.contacts is True and outlook.contacts is False


def test_synced_contacts_name_callers_and_turning_contacts_on_later_asks_again(workspace, google, ada, tmp_path):
    from assistant.calls.matching import ContactMatcher

    google.add_person("Grace Hopper", ["grace@example.com"], ["020 7946 0018"])
    account, scopes = google_account(workspace, ada, google, tmp_path, contacts=False)
    gmail_sync(workspace, account)
    assert ContactMatcher(workspace.scope(ada.id), "GB", search_mail=False).match("020 7946 0018").name == ""

    # The same command again with contacts on: the same account, the wider scope, and the contacts come in.
    again, scopes = google_account(workspace, ada, google, tmp_path, contacts=True)
    assert again.id == account.id and CONTACTS_SCOPE in scopes and again.settings["contacts"] is True
    assert gmail_sync(workspace, again).contacts["added"] == 1
    match = ContactMatcher(workspace.scope(ada.id), "GB", search_mail=False).match("+44 20 7946 0018")
    assert (match.name, match.emails, match.source) == ("Grace Hopper", ["grace@example.com"], "contact")
