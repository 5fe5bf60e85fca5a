"""The approval channels through a real IMAP account: the e-mailed request and the principal's reply through Postfix
into Dovecot, the drafts-folder channel through the principal's \\Drafts, and what an approval releases sent once."""
from __future__ import annotations

import base64
import email
import email.policy
import json
import smtplib
import ssl
from email.message import EmailMessage

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from assistant.approvals import drafts, lifecycle, origin
from assistant.connectors.imap.errors import fingerprint
from assistant.domain import Account, ApprovalPolicy, Principal
from assistant.store import drafts as sql
from assistant.sync.engine import sync_account
from tests.connectors.imap.imap_handle import ADDRESS, DovecotHandle, dovecot, imap_registered, servers  # noqa: F401
from tests.connectors.imap.mailserver import USERS
from tests.connectors.imap.test_imap_signin import run

ZOE = "zoe@example.com"


@pytest.fixture
def principal(workspace) -> Principal:
    return workspace.add_principal(Principal("Dana Whitfield", "Europe/Dublin", [ADDRESS],
                                             approval_policy=ApprovalPolicy.ALWAYS))


@pytest.fixture
def account(workspace, principal, dovecot: DovecotHandle) -> Account:  # noqa: F811
    return workspace.add_account(Account(principal.id, "imap", ADDRESS, dovecot.settings()))


def sync(workspace, dovecot, account):  # noqa: F811
    report = sync_account(workspace, account.id, dovecot.connector(workspace.account(account.id)))
    assert report.errors == [], report.errors
    return report


def new_draft(workspace, principal, account):
    return drafts.save_draft(workspace, principal.id, account_id=account.id, to=[ZOE], subject="Lease renewal",
                             body_text="Dear Zoë,\nThe new terms are fine.\nDana")


def test_principal_sends_our_copy_from_their_drafts_folder(workspace, principal, account, dovecot):  # noqa: F811
    d = new_draft(workspace, principal, account)
    assert drafts.submit_draft(workspace, principal.id, d.id, channels=("drafts-folder",)) == "awaiting-approval"
    sync(workspace, dovecot, account)
    assert len(dovecot.message_ids("Drafts")) == 1
    # the principal opens the draft in their own mail app and sends it: it leaves Drafts and lands in Sent
    with dovecot.client() as client:
        client.select_folder("Drafts")
        client.move(client.search("ALL"), "Sent")
    sync(workspace, dovecot, account)
    assert drafts.get_draft(workspace, principal.id, d.id).state == "sent-by-principal"


def test_approval_elsewhere_removes_our_copy_and_sends_once(workspace, principal, account, dovecot):  # noqa: F811
    d = new_draft(workspace, principal, account)
    drafts.submit_draft(workspace, principal.id, d.id, channels=("drafts-folder",))
    sync(workspace, dovecot, account)
    assert len(dovecot.message_ids("Drafts")) == 1
    sql.save_settings(workspace.scope(principal.id), sql.ApprovalSettings(principal.id, undo_seconds=0))
    assert lifecycle.approve_in_person(workspace, principal.id, d.id) == "sending"
    sync(workspace, dovecot, account)
    sync(workspace, dovecot, account)
    assert dovecot.message_ids("Drafts") == []
    assert drafts.get_draft(workspace, principal.id, d.id).state == "sent"
    sent = dovecot.sent_message_ids()
    assert len(sent) == 1
    assert dovecot.wait_for("INBOX", sent[0], user=ZOE).count(sent[0]) == 1


# -- channel 1: the request by e-mail, the answer by reply, through Postfix into Dovecot -----------------------------
NAME = "Dana Whitfield"


