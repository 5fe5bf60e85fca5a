"""A fake Microsoft identity platform + Graph v1.0 mailbox on 127.0.0.1 over HTTPS, for the real msal and the real
Outlook connector. Only what the connector uses, with Outlook's limits (4 concurrent requests, 10,000 per 10 minutes per
mailbox) and switches to inject faults (429 with fractional Retry-After, 503, 401, 410 syncStateNotFound, revoked grant,
a slow answer). ``arrivals`` and ``throttles`` record when each Graph request came in and when each 429/503 with a
``Retry-After`` went out, on ``clock`` (``time.monotonic`` unless a test shares its fake clock).

Usage (see tests/connectors/test_outlook.py)::

    cert, key = make_self_signed_cert(tmp_path)
    with FakeMicrosoft(cert, key) as ms:
        ms.authority  # https://127.0.0.1:PORT/TENANT
        ms.graph_root  # https://127.0.0.1:PORT/v1.0
"""
from __future__ import annotations

import base64
import copy
import datetime as dt
import email.message
import email.utils
import html
import ipaddress
import itertools
import json
import re
import secrets
import ssl
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"
USER_OID = "00000000-0000-0000-66f3-3332eca7ea81"
DEFERRED_SEND_PROP = "SystemTime 0x3FEF"

WELL_KNOWN = {
    "inbox": "Inbox",
    "sentitems": "Sent Items",
    "drafts": "Drafts",
    "deleteditems": "Deleted Items",
    "archive": "Archive",
    "junkemail": "Junk Email",
    "outbox": "Outbox",
}


def make_self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key, written as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = Path(directory) / "fake-ms.pem", Path(directory) / "fake-ms.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _graph_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], Any]:
    return status, {}, {"error": {"code": code, "message": message, "innerError": {"date": _now_iso()}}}


class Fault:
    """An injected answer; ``status`` 0 answers as usual, only ``delay`` seconds late."""

    def __init__(self, status: int, body: Any, headers: dict[str, str], path_contains: str, in_batch: bool,
                 delay: float = 0.0):
        self.status, self.body, self.headers = status, body, headers
        self.path_contains, self.in_batch, self.delay = path_contains, in_batch, delay