def _key() -> tuple[bytes, bytes]:
    """A DKIM key pair: the private key dkimpy signs with, and the TXT record a domain publishes for it."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    public = private.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


@pytest.fixture(scope="module")
def keys() -> dict[str, tuple[bytes, bytes]]:
    """example.com's key (its mail server signs what the principal sends) and a forger's, for evil.example."""
    return {"example.com": _key(), "evil.example": _key()}


@pytest.fixture
def dns(keys, monkeypatch) -> list[bytes]:
    """The DNS the DKIM check asks: each domain publishes its own key under selector "s1"."""
    records = {f"s1._domainkey.{domain}.".encode(): key[1] for domain, key in keys.items()}
    asked: list[bytes] = []

    def txt(name: bytes, timeout: int = 5) -> bytes | None:
        asked.append(name)
        return records.get(name)

    monkeypatch.setattr(origin, "dns_txt", txt)
    return asked


def mailbox(dovecot, folder: str, user: str = ADDRESS) -> list[EmailMessage]:  # noqa: F811
    with dovecot.client(user) as client:
        client.select_folder(folder, readonly=True)
        uids = client.search("ALL")
        data = client.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
    return [email.message_from_bytes(item[b"BODY[]"], policy=email.policy.default)
            for item in data.values()]


def reply(request: EmailMessage, answer: str, *, sender: str = f"{NAME} <{ADDRESS}>",
          message_id: str = "<answer-1@phone.example.com>", extra: tuple[tuple[str, str], ...] = ()) -> bytes:
    """The principal's answer as their mail client writes it: the request quoted below the answer."""
    msg = EmailMessage()
    for name, value in extra:
        msg[name] = value
    msg["From"], msg["To"], msg["Subject"] = sender, str(request["From"]), f"Re: {request['Subject']}"
    msg["Date"], msg["Message-ID"] = email.utils.formatdate(localtime=False), message_id
    msg["In-Reply-To"] = msg["References"] = str(request["Message-ID"])
    quoted = "\n".join(f"> {line}".rstrip() for line in request.get_content().splitlines())
    msg.set_content(f"{answer}\n\nOn Mon, 7 Dec 2026 at 10:00, {NAME} <{ADDRESS}> wrote:\n{quoted}\n")
    return msg.as_bytes(policy=email.policy.SMTP)


def signed(raw: bytes, key: tuple[bytes, bytes], domain: str) -> bytes:
    """What the sender's outgoing server does: a DKIM-Signature for ``domain`` on top (dkimpy, selector s1)."""
    return dkim.sign(raw, b"s1", domain.encode(), key[0],
                     include_headers=[b"from", b"sender", b"to", b"subject", b"date", b"message-id"]) + raw


def deliver(servers, raw: bytes, mail_from: str = ADDRESS) -> None:  # noqa: F811
    """Mail from the internet: SMTP into Postfix on 127.0.0.1, which hands it to Dovecot over LMTP."""
    with smtplib.SMTP("127.0.0.1", servers.postfix.smtp_port, timeout=30) as smtp:
        smtp.sendmail(mail_from, [ADDRESS], raw)


def asked_by_email(workspace, principal, account, dovecot) -> tuple[int, EmailMessage]:  # noqa: F811
    """A draft submitted with the e-mail channel, and its request as it arrived in the principal's Inbox."""
    sql.save_settings(workspace.scope(principal.id), sql.ApprovalSettings(principal.id, undo_seconds=0))
    d = new_draft(workspace, principal, account)
    assert drafts.submit_draft(workspace, principal.id, d.id, channels=("email",)) == "awaiting-approval"
    sync(workspace, dovecot, account)
    (request,) = sql.requests_for(workspace.scope(principal.id), d.id)
    ids = dovecot.wait_for("INBOX", request.message_id_header)
    assert ids.count(request.message_id_header) == 1
    (arrived,) = [m for m in mailbox(dovecot, "INBOX") if m["Message-ID"] == request.message_id_header]
    assert arrived["From"].addresses[0].addr_spec == ADDRESS  # from the principal's own address, to it
    assert f"[APR-{request.reference}]" in arrived["Subject"]
    return d.id, arrived


def subjects(dovecot, folder: str, user: str = ADDRESS) -> list[tuple[str, str]]:  # noqa: F811
    return [(str(m["Message-ID"]), str(m["Subject"]).strip()) for m in mailbox(dovecot, folder, user)]


def test_the_principal_approves_by_a_signed_reply_and_the_draft_goes_once(workspace, principal, account, dovecot,  # noqa: F811
                                                                         servers, keys, dns):  # noqa: F811
    draft_id, request = asked_by_email(workspace, principal, account, dovecot)
    answer = signed(reply(request, "Approved, thanks!"), keys["example.com"], "example.com")
    deliver(servers, answer)
    dovecot.wait_for("INBOX", "<answer-1@phone.example.com>")
    report = sync(workspace, dovecot, account)
    sync(workspace, dovecot, account)

    assert drafts.get_draft(workspace, principal.id, draft_id).state == "sent"
    assert b"s1._domainkey.example.com." in dns
    assert sql.flags(workspace.scope(principal.id)) == [], report.warnings
    sent = [(mid, s) for mid, s in subjects(dovecot, "Sent") if s == "Lease renewal"]
    assert len(sent) == 1
    assert dovecot.wait_for("INBOX", sent[0][0], user=ZOE).count(sent[0][0]) == 1
    # the principal is told, by a reply to their answer; by then the request has long arrived, and only once
    (asked,) = sql.requests_for(workspace.scope(principal.id), draft_id)
    (confirmation,) = [mid for mid, s in subjects(dovecot, "Sent")
                       if " ".join(s.split()) == f"[APR-{asked.reference}] Approved: Lease renewal"]
    inbox = dovecot.wait_for("INBOX", confirmation)
    assert inbox.count(str(request["Message-ID"])) == 1
    assert inbox.count(confirmation) == 1
    assert [s for _mid, s in subjects(dovecot, "INBOX", user=ZOE)] == ["Lease renewal"]


FORGED_PASS = ("mail.example.com; dkim=pass header.d=example.com header.s=s1; spf=pass smtp.mailfrom=example.com;"
               " dmarc=pass header.from=example.com")


@pytest.mark.parametrize(("forgery", "reason"), [
    ("unsigned", "it has no DKIM signature"),
    ("a forged Authentication-Results", "it has no DKIM signature"),
    ("signed by the forger's domain", "its DKIM signature is for evil.example, not example.com"),
    ("signed with a key example.com does not publish", "its DKIM signature does not verify"),
    ("a stranger's From", "not from the principal's own address"),
    ("a Sender on the principal's behalf", "sent by mallory@evil.example on the principal's behalf"),
])
def test_a_forged_reply_is_flagged_and_sends_nothing(workspace, principal, account, dovecot, servers, keys, dns,  # noqa: F811
                                                    forgery, reason):
    draft_id, request = asked_by_email(workspace, principal, account, dovecot)
    mallory = keys["evil.example"]
    answer = {
        "unsigned": lambda: reply(request, "Approved"),
        "a forged Authentication-Results": lambda: reply(
            request, "Approved", extra=(("Authentication-Results", FORGED_PASS),)),
        "signed by the forger's domain": lambda: signed(reply(request, "Approved"), mallory, "evil.example"),
        "signed with a key example.com does not publish": lambda: signed(reply(request, "Approved"), mallory,
                                                                         "example.com"),
        "a stranger's From": lambda: signed(reply(request, "Approved", sender="Mallory <mallory@evil.example>"),
                                            mallory, "evil.example"),
        "a Sender on the principal's behalf": lambda: signed(
            reply(request, "Approved", extra=(("Sender", "mallory@evil.example"),)), mallory, "evil.example"),
    }[forgery]()
    deliver(servers, answer, mail_from="mallory@evil.example")
    dovecot.wait_for("INBOX", "<answer-1@phone.example.com>")
    report = sync(workspace, dovecot, account)
    sync(workspace, dovecot, account)

    assert drafts.get_draft(workspace, principal.id, draft_id).state == "awaiting-approval"
    (flag,) = sql.flags(workspace.scope(principal.id))
    assert reason in flag.reason
    assert any(reason in w for w in report.warnings), report.warnings
    assert [s for _mid, s in subjects(dovecot, "Sent") if s == "Lease renewal"] == []
    assert subjects(dovecot, "INBOX", user=ZOE) == []


def test_a_reply_from_the_principals_own_mail_app_counts_by_its_copy_in_sent(workspace, principal, account,  # noqa: F811
                                                                            dovecot, servers, dns):  # noqa: F811
    """A domain that signs nothing: the principal's mail app sends the answer through their own account (submission,
    signed in) and keeps a copy in Sent. Only the account itself can put it there, so that copy is the proof."""
    draft_id, request = asked_by_email(workspace, principal, account, dovecot)
    answer = reply(request, "approve")
    with smtplib.SMTP("127.0.0.1", servers.postfix.submission_port, timeout=30) as smtp:
        smtp.starttls(context=servers.client_context())
        smtp.login(ADDRESS, USERS[ADDRESS])
        smtp.sendmail(ADDRESS, [ADDRESS], answer)
    with dovecot.client() as client:
        client.append("Sent", answer, flags=[b"\\Seen"])
    dovecot.wait_for("INBOX", "<answer-1@phone.example.com>")
    sync(workspace, dovecot, account)
    sync(workspace, dovecot, account)
    assert drafts.get_draft(workspace, principal.id, draft_id).state == "sent"
    assert sql.flags(workspace.scope(principal.id)) == []
    assert [s for _mid, s in subjects(dovecot, "INBOX", user=ZOE)] == ["Lease renewal"]