class FakeMicrosoft:
    """The server and the mailbox it serves. All state is guarded by one lock; handlers run in threads."""

    max_concurrent = 4
    window_limit = 10_000
    window_seconds = 600

    def __init__(self, cert: Path, key: Path, *, tenant: str = "common", user: str = "principal@contoso.example"):
        self.tenant = tenant
        self.user = user
        self.lock = threading.RLock()
        self.client_ids: set[str] = set()
        # identity
        self.device_codes: dict[str, dict[str, Any]] = {}
        self.auth_codes: dict[str, dict[str, str]] = {}
        self.access_tokens: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.revoked = False
        self.token_expires_in = 3600
        self.token_requests: list[dict[str, str]] = []
        # graph
        self.seq = itertools.count(1)
        self.epoch = 0
        self.folders: dict[str, dict[str, Any]] = {}
        self.folder_seq: dict[str, int] = {}
        self.folder_removals: list[tuple[int, str]] = []
        self.messages: dict[str, dict[str, Any]] = {}
        self.sources: dict[str, bytes] = {}  # the RFC 5322 source of messages delivered whole (add_mime)
        self.message_seq: dict[str, int] = {}
        self.removals: list[tuple[int, str, str]] = []  # (seq, folder id, message id)
        self.events: dict[str, dict[str, Any]] = {}
        self.event_seq: dict[str, int] = {}
        self.event_removals: list[tuple[int, str]] = []
        self.contacts: dict[str, dict[str, Any]] = {}
        self.contact_seq: dict[str, int] = {}
        self.contact_removals: list[tuple[int, str]] = []
        self.requested_scopes: list[str] = []  # the scope of every sign-in started (device code or browser)
        self.skip_pages: dict[str, tuple[list[dict[str, Any]], str]] = {}
        self.sent: list[dict[str, Any]] = []
        self.schedules: list[dict[str, Any]] = []  # what calendar/getSchedule knows of other people's calendars
        self.faults: deque[Fault] = deque()
        # the next answers of the token endpoint, before any other: (status, headers, body)
        self.token_faults: deque[tuple[int, dict[str, str], Any]] = deque()
        self.graph_requests: list[dict[str, Any]] = []  # method, path, query, headers (top-level and $batch items)
        self.clock: Callable[[], float] = time.monotonic
        # Every Graph request at the door ({"n", "at", "method", "path"}) and every 429/503 answer (or $batch item)
        # carrying a Retry-After as it left ({"n", "at", "status", "retry_after", "path"}); "n" orders the two lists
        # together when a fake clock does not move.
        self.arrivals: list[dict[str, Any]] = []
        self.throttles: list[dict[str, Any]] = []
        self.door_seq = itertools.count()
        self.shared_with: set[str] = set()  # addresses under /users/{address} that this mailbox answers to
        self.in_flight = 0
        self.max_in_flight = 0
        self.window: deque[float] = deque()
        for wk, name in WELL_KNOWN.items():
            self.add_folder(name, well_known=wk)

        handler = type("Handler", (_Handler,), {"fake": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert), str(key))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # -- lifecycle ------------------------------------------------------------------------------------------------
    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def authority(self) -> str:
        return f"{self.base}/{self.tenant}"

    @property
    def graph_root(self) -> str:
        return f"{self.base}/v1.0"

    def __enter__(self) -> FakeMicrosoft:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    # -- mailbox setup and server-side changes -------------------------------------------------------------------
    def add_folder(self, name: str, *, well_known: str = "", parent: str = "root") -> str:
        with self.lock:
            folder_id = "AQMkAD" + _b64url(uuid.uuid4().bytes) + "=="
            self.folders[folder_id] = {
                "id": folder_id, "displayName": name, "parentFolderId": parent, "childFolderCount": 0,
                "unreadItemCount": 0, "totalItemCount": 0, "isHidden": False, "_well_known": well_known,
            }
            self.folder_seq[folder_id] = next(self.seq)
            return folder_id

    def delete_folder(self, folder_id: str) -> None:
        """A folder deleted for good, with what was in it (no @removed for its messages, as in Exchange)."""
        with self.lock:
            for message_id in [m["id"] for m in self.messages.values() if m["parentFolderId"] == folder_id]:
                self.messages.pop(message_id)
                self.message_seq.pop(message_id)
            self.folders.pop(folder_id)
            self.folder_seq.pop(folder_id)
            self.folder_removals.append((next(self.seq), folder_id))

    def folder_id(self, well_known: str) -> str:
        for folder in self.folders.values():
            if folder["_well_known"] == well_known:
                return folder["id"]
        raise KeyError(well_known)

    def add_message(self, folder: str = "inbox", **fields: Any) -> str:
        """A message arriving server-side; ``fields`` are Graph message properties (a doc sample body works)."""
        with self.lock:
            folder_id = self.folders[folder]["id"] if folder in self.folders else self.folder_id(folder)
            message_id = fields.pop("id", None) or "AAMkAD" + _b64url(uuid.uuid4().bytes) + "="
            received = fields.pop("receivedDateTime", None) or _now_iso()
            message = {
                "id": message_id,
                "subject": "",
                "bodyPreview": "",
                "receivedDateTime": received,
                "sentDateTime": received,
                "hasAttachments": False,
                "internetMessageId": f"<{uuid.uuid4().hex}@fake.example>",
                "conversationId": "AAQkAD" + _b64url(uuid.uuid4().bytes[:8]),
                "isRead": False,
                "isDraft": False,
                "body": {"contentType": "text", "content": ""},
                "from": {"emailAddress": {"name": "Someone", "address": "someone@example.com"}},
                "toRecipients": [{"emailAddress": {"name": "", "address": self.user}}],
                "ccRecipients": [],
                "bccRecipients": [],
                "flag": {"flagStatus": "notFlagged"},
                "categories": [],
                "singleValueExtendedProperties": [],
            }
            fields = {k: v for k, v in fields.items() if not k.startswith("@")}
            message.update(fields)
            if "sender" in fields and "from" not in fields:
                message["from"] = fields["sender"]
            message.setdefault("sender", message["from"])
            message["id"] = message_id
            message["parentFolderId"] = folder_id
            self._touch_message(message)
            return message_id

    def add_mime(self, raw: bytes, folder: str = "inbox") -> str:
        """A message delivered from its RFC 5322 source, as Exchange would store it."""
        import email.policy

        parsed = email.message_from_bytes(raw, policy=email.policy.default)

        def recipients(header: str) -> list[dict[str, Any]]:
            return [
                {"emailAddress": {"name": name, "address": addr}}
                for name, addr in email.utils.getaddresses([str(parsed.get(header, ""))]) if addr
            ]

        sender = recipients("From")
        html, text = parsed.get_body(("html",)), parsed.get_body(("plain",))
        body = {"contentType": "html", "content": html.get_content()} if html is not None else {
            "contentType": "text", "content": text.get_content() if text is not None else ""}
        date = parsed.get("Date")
        received = (
            email.utils.parsedate_to_datetime(str(date)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            if date else None
        )
        message_id = self.add_message(
            folder,
            subject=str(parsed.get("Subject", "")),
            internetMessageId=str(parsed.get("Message-ID", "")) or f"<{uuid.uuid4().hex}@fake.example>",
            receivedDateTime=received,
            body=body,
            bodyPreview=body["content"][:255],
            hasAttachments=any(True for _ in parsed.iter_attachments()),
            toRecipients=recipients("To"),
            ccRecipients=recipients("Cc"),
            **({"from": sender[0]} if sender else {}),
        )
        with self.lock:
            self.sources[message_id] = raw  # $value gives it back with every header it arrived with
        return message_id

    def find(self, internet_message_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.messages.values() if m["internetMessageId"] == internet_message_id]

    def add_messages_bulk(self, count: int, folder: str = "inbox") -> None:
        with self.lock:
            for i in range(count):
                self.add_message(folder, subject=f"Bulk {i}", body={"contentType": "text", "content": f"body {i}"})

    def update_message(self, message_id: str, **fields: Any) -> None:
        with self.lock:
            self.messages[message_id].update(fields)
            self._touch_message(self.messages[message_id])

    def delete_message(self, message_id: str) -> None:
        with self.lock:
            message = self.messages.pop(message_id)
            self.message_seq.pop(message_id)
            self.removals.append((next(self.seq), message["parentFolderId"], message_id))

    def move_message(self, message_id: str, destination: str) -> None:
        with self.lock:
            message = self.messages[message_id]
            dest = destination if destination in self.folders else self.folder_id(destination)
            self.removals.append((next(self.seq), message["parentFolderId"], message_id))
            message["parentFolderId"] = dest
            self._touch_message(message)

    def _touch_message(self, message: dict[str, Any]) -> None:
        message["lastModifiedDateTime"] = _now_iso()
        message["@odata.etag"] = f'W/"{secrets.token_hex(8)}"'
        self.messages[message["id"]] = message
        self.message_seq[message["id"]] = next(self.seq)

    def messages_in(self, well_known: str) -> list[dict[str, Any]]:
        folder_id = self.folder_id(well_known)
        with self.lock:
            return [m for m in self.messages.values() if m["parentFolderId"] == folder_id]

    def add_event(self, **fields: Any) -> str:
        with self.lock:
            event_id = fields.pop("id", None) or "AAMkADev" + _b64url(uuid.uuid4().bytes) + "="
            event = {
                "id": event_id, "type": "singleInstance", "subject": "", "isAllDay": False,
                "iCalUId": "040000008200E00074C5B7101A82E008" + uuid.uuid4().hex.upper(),
                "body": {"contentType": "text", "content": ""}, "location": {"displayName": ""},
                "isCancelled": False, "seriesMasterId": None, "recurrence": None,
                "reminderMinutesBeforeStart": 15, "isReminderOn": True,
            }
            event.update({k: v for k, v in fields.items() if not k.startswith("@")})
            event["id"] = event_id
            self._touch_event(event)
            return event_id

    def update_event(self, event_id: str, **fields: Any) -> None:
        with self.lock:
            self.events[event_id].update(fields)
            self._touch_event(self.events[event_id])

    def delete_event(self, event_id: str) -> None:
        with self.lock:
            self.events.pop(event_id)
            self.event_seq.pop(event_id)
            self.event_removals.append((next(self.seq), event_id))

    def _touch_event(self, event: dict[str, Any]) -> None:
        event["lastModifiedDateTime"] = _now_iso()
        event["@odata.etag"] = f'W/"{secrets.token_hex(8)}"'
        self.events[event["id"]] = event
        self.event_seq[event["id"]] = next(self.seq)

    def add_contact(self, **fields: Any) -> str:
        """A contact in the mailbox's default contacts folder (Graph's field names); returns its id."""
        with self.lock:
            contact_id = "AAMkADct" + _b64url(uuid.uuid4().bytes) + "="
            contact = {"id": contact_id, "displayName": "", "emailAddresses": [], "businessPhones": [],
                       "homePhones": [], "mobilePhone": None, "companyName": None}
            contact.update(fields)
            contact["id"] = contact_id
            self._touch_contact(contact)
            return contact_id

    def update_contact(self, contact_id: str, **fields: Any) -> None:
        with self.lock:
            self.contacts[contact_id].update(fields)
            self._touch_contact(self.contacts[contact_id])

    def delete_contact(self, contact_id: str) -> None:
        with self.lock:
            self.contacts.pop(contact_id)
            self.contact_seq.pop(contact_id)
            self.contact_removals.append((next(self.seq), contact_id))

    def _touch_contact(self, contact: dict[str, Any]) -> None:
        contact["lastModifiedDateTime"] = _now_iso()
        contact["@odata.etag"] = f'W/"{secrets.token_hex(8)}"'
        self.contacts[contact["id"]] = contact
        self.contact_seq[contact["id"]] = next(self.seq)

    # -- switches --------------------------------------------------------------------------------------------------
    def approve(self, user_code: str) -> None:
        with self.lock:
            for flow in self.device_codes.values():
                if flow["user_code"] == user_code:
                    flow["approved"] = True
                    return
        raise KeyError(user_code)

    def revoke_refresh_tokens(self) -> None:
        """The user changed their password / an admin revoked sessions: every refresh token answers invalid_grant."""
        with self.lock:
            self.revoked = True
            self.refresh_tokens.clear()

    def expire_access_tokens(self) -> None:
        """Every access token issued so far answers 401 InvalidAuthenticationToken."""
        with self.lock:
            self.access_tokens.clear()

    def expire_delta_tokens(self) -> None:
        """Every delta token issued so far answers 410 syncStateNotFound."""
        with self.lock:
            self.epoch += 1

    def fail_next(
        self, status: int, *, count: int = 1, body: Any = None, headers: dict[str, str] | None = None,
        path_contains: str = "", in_batch: bool = False, delay: float = 0.0,
    ) -> None:
        """The next ``count`` Graph requests whose path contains ``path_contains`` answer ``status`` (inside a
        ``$batch`` when ``in_batch``: one item of a batch, the batch itself answering 200), ``delay`` seconds late."""
        if body is None:
            body = {"error": {"code": "ServiceUnavailable" if status >= 500 else "Failure", "message": "injected"}}
        with self.lock:
            for _ in range(count):
                self.faults.append(Fault(status, body, headers or {}, path_contains, in_batch, delay))

    def slow_next(self, seconds: float, *, count: int = 1, path_contains: str = "") -> None:
        """The next ``count`` Graph requests whose path contains ``path_contains`` are answered as usual, ``seconds``
        late (queued with the faults: the first matching entry, fault or slow answer, is used)."""
        with self.lock:
            for _ in range(count):
                self.faults.append(Fault(0, None, {}, path_contains, False, seconds))

    def throttled(self, where: str, status: int, headers: dict[str, str]) -> None:
        """Note a 429/503 leaving now when it carries a Retry-After (what the client has to honour)."""
        value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
        if status not in (429, 503) or value is None:
            return
        try:
            seconds = float(value)
        except ValueError:
            return
        with self.lock:
            self.throttles.append({"n": next(self.door_seq), "at": self.clock(), "status": status,
                                   "retry_after": seconds, "path": where})

    def requests_to(self, fragment: str) -> list[dict[str, Any]]:
        return [r for r in self.graph_requests if fragment in r["path"]]

    # -- identity ----------------------------------------------------------------------------------------------------
    def issue_tokens(self, client_id: str, scope: str, nonce: str = "") -> dict[str, Any]:
        with self.lock:
            access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(32)
            self.access_tokens.add(access)
            self.refresh_tokens.add(refresh)
            self.revoked = False
        now = int(time.time())
        claims = {
            "iss": f"{self.base}/{TENANT_ID}/v2.0", "sub": "fake-subject", "aud": client_id, "exp": now + 3600,
            "iat": now, "nbf": now, "oid": USER_OID, "tid": TENANT_ID, "preferred_username": self.user,
            "name": "Fake Principal", "ver": "2.0",
        }
        if nonce:
            claims["nonce"] = nonce
        id_token = ".".join(
            [_b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode()), _b64url(json.dumps(claims).encode()), "sig"]
        )
        return {
            "token_type": "Bearer", "scope": scope, "expires_in": self.token_expires_in,
            "ext_expires_in": self.token_expires_in, "access_token": access, "refresh_token": refresh,
            "id_token": id_token,
            "client_info": _b64url(json.dumps({"uid": USER_OID, "utid": TENANT_ID}).encode()),
        }

    def identity(self, method: str, path: str, form: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        parts = path.strip("/").split("/")
        tenant = parts[0]
        rest = "/".join(parts[1:])
        base = f"{self.base}/{tenant}"
        if rest == "v2.0/.well-known/openid-configuration":
            return 200, {}, {
                "issuer": f"{self.base}/{TENANT_ID}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
            }
        if rest == "oauth2/v2.0/authorize" and method == "GET":
            # The user signs in and consents at once; the answer goes back to the loopback redirect as a form POST.
            code = secrets.token_urlsafe(16)
            with self.lock:
                self.requested_scopes.append(form.get("scope", ""))
                self.auth_codes[code] = {"nonce": form.get("nonce", ""), "scope": form.get("scope", ""),
                                         "redirect_uri": form.get("redirect_uri", "")}
            fields = {"code": code, "state": form.get("state", "")}
            inputs = "".join(
                f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in fields.items()
            )
            page = (f'<html><body onload="document.forms[0].submit()"><form method="POST" '
                    f'action="{html.escape(form.get("redirect_uri", ""))}">{inputs}</form></body></html>')
            return 200, {"Content-Type": "text/html"}, page.encode()
        if rest == "oauth2/v2.0/devicecode" and method == "POST":
            with self.lock:
                self.requested_scopes.append(form.get("scope", ""))
                device_code = secrets.token_urlsafe(16)
                user_code = secrets.token_hex(4).upper()
                self.device_codes[device_code] = {
                    "user_code": user_code, "approved": False, "client_id": form.get("client_id", ""),
                    "scope": form.get("scope", ""),
                }
            return 200, {}, {
                "device_code": device_code, "user_code": user_code, "verification_uri": f"{self.base}/devicelogin",
                "expires_in": 900, "interval": 1,
                "message": f"To sign in, use a web browser to open the page {self.base}/devicelogin and enter the code"
                f" {user_code} to authenticate.",
            }
        if rest == "oauth2/v2.0/token" and method == "POST":
            self.token_requests.append(dict(form))
            with self.lock:
                fault = self.token_faults.popleft() if self.token_faults else None
            if fault is not None:
                return fault
            grant = form.get("grant_type", "")
            client_id = form.get("client_id", "")
            if grant == "urn:ietf:params:oauth:grant-type:device_code":
                with self.lock:
                    flow = self.device_codes.get(form.get("device_code", ""))
                if flow is None:
                    return 400, {}, {"error": "expired_token", "error_description": "AADSTS70019: code expired"}
                if not flow["approved"]:
                    return 400, {}, {"error": "authorization_pending", "error_description": "AADSTS70016: pending"}
                self.device_codes.pop(form["device_code"], None)
                return 200, {}, self.issue_tokens(client_id, flow["scope"])
            if grant == "refresh_token":
                with self.lock:
                    valid = form.get("refresh_token") in self.refresh_tokens and not self.revoked
                if not valid:
                    return 400, {}, {
                        "error": "invalid_grant",
                        "error_description": "AADSTS50173: The provided grant has expired due to it being revoked.",
                        "error_codes": [50173], "suberror": "bad_token",
                    }
                return 200, {}, self.issue_tokens(client_id, form.get("scope", ""))
            if grant == "authorization_code":
                with self.lock:
                    issued = self.auth_codes.pop(form.get("code", ""), None)
                if issued is None or issued["redirect_uri"] != form.get("redirect_uri"):
                    return 400, {}, {"error": "invalid_grant", "error_description": "AADSTS70000: bad code"}
                return 200, {}, self.issue_tokens(client_id, issued["scope"], issued["nonce"])
            return 400, {}, {"error": "unsupported_grant_type", "error_description": grant}
        return 404, {}, {"error": "not_found", "error_description": path}

    # -- graph -----------------------------------------------------------------------------------------------------
    def graph(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any, *, in_batch: bool
    ) -> tuple[int, dict[str, str], Any]:
        self.graph_requests.append(
            {"method": method, "path": path, "query": query, "headers": headers, "in_batch": in_batch, "body": body}
        )
        chosen = None
        with self.lock:
            for fault in list(self.faults):
                if fault.in_batch == in_batch and fault.path_contains in path:
                    self.faults.remove(fault)
                    chosen = fault
                    break
        if chosen is not None:
            if chosen.delay:
                time.sleep(chosen.delay)  # outside the lock: the other requests go on meanwhile
            if chosen.status:
                return chosen.status, dict(chosen.headers), copy.deepcopy(chosen.body)
        try:
            return self._route(method, path, query, headers, body)
        except KeyError as exc:
            return _graph_error(404, "ErrorItemNotFound", f"The specified object was not found in the store. {exc}")

    def _prefer(self, headers: dict[str, str]) -> dict[str, str]:
        values: dict[str, str] = {}
        for header, value in headers.items():
            if header.lower() == "prefer":
                for item in value.split(","):
                    key, _, val = item.strip().partition("=")
                    values[key.strip()] = val.strip().strip('"')
        return values

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> tuple[int, dict[str, str], Any]:
        p = path
        shared = re.match(r"/users/([^/]+)(/.*)", p)
        if shared:  # a mailbox shared with the signed-in user: this fake serves one mailbox under both names
            if unquote(shared.group(1)).lower() not in self.shared_with:
                return _graph_error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
            p = "/me" + shared.group(2)
        if not p.startswith("/me/"):
            return _graph_error(400, "BadRequest", f"unsupported path {p}")
        p = p[len("/me"):]
        page_size = int(self._prefer(headers).get("odata.maxpagesize", "10"))
        if p == "/mailFolders/delta":
            return self._folder_delta(query, page_size)
        m = re.fullmatch(r"/mailFolders/([^/]+)/messages/delta", p)
        if m:
            return self._message_delta(unquote(m.group(1)), query, page_size)
        m = re.fullmatch(r"/mailFolders/([^/]+)", p)
        if m and method == "GET":
            key = unquote(m.group(1))
            folder_id = key if key in self.folders else self.folder_id(key.lower())
            return 200, {}, self._public(self.folders[folder_id])
        if p == "/messages" and method == "GET":
            return self._find_messages(query)
        if p == "/messages" and method == "POST":
            return 201, {}, self._create_draft(body or {})
        m = re.fullmatch(r"/messages/([^/]+)(/.*)?", p)
        if m:
            return self._message_op(method, unquote(m.group(1)), m.group(2) or "", body or {})
        if p == "/calendar/getSchedule" and method == "POST":
            wanted = {a.lower() for a in (body or {}).get("schedules", [])}
            return 200, {}, {"value": [s for s in self.schedules if s.get("scheduleId", "").lower() in wanted]}
        if p == "/calendarView/delta":
            return self._event_delta(query, page_size)
        if p == "/contacts/delta" and method == "GET":
            return self._contact_delta(query, page_size)
        if p == "/events" and method == "POST":
            body = body or {}
            for existing in self.events.values():
                if body.get("transactionId") and existing.get("transactionId") == body["transactionId"]:
                    return 201, {}, self._public(existing)
            event_id = self.add_event(**body)
            return 201, {}, self._public(self.events[event_id])
        m = re.fullmatch(r"/events/([^/]+)(/instances)?", p)
        if m:
            event_id = unquote(m.group(1))
            if m.group(2):
                instances = [self._public(e) for e in self.events.values() if e.get("seriesMasterId") == event_id]
                return 200, {}, {"value": instances}
            if method == "GET":
                return 200, {}, self._public(self.events[event_id])
            if method == "PATCH":
                self.update_event(event_id, **body)
                return 200, {}, self._public(self.events[event_id])
            if method == "DELETE":
                self.delete_event(event_id)
                return 204, {}, None
        return _graph_error(400, "BadRequest", f"unsupported {method} {path}")

    @staticmethod
    def _public(item: dict[str, Any], select: str = "") -> dict[str, Any]:
        out = {k: copy.deepcopy(v) for k, v in item.items() if not k.startswith("_")}
        if select:
            keep = set(select.split(",")) | {"id", "@odata.etag", "@odata.type"}
            out = {k: v for k, v in out.items() if k in keep}
        return out

    def _page(self, items: list[dict[str, Any]], final_link: str, page_size: int, route: str):
        if len(items) <= page_size:
            return 200, {}, {"value": items, "@odata.deltaLink": final_link}
        token = secrets.token_urlsafe(12)
        self.skip_pages[token] = (items[page_size:], final_link)
        return 200, {}, {"value": items[:page_size], "@odata.nextLink": f"{self.graph_root}{route}?$skiptoken={token}"}

    def _skip(self, query: dict[str, str], page_size: int, route: str):
        items, final_link = self.skip_pages.pop(query["$skiptoken"])
        return self._page(items, final_link, page_size, route)

    def _since(self, query: dict[str, str]) -> int | None:
        token = query.get("$deltatoken")
        if token is None:
            return None
        epoch, _, seq = token.partition(".")
        if int(epoch) != self.epoch:
            raise _Gone()
        return int(seq)

    def _delta_link(self, route: str, extra: dict[str, str] | None = None) -> str:
        query = dict(extra or {})
        query["$deltatoken"] = f"{self.epoch}.{next(self.seq)}"
        return f"{self.graph_root}{route}?{urlencode(query)}"

    def _folder_delta(self, query: dict[str, str], page_size: int):
        route = "/me/mailFolders/delta"
        with self.lock:
            if "$skiptoken" in query:
                return self._skip(query, page_size, route)
            try:
                since = self._since(query)
            except _Gone:
                return _graph_error(410, "SyncStateNotFound", "The sync state generation is not found.")
            items = [
                self._public(f) for fid, f in self.folders.items() if since is None or self.folder_seq[fid] > since
            ]
            if since is not None:
                items += [{"id": fid, "@removed": {"reason": "deleted"}} for seq, fid in self.folder_removals if seq > since]
            return self._page(items, self._delta_link(route), page_size, route)

    def _message_delta(self, folder_key: str, query: dict[str, str], page_size: int):
        with self.lock:
            folder_id = folder_key if folder_key in self.folders else self.folder_id(folder_key.lower())
            route = f"/me/mailFolders/{quote(folder_id, safe='')}/messages/delta"
            if "$skiptoken" in query:
                return self._skip(query, page_size, route)
            try:
                since = self._since(query)
            except _Gone:
                return _graph_error(410, "SyncStateNotFound", "The sync state generation is not found.")
            select = query.get("$select", "")
            items = [
                self._public(m, select)
                for mid, m in sorted(self.messages.items(), key=lambda kv: kv[1]["receivedDateTime"], reverse=True)
                if m["parentFolderId"] == folder_id and (since is None or self.message_seq[mid] > since)
            ]
            if since is not None:
                present = {i["id"] for i in items}
                items += [
                    {"@odata.type": "#microsoft.graph.message", "id": mid, "@removed": {"reason": "deleted"}}
                    for seq, fid, mid in self.removals
                    if seq > since and fid == folder_id and mid not in present
                ]
            return self._page(items, self._delta_link(route, {"$select": select} if select else None), page_size, route)

    def _event_delta(self, query: dict[str, str], page_size: int):
        route = "/me/calendarView/delta"
        with self.lock:
            if "$skiptoken" in query:
                return self._skip(query, page_size, route)
            try:
                since = self._since(query)
            except _Gone:
                return _graph_error(410, "SyncStateNotFound", "The sync state generation is not found.")
            if since is None and not ("startDateTime" in query and "endDateTime" in query):
                return _graph_error(400, "ErrorInvalidParameter", "startDateTime and endDateTime are required")
            window = (query.get("startDateTime", ""), query.get("endDateTime", ""))
            items = []
            for eid, e in self.events.items():
                if e["type"] == "seriesMaster" or (since is not None and self.event_seq[eid] <= since):
                    continue
                items.append(self._public(e))
            if since is not None:
                items += [
                    {"@odata.type": "#microsoft.graph.event", "id": eid, "@removed": {"reason": "deleted"}}
                    for seq, eid in self.event_removals
                    if seq > since
                ]
            extra = {"startDateTime": window[0], "endDateTime": window[1]} if window[0] else None
            return self._page(items, self._delta_link(route, extra), page_size, route)

    def _contact_delta(self, query: dict[str, str], page_size: int):
        route = "/me/contacts/delta"
        with self.lock:
            if "$skiptoken" in query:
                return self._skip(query, page_size, route)
            try:
                since = self._since(query)
            except _Gone:
                return _graph_error(410, "SyncStateNotFound", "The sync state generation is not found.")
            select = query.get("$select", "")
            items = [self._public(c, select) for cid, c in self.contacts.items()
                     if since is None or self.contact_seq[cid] > since]
            if since is not None:
                items += [{"@odata.type": "#microsoft.graph.contact", "id": cid, "@removed": {"reason": "deleted"}}
                          for seq, cid in self.contact_removals if seq > since]
            return self._page(items, self._delta_link(route, {"$select": select} if select else None), page_size, route)

    def _find_messages(self, query: dict[str, str]):
        flt = query.get("$filter", "")
        with self.lock:
            m = re.search(r"ep/id eq '([^']+)' and ep/value eq '([^']+)'", flt)
            if m:
                prop_id, value = m.group(1), m.group(2)
                found = [
                    self._public(msg)
                    for msg in self.messages.values()
                    if any(
                        p["id"].lower() == prop_id.lower() and p["value"] == value
                        for p in msg.get("singleValueExtendedProperties", [])
                    )
                ]
                return 200, {}, {"value": found}
            m = re.search(r"internetMessageId eq '([^']+)'", flt)
            if m:
                found = [self._public(msg) for msg in self.messages.values() if msg["internetMessageId"] == m.group(1)]
                return 200, {}, {"value": found}
        return _graph_error(400, "ErrorInvalidUrlQueryFilter", f"unsupported filter {flt}")

    def _create_draft(self, fields: dict[str, Any]) -> dict[str, Any]:
        fields = dict(fields)
        fields.setdefault("from", {"emailAddress": {"name": "Fake Principal", "address": self.user}})
        message_id = self.add_message("drafts", isDraft=True, isRead=True, **fields)
        return self._public(self.messages[message_id])

    def _message_op(self, method: str, message_id: str, action: str, body: dict[str, Any]):
        with self.lock:
            message = self.messages[message_id]
            if action == "" and method == "GET":
                return 200, {}, self._public(message)
            if action == "/$value" and method == "GET":
                return 200, {"Content-Type": "text/plain"}, self._mime(message)
            if action == "" and method == "PATCH":
                props = body.pop("singleValueExtendedProperties", None)
                message.update(body)
                if props:
                    existing = {p["id"].lower(): p for p in message["singleValueExtendedProperties"]}
                    for prop in props:
                        existing[prop["id"].lower()] = prop
                    message["singleValueExtendedProperties"] = list(existing.values())
                self._touch_message(message)
                return 200, {}, self._public(message)
            if action == "" and method == "DELETE":
                self.delete_message(message_id)
                return 204, {}, None
            if action == "/move" and method == "POST":
                self.move_message(message_id, body["destinationId"])
                return 201, {}, self._public(message)
            if action in ("/createReply", "/createReplyAll") and method == "POST":
                original = message
                recipients = [original["from"]]
                if action == "/createReplyAll":
                    recipients += [
                        r for r in original["toRecipients"] + original["ccRecipients"]
                        if r["emailAddress"]["address"].lower() != self.user.lower()
                    ]
                draft = {
                    "subject": "RE: " + original["subject"],
                    "toRecipients": recipients,
                    "conversationId": original["conversationId"],
                    "body": {"contentType": "html", "content": body.get("comment", "")},
                }
                draft.update(body.get("message", {}))
                return 201, {}, self._create_draft(draft)
            if action == "/send" and method == "POST":
                if not message["isDraft"]:
                    return _graph_error(400, "ErrorInvalidOperation", "the message was already sent")
                deferred = [p for p in message["singleValueExtendedProperties"] if p["id"] == DEFERRED_SEND_PROP]
                message["isDraft"] = False
                message["sentDateTime"] = _now_iso()
                self.sent.append(self._public(message))
                self.move_message(message_id, "outbox" if deferred else "sentitems")
                return 202, {}, None
        return _graph_error(400, "BadRequest", f"unsupported {method} {action}")

    def _mime(self, message: dict[str, Any]) -> bytes:
        if message["id"] in self.sources:
            return self.sources[message["id"]]
        mime = email.message.EmailMessage()
        sender = message["from"]["emailAddress"]
        mime["From"] = email.utils.formataddr((sender.get("name", ""), sender["address"]))
        mime["To"] = ", ".join(
            email.utils.formataddr((r["emailAddress"].get("name", ""), r["emailAddress"]["address"]))
            for r in message["toRecipients"]
        )
        mime["Subject"] = message["subject"]
        mime["Message-ID"] = message["internetMessageId"]
        mime["Date"] = email.utils.format_datetime(
            dt.datetime.fromisoformat(message["receivedDateTime"].replace("Z", "+00:00"))
        )
        kind = "html" if message["body"]["contentType"] == "html" else "plain"
        mime.set_content(message["body"]["content"], subtype=kind)
        return mime.as_bytes()

    # -- throttling ------------------------------------------------------------------------------------------------
    def admit(self) -> tuple[int, dict[str, str], Any] | None:
        """Outlook's per-mailbox limits; None when the request may proceed (call ``release`` after)."""
        with self.lock:
            now = time.monotonic()
            while self.window and now - self.window[0] > self.window_seconds:
                self.window.popleft()
            if len(self.window) >= self.window_limit:
                return 429, {"Retry-After": "30"}, {"error": {"code": "ApplicationThrottled", "message": "quota"}}
            if self.in_flight >= self.max_concurrent:
                return 429, {"Retry-After": "0.5"}, {
                    "error": {"code": "ApplicationThrottled", "message": "MailboxConcurrency limit exceeded"}
                }
            self.window.append(now)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return None

    def release(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def batch(self, headers: dict[str, str], body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        requests = body.get("requests", [])
        if len(requests) > 20:
            return _graph_error(400, "BadRequest", "A maximum of 20 requests is allowed in a batch")
        responses = []
        for item in requests:
            url = urlsplit(item["url"] if item["url"].startswith("/") else "/" + item["url"])
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            item_headers = dict(item.get("headers", {}))
            for key, value in headers.items():
                if key.lower() == "prefer" and "prefer" not in {k.lower() for k in item_headers}:
                    item_headers[key] = value
            status, out_headers, out_body = self.graph(
                item["method"], unquote(url.path), query, item_headers, item.get("body"), in_batch=True
            )
            response: dict[str, Any] = {"id": item["id"], "status": status, "headers": out_headers}
            if isinstance(out_body, bytes):
                response["body"] = base64.b64encode(out_body).decode()
            else:
                response["body"] = out_body
            responses.append(response)
        return 200, {}, {"responses": responses}


class _Gone(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    fake: FakeMicrosoft
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, headers: dict[str, str], body: Any) -> None:
        if body is None:
            data = b""
        elif isinstance(body, bytes):
            data = body
        else:
            data = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **headers}
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        path = unquote(url.path)
        if not path.startswith("/v1.0/"):
            form = {**query, **{k: v[0] for k, v in parse_qs(raw.decode()).items()}}
            self._send(*self.fake.identity(method, path, form))
            return
        graph_path = path[len("/v1.0"):]
        with self.fake.lock:
            self.fake.arrivals.append({"n": next(self.fake.door_seq), "at": self.fake.clock(), "method": method,
                                       "path": graph_path})
        headers = {k: v for k, v in self.headers.items()}
        auth = self.headers.get("Authorization", "")
        with self.fake.lock:
            authorised = auth.startswith("Bearer ") and auth[7:] in self.fake.access_tokens
        if not authorised:
            self._send(*_graph_error(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid."))
            return
        refused = self.fake.admit()
        if refused is not None:
            self.fake.throttled(graph_path, refused[0], refused[1])
            self._send(*refused)
            return
        try:
            body = json.loads(raw) if raw else None
            if graph_path == "/$batch" and method == "POST":
                self.fake.graph_requests.append(
                    {"method": method, "path": graph_path, "query": query, "headers": headers, "in_batch": False,
                     "body": body}
                )
                answer = self.fake.batch(headers, body)
                for item in answer[2].get("responses", []):
                    self.fake.throttled(f"/$batch {item['id']}", item["status"], item.get("headers") or {})
            else:
                answer = self.fake.graph(method, graph_path, query, headers, body, in_batch=False)
                self.fake.throttled(graph_path, answer[0], answer[1])
            self._send(*answer)
        finally:
            self.fake.release()

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")