def test_a_forged_reply_reusing_the_message_id_of_mail_in_sent_is_flagged(workspace, principal, account,  # noqa: F811
                                                                         dovecot, servers, dns):  # noqa: F811
    """Mallory got an e-mail from the principal once: its Message-ID, on a forged answer, names a copy in Sent that
    is not the answer."""
    earlier = EmailMessage()
    earlier["From"], earlier["To"], earlier["Subject"] = ADDRESS, "mallory@evil.example", "Lunch on Friday?"
    earlier["Message-ID"] = "<lunch-1@phone.example.com>"
    earlier.set_content("Are you free?\n")
    with dovecot.client() as client:
        client.append("Sent", earlier.as_bytes(policy=email.policy.SMTP), flags=[b"\\Seen"])
    draft_id, request = asked_by_email(workspace, principal, account, dovecot)
    deliver(servers, reply(request, "Approved", message_id="<lunch-1@phone.example.com>"),
            mail_from="mallory@evil.example")
    dovecot.wait_for("INBOX", "<lunch-1@phone.example.com>")
    sync(workspace, dovecot, account)
    sync(workspace, dovecot, account)
    assert drafts.get_draft(workspace, principal.id, draft_id).state == "awaiting-approval"
    (flag,) = sql.flags(workspace.scope(principal.id))
    assert "Message-ID" in flag.reason
    assert subjects(dovecot, "INBOX", user=ZOE) == []


def test_through_the_cli_a_forged_answer_is_shown_and_the_principals_own_approves(tmp_path, capsys, monkeypatch,
                                                                                 dovecot, servers, keys, dns,  # noqa: F811
                                                                                 memory_keyring):
    """The user's path: an IMAP account added with `account add imap`, the draft submitted, `sync` runs."""
    ws = tmp_path / "ws"

    def cli(*args: str, stdin: str = "") -> dict:
        code, out, err = run(capsys, monkeypatch, ws, "--json", *args, stdin=stdin)
        assert code == 0, out + err
        return json.loads(out)  # type: ignore[no-any-return]

    cli("principal", "add", NAME, "--timezone", "Europe/Dublin", "--email", ADDRESS)
    cli("principal", "set", NAME, "--approval", "always", "--undo-seconds", "0")
    certificate = fingerprint(ssl.PEM_cert_to_DER_cert(servers.dovecot.cert.read_text()))
    cli("account", "add", "imap", "--principal", NAME, "--imap-host", f"127.0.0.1:{servers.dovecot.imap_port}",
        "--smtp-host", f"127.0.0.1:{servers.postfix.submission_port}", "--security", "starttls",
        "--trust-fingerprint", certificate, "--user", ADDRESS, stdin=USERS[ADDRESS] + "\n")
    draft_id = cli("draft", "new", "--principal", NAME, "--to", ZOE, "--subject", "Lease renewal",
                   "--body", "Dear Zoë,\nThe new terms are fine.\nDana")["draft"]["id"]
    assert cli("draft", "submit", str(draft_id))["state"] == "awaiting-approval"
    cli("sync")
    (request,) = [m for m in mailbox(dovecot, "INBOX") if str(m["Subject"]).startswith("Approval needed")]

    deliver(servers, reply(request, "Approved", message_id="<forged@evil.example>"), mail_from="mallory@evil.example")
    dovecot.wait_for("INBOX", "<forged@evil.example>")
    warnings = cli("sync")["accounts"][0]["warnings"]
    reason = "it has no DKIM signature to prove the principal sent it"
    assert any(reason in w for w in warnings), warnings
    assert cli("draft", "show", str(draft_id))["draft"]["state"] == "awaiting-approval"
    (flag,) = cli("approvals", "list")["flagged"]
    assert reason in flag["reason"]

    deliver(servers, signed(reply(request, "approve"), keys["example.com"], "example.com"))
    dovecot.wait_for("INBOX", "<answer-1@phone.example.com>")
    cli("sync")
    cli("sync")
    assert cli("draft", "show", str(draft_id))["draft"]["state"] == "sent"
    (sent,) = [mid for mid, s in subjects(dovecot, "Sent") if s == "Lease renewal"]
    assert dovecot.wait_for("INBOX", sent, user=ZOE).count(sent) == 1
