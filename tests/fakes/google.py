"""A fake Google: OAuth (authorize + token), Gmail, Calendar and the batch endpoint, on 127.0.0.1 in a thread.

It speaks the wire format the real ``google-api-python-client`` and ``google-auth-oauthlib`` use, so tests drive the
connector through those libraries unchanged, pointed here by ``ASSISTANT_GOOGLE_API_ROOT`` and the client-secrets file
this fake writes. Switches inject what Google does on a bad day: rate limits (429, 403 ``rateLimitExceeded``), 5xx,
expired history ids (404), expired sync tokens (410), revoked grants (``invalid_grant``), and a per-user quota.
"""
from __future__ import annotations

import base64
import calendar as calendar_module
import email
import email.header
import email.parser
import email.policy
import email.utils
import hashlib
import itertools
import json
import re
import secrets
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ERROR_BODIES = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata" / "gmail_json" / "errors"

# Gmail's documented quota units per method (the per-user limit is counted in these).
UNITS = {
    "messages.list": 5, "messages.get": 5, "messages.modify": 5, "messages.batchModify": 50, "messages.send": 100,
    "messages.trash": 5, "messages.untrash": 5, "messages.delete": 10, "history.list": 2, "labels.list": 1,
    "drafts.create": 10, "drafts.update": 15, "drafts.delete": 10, "drafts.list": 5, "drafts.get": 5,
    "drafts.send": 100, "profile": 1,
}

SYSTEM_LABELS = ["INBOX", "SENT", "DRAFT", "TRASH", "SPAM", "STARRED", "UNREAD", "IMPORTANT", "CATEGORY_PERSONAL"]

RATE_LIMIT_429 = {
    "error": {
        "code": 429, "message": "Too many concurrent requests for user.", "status": "RESOURCE_EXHAUSTED",
        "errors": [{"domain": "usageLimits", "reason": "rateLimitExceeded", "message": "Rate Limit Exceeded"}],
    }
}
NOT_FOUND = {"error": {"code": 404, "message": "Requested entity was not found.",
                       "errors": [{"domain": "global", "reason": "notFound", "message": "Not Found"}]}}
GONE = {"error": {"code": 410, "message": "Sync token is no longer valid, a full sync is required.",
                  "errors": [{"domain": "calendar", "reason": "fullSyncRequired", "message": "Sync token expired"}]}}
UNAUTHORIZED = {"error": {"code": 401, "message": "Request had invalid authentication credentials.",
                          "errors": [{"domain": "global", "reason": "authError", "location": "Authorization"}],
                          "status": "UNAUTHENTICATED"}}


def error_body(name: str) -> bytes:
    """One of the real Google error bodies from the shared test data (e.g. ``"rate_limit_403.json"``)."""
    return (ERROR_BODIES / name).read_bytes()


@dataclass
class Fault:
    status: int
    pattern: re.Pattern
    remaining: int
    body: bytes
    in_batch: bool | None  # None: anywhere; True: only inside a batch; False: only top-level requests


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, data: Any) -> Response:
        return cls(status, json.dumps(data).encode(), {"Content-Type": "application/json; charset=UTF-8"})


class _ApiError(Exception):
    def __init__(self, status: int, data: Any):
        self.response = Response.json(status, data)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FakeGoogle:
    def __init__(self, email_address: str = "principal@example.com", calendar_time_zone: str = "America/New_York"):
        self.email_address = email_address
        self.calendar_time_zone = calendar_time_zone
        self.client_id = "fake-client.apps.googleusercontent.com"
        self.client_secret = "fake-client-secret"
        self.lock = threading.RLock()
        self._ids = itertools.count(0x18c0000000000000)
        # Gmail
        self.messages: dict[str, dict[str, Any]] = {}
        self.labels: dict[str, dict[str, Any]] = {
            name: {"id": name, "name": name, "type": "system"} for name in SYSTEM_LABELS
        }
        self.drafts: dict[str, str] = {}  # draft id -> message id
        self.history: list[dict[str, Any]] = []
        self.history_id = 1000
        self.oldest_history_id = 1000
        # Calendar
        self.events: dict[str, dict[str, Any]] = {}
        self.event_seq = 0
        self.oldest_sync_seq = 0
        # People (the principal's contacts)
        self.people: dict[str, dict[str, Any]] = {}
        self.people_seq = 0
        self.oldest_people_seq = 0
        self.people_expiry_status = 400
        # OAuth
        self.codes: dict[str, dict[str, str]] = {}
        self.access_tokens: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.revoked: list[str] = []  # tokens revoked at /revoke
        # Switches and observations
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, dict[str, str], bool]] = []  # method, path, query, inside a batch
        self.batch_sizes: list[int] = []
        self.lost: list[list] = []
        self.statuses: list[int] = []  # every status answered, batch parts included
        self.quota_per_second: int | None = None
        self.quota_per_minute: int | None = None
        # format=full: header values decoded from RFC 2047 (as Gmail shows them) or as written; leaf bodies larger
        # than this are kept as attachments (``body.attachmentId``) even without a file name, as Gmail does.
        self.decode_headers = True
        self.loose_msgid_search = False  # rfc822msgid: as Gmail's word search may answer it (see _visible)
        self.max_inline_body = 2 * 1024 * 1024
        self._spent: list[tuple[float, int]] = []
        self.clock: Callable[[], float] = time.monotonic
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # -- life cycle -----------------------------------------------------------------------------------------------
    def start(self) -> FakeGoogle:
        fake = self

        class Handler(_Handler):
            google = fake

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-google", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(5)

    def __enter__(self) -> FakeGoogle:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def root(self) -> str:
        """The value for ``ASSISTANT_GOOGLE_API_ROOT``."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def write_client_secrets(self, path: Path) -> Path:
        """An "installed" client-secrets file whose OAuth endpoints are this fake's, as Google Cloud would give it."""
        path.write_text(json.dumps({"installed": {
            "client_id": self.client_id, "client_secret": self.client_secret, "project_id": "fake",
            "auth_uri": self.root + "o/oauth2/auth", "token_uri": self.root + "token",
            "redirect_uris": ["http://localhost"],
        }}))
        return path

    # -- switches -------------------------------------------------------------------------------------------------
    def inject(self, status: int, match: str = ".", *, count: int = 1, body: bytes | dict | None = None,
               in_batch: bool | None = None) -> None:
        """The next ``count`` requests whose "METHOD /path" matches ``match`` answer ``status`` with ``body``."""
        if body is None:
            body = {429: RATE_LIMIT_429}.get(status) or (
                error_body("rate_limit_403.json") if status == 403 else
                error_body("503.json") if status == 503 else error_body("500.json") if status >= 500 else
                {"error": {"code": status, "message": "injected"}})
        if isinstance(body, dict):
            body = json.dumps(body).encode()
        with self.lock:
            self.faults.append(Fault(status, re.compile(match), count, body, in_batch))

    def issue_credentials(self) -> dict[str, Any]:
        """Authorized-user info as a finished sign-in stores it, for tests that are not about the browser part."""
        with self.lock:
            access_token = "ya29." + secrets.token_urlsafe(24)
            refresh_token = "1//" + secrets.token_urlsafe(24)
            self.access_tokens.add(access_token)
            self.refresh_tokens.add(refresh_token)
        return {"token": access_token, "refresh_token": refresh_token, "token_uri": self.root + "token",
                "client_id": self.client_id, "client_secret": self.client_secret,
                "scopes": ["https://www.googleapis.com/auth/gmail.modify",
                           "https://www.googleapis.com/auth/calendar.events"]}

    def expire_access_tokens(self) -> None:
        """Access tokens time out (the client refreshes them with its refresh token)."""
        with self.lock:
            self.access_tokens.clear()

    def lose_responses(self, match: str, count: int = 1) -> None:
        """The next ``count`` matching requests are carried out, then the connection drops before the answer."""
        with self.lock:
            self.lost.append([re.compile(match), count])

    def _lose(self, method: str, path: str) -> bool:
        with self.lock:
            for rule in self.lost:
                if rule[1] > 0 and rule[0].search(f"{method} {path}"):
                    rule[1] -= 1
                    return True
        return False

    def revoke_grants(self) -> None:
        """The user removed the app's access: every token stops working and refreshing answers ``invalid_grant``."""
        with self.lock:
            self.access_tokens.clear()
            self.refresh_tokens.clear()

    def expire_history(self) -> None:
        """History ids issued so far become too old (``history.list`` answers 404)."""
        with self.lock:
            self.oldest_history_id = self.history_id + 1

    def expire_sync_tokens(self) -> None:
        """Calendar sync tokens issued so far become invalid (``events.list`` answers 410)."""
        with self.lock:
            self.oldest_sync_seq = self.event_seq + 1

    def expire_contact_sync_tokens(self, status: int = 400) -> None:
        """People sync tokens issued so far expire: 400 ``EXPIRED_SYNC_TOKEN`` (what Google answers after 7 days), or
        ``status`` 410."""
        with self.lock:
            self.oldest_people_seq = self.people_seq + 1
            self.people_expiry_status = status

    def set_quota(self, per_second: int | None = 250, per_minute: int | None = 15000) -> None:
        with self.lock:
            self.quota_per_second, self.quota_per_minute = per_second, per_minute
            self._spent.clear()

    def reset_log(self) -> None:
        with self.lock:
            self.requests.clear()
            self.statuses.clear()
            self.batch_sizes.clear()

    def calls(self, method: str | None = None, path: str = "", *, in_batch: bool | None = None) -> int:
        """How many (sub)requests matched: ``path`` is a regex searched in the request path."""
        with self.lock:
            return sum(1 for m, p, _q, b in self.requests
                       if (method is None or m == method) and re.search(path, p)
                       and (in_batch is None or b == in_batch))

    # -- server-side changes (what another mail client or a sender would do) -----------------------------------
    def _next_history(self) -> str:
        self.history_id += 1
        return str(self.history_id)

    def _record(self, kind: str, message: dict[str, Any], label_ids: list[str] | None = None) -> None:
        hid = self._next_history()
        message["historyId"] = hid
        ref = {"id": message["id"], "threadId": message["threadId"], "labelIds": list(message["labelIds"])}
        entry: dict[str, Any] = {"message": ref}
        if label_ids is not None:
            entry["labelIds"] = label_ids
        self.history.append({"id": hid, "messages": [{"id": message["id"], "threadId": message["threadId"]}],
                             kind: [entry]})

    def add_message(self, raw: bytes, labels: tuple[str, ...] | list[str] = ("INBOX", "UNREAD"),
                    thread_id: str | None = None, internal_date_ms: int | None = None) -> str:
        with self.lock:
            message_id = f"{next(self._ids):x}"
            if internal_date_ms is None:
                parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
                try:
                    internal_date_ms = int(email.utils.parsedate_to_datetime(parsed["Date"]).timestamp() * 1000)
                except Exception:  # noqa: BLE001
                    internal_date_ms = int(time.time() * 1000)
            for label in labels:
                self.labels.setdefault(label, {"id": label, "name": label, "type": "user"})
            message = {"id": message_id, "threadId": thread_id or message_id, "labelIds": list(labels),
                       "raw": raw, "internalDate": internal_date_ms}
            self.messages[message_id] = message
            self._record("messagesAdded", message)
            return message_id

    def add_label(self, name: str) -> str:
        with self.lock:
            label_id = f"Label_{len(self.labels) + 1}"
            self.labels[label_id] = {"id": label_id, "name": name, "type": "user"}
            return label_id

    def modify_message(self, message_id: str, add: list[str] = (), remove: list[str] = ()) -> None:
        with self.lock:
            message = self.messages[message_id]
            added = [label for label in add if label not in message["labelIds"]]
            removed = [label for label in remove if label in message["labelIds"]]
            message["labelIds"] = [label for label in message["labelIds"] if label not in removed] + added
            if added:
                self._record("labelsAdded", message, added)
            if removed:
                self._record("labelsRemoved", message, removed)

    def delete_message(self, message_id: str) -> None:
        with self.lock:
            message = self.messages.pop(message_id)
            self._record("messagesDeleted", message)

    def sent(self) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.messages.values() if "SENT" in m["labelIds"]]

    def add_event(self, resource: dict[str, Any]) -> str:
        with self.lock:
            event = dict(resource)
            event.setdefault("id", f"ev{next(self._ids):x}")
            event.setdefault("iCalUID", f"{event['id']}@google.com")
            event.setdefault("status", "confirmed")
            event.setdefault("sequence", 0)
            self._touch(event)
            self.events[event["id"]] = event
            return event["id"]

    def update_event(self, event_id: str, changes: dict[str, Any]) -> None:
        with self.lock:
            event = self.events[event_id]
            event.update(changes)
            event["sequence"] = event.get("sequence", 0) + 1
            self._touch(event)

    def delete_event(self, event_id: str) -> None:
        with self.lock:
            event = self.events[event_id]
            event["status"] = "cancelled"
            self._touch(event)

    def _touch(self, event: dict[str, Any]) -> None:
        self.event_seq += 1
        event["_seq"] = self.event_seq
        event["updated"] = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        event["etag"] = f'"{self.event_seq}"'

    def add_person(self, name: str, emails: list[str] | tuple[str, ...] = (), phones: list[str] | tuple[str, ...] = ()
                   ) -> str:
        """A contact in the principal's Google address book; returns its resource name."""
        with self.lock:
            resource_name = f"people/c{next(self._ids)}"
            self.people[resource_name] = {"resourceName": resource_name}
            self.update_person(resource_name, name=name, emails=emails, phones=phones)
            return resource_name

    def update_person(self, resource_name: str, *, name: str | None = None, emails: Any = None, phones: Any = None
                      ) -> None:
        with self.lock:
            person = self.people[resource_name]
            if name is not None:
                person["names"] = [{"displayName": name, "metadata": {"primary": True}}]
            if emails is not None:
                person["emailAddresses"] = [{"value": e, "type": "home"} for e in emails]
            if phones is not None:
                person["phoneNumbers"] = [{"value": p, "type": "mobile"} for p in phones]
            self._touch_person(person)

    def delete_person(self, resource_name: str) -> None:
        with self.lock:
            person = self.people[resource_name]
            for key in ("names", "emailAddresses", "phoneNumbers"):
                person.pop(key, None)
            person["_deleted"] = True
            self._touch_person(person)

    def _touch_person(self, person: dict[str, Any]) -> None:
        self.people_seq += 1
        person["_seq"] = self.people_seq
        person["etag"] = f"%E{self.people_seq}"

    # -- dispatch -------------------------------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes, *, in_batch: bool = False
               ) -> Response:
        parsed = urllib.parse.urlsplit(target)
        path = parsed.path
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        with self.lock:
            self.requests.append((method, path, query, in_batch))
            for fault in self.faults:
                if fault.remaining > 0 and fault.pattern.search(f"{method} {path}") and (
                        fault.in_batch is None or fault.in_batch == in_batch):
                    fault.remaining -= 1
                    self.statuses.append(fault.status)
                    return Response(fault.status, fault.body, {"Content-Type": "application/json; charset=UTF-8"})
        response = self._route(method, path, query, headers, body, in_batch)
        with self.lock:
            self.statuses.append(response.status)
        return response

    def _route(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes,
               in_batch: bool) -> Response:
        try:
            if path == "/o/oauth2/auth":
                return self._authorize(query)
            if path == "/token":
                return self._token(dict(urllib.parse.parse_qsl(body.decode())), headers)
            if path == "/revoke" and method == "POST":
                return self._revoke(dict(urllib.parse.parse_qsl(body.decode())), query)
            if not in_batch or path.startswith("/batch"):
                self._check_token(headers)
            if path.startswith("/batch/"):
                return self._batch(headers, body)
            with self.lock:
                if path == "/v1/people/me/connections" and method == "GET":
                    return self._connections(query)
                if path.startswith("/gmail/v1/users/me/"):
                    return self._gmail(method, path[len("/gmail/v1/users/me/"):], query, body)
                calendar_path = path[len("/calendar/v3"):] if path.startswith("/calendar/v3/") else path
                if calendar_path == "/freeBusy" and method == "POST":
                    return self._free_busy(json.loads(body))
                if calendar_path.startswith("/calendars/"):
                    return self._calendar(method, calendar_path[len("/calendars/"):], query, body)
            raise _ApiError(404, NOT_FOUND)
        except _ApiError as exc:
            return exc.response

    def _check_token(self, headers: dict[str, str]) -> None:
        auth = headers.get("authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        with self.lock:
            if token not in self.access_tokens:
                raise _ApiError(401, UNAUTHORIZED)

    def _charge(self, method_name: str) -> None:
        units = UNITS.get(method_name, 1)
        if self.quota_per_second is None and self.quota_per_minute is None:
            return
        now = self.clock()
        self._spent = [(t, u) for t, u in self._spent if now - t < 60]
        last_second = sum(u for t, u in self._spent if now - t < 1)
        last_minute = sum(u for _t, u in self._spent)
        if (self.quota_per_second is not None and last_second + units > self.quota_per_second) or (
                self.quota_per_minute is not None and last_minute + units > self.quota_per_minute):
            raise _ApiError(429, RATE_LIMIT_429)
        self._spent.append((now, units))

    # -- OAuth ----------------------------------------------------------------------------------------------------
    def _authorize(self, query: dict[str, str]) -> Response:
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            return Response.json(400, {"error": "invalid_request"})
        code = secrets.token_urlsafe(16)
        with self.lock:
            self.codes[code] = {"redirect_uri": query["redirect_uri"], "challenge": query.get("code_challenge", ""),
                                "scope": query.get("scope", "")}
        location = query["redirect_uri"] + "?" + urllib.parse.urlencode(
            {"state": query.get("state", ""), "code": code, "scope": query.get("scope", "")})
        return Response(302, b"", {"Location": location})

    def _revoke(self, form: dict[str, str], query: dict[str, str]) -> Response:
        """Google's revocation endpoint: a refresh token ends its grant (every access token with it); an unknown or
        revoked token answers 400 ``invalid_token``, as Google does."""
        token = form.get("token") or query.get("token", "")
        with self.lock:
            if token in self.refresh_tokens:
                self.refresh_tokens.discard(token)
                self.access_tokens.clear()
            elif token in self.access_tokens:
                self.access_tokens.discard(token)
            else:
                return Response.json(400, {"error": "invalid_token", "error_description": "Token expired or revoked"})
            self.revoked.append(token)
        return Response.json(200, {})

    def _token(self, form: dict[str, str], headers: dict[str, str]) -> Response:
        invalid_grant = Response.json(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
        basic = headers.get("authorization", "")
        if basic.startswith("Basic "):  # client authentication by HTTP Basic (RFC 6749 2.3.1), as requests-oauthlib does
            client_id, _, client_secret = base64.b64decode(basic[6:]).decode().partition(":")
            form.setdefault("client_id", urllib.parse.unquote_plus(client_id))
            form.setdefault("client_secret", urllib.parse.unquote_plus(client_secret))
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return Response.json(401, {"error": "invalid_client"})
        with self.lock:
            if form.get("grant_type") == "authorization_code":
                grant = self.codes.pop(form.get("code", ""), None)
                if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
                    return invalid_grant
                verifier = form.get("code_verifier", "")
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
                if grant["challenge"] and challenge != grant["challenge"]:
                    return invalid_grant
                refresh_token = "1//" + secrets.token_urlsafe(24)
                self.refresh_tokens.add(refresh_token)
                access_token = "ya29." + secrets.token_urlsafe(24)
                self.access_tokens.add(access_token)
                return Response.json(200, {"access_token": access_token, "expires_in": 3599, "token_type": "Bearer",
                                           "refresh_token": refresh_token, "scope": grant["scope"]})
            if form.get("grant_type") == "refresh_token":
                if form.get("refresh_token") not in self.refresh_tokens:
                    return invalid_grant
                access_token = "ya29." + secrets.token_urlsafe(24)
                self.access_tokens.add(access_token)
                return Response.json(200, {"access_token": access_token, "expires_in": 3599, "token_type": "Bearer"})
        return Response.json(400, {"error": "unsupported_grant_type"})

    # -- Gmail ----------------------------------------------------------------------------------------------------
    def _visible(self, message: dict[str, Any], query: dict[str, str]) -> bool:
        if query.get("includeSpamTrash", "false") != "true" and {"SPAM", "TRASH"} & set(message["labelIds"]):
            return False
        wanted = query.get("labelIds")
        if wanted and wanted not in message["labelIds"]:
            return False
        q = query.get("q", "")
        match = re.search(r"rfc822msgid:(\S+)", q)
        if match:
            header = email.message_from_bytes(message["raw"], policy=email.policy.compat32)["Message-ID"] or ""
            if self.loose_msgid_search:  # Gmail's search is by words: an id that merely contains the words matches
                words = set(re.split(r"[^A-Za-z0-9]+", match.group(1))) - {""}
                return words <= set(re.split(r"[^A-Za-z0-9]+", header))
            return header.strip().strip("<>") == match.group(1).strip("<>")
        return True

    def _resource(self, message: dict[str, Any], fmt: str, metadata_headers: tuple[str, ...] = ()) -> dict[str, Any]:
        out = {"id": message["id"], "threadId": message["threadId"], "labelIds": list(message["labelIds"]),
               "historyId": message.get("historyId", str(self.history_id)), "internalDate": str(message["internalDate"]),
               "sizeEstimate": len(message["raw"]), "snippet": ""}
        if fmt == "raw":
            out["raw"] = _b64url(message["raw"])
        elif fmt == "full":
            out["payload"] = self._payload(email.message_from_bytes(message["raw"], policy=email.policy.default))
        elif fmt == "metadata":  # the headers only, those asked for when metadataHeaders names some
            payload = self._payload(email.message_from_bytes(message["raw"], policy=email.policy.default))
            wanted = {name.lower() for name in metadata_headers}
            out["payload"] = {"headers": [h for h in payload["headers"] if not wanted or h["name"].lower() in wanted]}
        return out

    def _payload(self, part: email.message.Message, part_id: str = "") -> dict[str, Any]:
        """A ``MessagePart`` as Gmail's ``format=full`` gives it: the part's headers, children of a multipart (ids
        "0", "1", "1.0"…), bodies inline as base64url (``body.data``) except attachments — a part with a file name, or a
        large one — which come as ``body.attachmentId`` and ``body.size`` only."""
        headers = []
        for name, value in part.raw_items():
            text = re.sub(r"\r?\n(?=[ \t])", "", str(value)).strip()
            if self.decode_headers and "=?" in text:
                try:
                    text = str(email.header.make_header(email.header.decode_header(text)))
                except Exception:  # noqa: BLE001 - Gmail shows a header it cannot decode as written
                    pass
            headers.append({"name": name, "value": text})
        try:
            filename = part.get_filename() or ""
        except Exception:  # noqa: BLE001
            filename = ""
        out: dict[str, Any] = {"partId": part_id, "mimeType": part.get_content_type(), "filename": filename,
                               "headers": headers, "body": {"size": 0}}
        payload = part.get_payload()
        if part.get_content_maintype() == "multipart" and isinstance(payload, list):
            out["parts"] = [self._payload(child, f"{part_id}.{index}" if part_id else str(index))
                            for index, child in enumerate(payload)]
            return out
        if isinstance(payload, list):  # message/*: the enclosed message (or delivery-status blocks) as text
            blocks = payload[:1] if part.get_content_type() == "message/rfc822" else payload
            data = b"\n".join(block.as_bytes(policy=email.policy.compat32) for block in blocks)
        else:
            data = part.get_payload(decode=True) or b""
        out["body"]["size"] = len(data)
        if filename or len(data) > self.max_inline_body:
            out["body"]["attachmentId"] = "ANGjdJ" + hashlib.sha256(f"{part_id}:".encode() + data).hexdigest()[:40]
        else:
            out["body"]["data"] = _b64url(data)
        return out

    def _page(self, items: list, query: dict[str, str], default: int, limit: int) -> tuple[list, str | None]:
        start = int(query.get("pageToken") or 0)
        size = min(int(query.get("maxResults") or default), limit)
        chunk = items[start:start + size]
        return chunk, (str(start + size) if start + size < len(items) else None)

    def _gmail(self, method: str, path: str, query: dict[str, str], body: bytes) -> Response:
        data = json.loads(body) if body else {}
        parts = path.split("/")
        if path == "profile":
            self._charge("profile")
            return Response.json(200, {"emailAddress": self.email_address, "messagesTotal": len(self.messages),
                                       "threadsTotal": len({m["threadId"] for m in self.messages.values()}),
                                       "historyId": str(self.history_id)})
        if path == "labels" and method == "GET":
            self._charge("labels.list")
            return Response.json(200, {"labels": list(self.labels.values())})
        if path == "history" and method == "GET":
            self._charge("history.list")
            start = int(query["startHistoryId"])
            if start < self.oldest_history_id:
                raise _ApiError(404, NOT_FOUND)
            records = [h for h in self.history if int(h["id"]) > start]
            chunk, token = self._page(records, query, 100, 500)
            out: dict[str, Any] = {"historyId": str(self.history_id)}
            if chunk:
                out["history"] = chunk
            if token:
                out["nextPageToken"] = token
            return Response.json(200, out)
        if parts[0] == "messages":
            return self._messages(method, parts[1:], query, data)
        if parts[0] == "drafts":
            return self._drafts(method, parts[1:], query, data)
        raise _ApiError(404, NOT_FOUND)

    def _message(self, message_id: str) -> dict[str, Any]:
        message = self.messages.get(message_id)
        if message is None:
            raise _ApiError(404, NOT_FOUND)
        return message

    def _messages(self, method: str, parts: list[str], query: dict[str, str], data: dict[str, Any]) -> Response:
        if not parts and method == "GET":
            self._charge("messages.list")
            listed = sorted((m for m in self.messages.values() if self._visible(m, query)),
                            key=lambda m: (m["internalDate"], m["id"]), reverse=True)
            chunk, token = self._page(listed, query, 100, 500)
            out: dict[str, Any] = {"resultSizeEstimate": len(listed)}
            if chunk:
                out["messages"] = [{"id": m["id"], "threadId": m["threadId"]} for m in chunk]
            if token:
                out["nextPageToken"] = token
            return Response.json(200, out)
        if parts == ["send"] and method == "POST":
            self._charge("messages.send")
            raw = _unb64url(data["raw"])
            thread_id = data.get("threadId")
            if thread_id and not any(m["threadId"] == thread_id for m in self.messages.values()):
                raise _ApiError(404, NOT_FOUND)
            message_id = self.add_message(raw, labels=["SENT"], thread_id=thread_id)
            return Response.json(200, {"id": message_id, "threadId": self.messages[message_id]["threadId"],
                                       "labelIds": ["SENT"]})
        if parts == ["batchModify"] and method == "POST":
            self._charge("messages.batchModify")
            for message_id in data.get("ids", []):
                if message_id in self.messages:
                    self.modify_message(message_id, data.get("addLabelIds", []), data.get("removeLabelIds", []))
            return Response(204)
        if len(parts) == 1 and method == "GET":
            self._charge("messages.get")
            return Response.json(200, self._resource(self._message(parts[0]), query.get("format", "full"),
                                                     tuple(filter(None, [query.get("metadataHeaders", "")]))))
        if len(parts) == 1 and method == "DELETE":
            self._charge("messages.delete")
            self._message(parts[0])
            self.delete_message(parts[0])
            return Response(204)
        if len(parts) == 2 and method == "POST":
            message = self._message(parts[0])
            if parts[1] == "modify":
                self._charge("messages.modify")
                self.modify_message(parts[0], data.get("addLabelIds", []), data.get("removeLabelIds", []))
            elif parts[1] == "trash":
                self._charge("messages.trash")
                self.modify_message(parts[0], ["TRASH"], ["INBOX"])
            elif parts[1] == "untrash":
                self._charge("messages.untrash")
                self.modify_message(parts[0], ["INBOX"], ["TRASH"])
            else:
                raise _ApiError(404, NOT_FOUND)
            return Response.json(200, self._resource(message, "minimal"))
        raise _ApiError(404, NOT_FOUND)

    def _draft_resource(self, draft_id: str) -> dict[str, Any]:
        message = self.messages[self.drafts[draft_id]]
        return {"id": draft_id, "message": {"id": message["id"], "threadId": message["threadId"],
                                            "labelIds": list(message["labelIds"])}}

    def _drafts(self, method: str, parts: list[str], query: dict[str, str], data: dict[str, Any]) -> Response:
        if not parts and method == "GET":
            self._charge("drafts.list")
            found = [d for d, m in self.drafts.items() if self._visible(self.messages[m], query)]
            return Response.json(200, {"drafts": [self._draft_resource(d) for d in found], "resultSizeEstimate": len(found)})
        if not parts and method == "POST":
            self._charge("drafts.create")
            message = data["message"]
            message_id = self.add_message(_unb64url(message["raw"]), labels=["DRAFT"], thread_id=message.get("threadId"))
            draft_id = f"r{next(self._ids):x}"
            self.drafts[draft_id] = message_id
            return Response.json(200, self._draft_resource(draft_id))
        if parts == ["send"] and method == "POST":
            self._charge("drafts.send")
            draft_id = data["id"]
            if draft_id not in self.drafts:
                raise _ApiError(404, NOT_FOUND)
            message_id = self.drafts.pop(draft_id)
            self.modify_message(message_id, ["SENT"], ["DRAFT"])
            return Response.json(200, self._resource(self.messages[message_id], "minimal"))
        if len(parts) == 1:
            if parts[0] not in self.drafts:
                raise _ApiError(404, NOT_FOUND)
            if method == "GET":
                self._charge("drafts.get")
                return Response.json(200, self._draft_resource(parts[0]))
            if method == "PUT":
                self._charge("drafts.update")
                old = self.drafts[parts[0]]
                message = data["message"]
                new_id = self.add_message(_unb64url(message["raw"]), labels=["DRAFT"],
                                          thread_id=message.get("threadId") or self.messages[old]["threadId"])
                self.delete_message(old)
                self.drafts[parts[0]] = new_id
                return Response.json(200, self._draft_resource(parts[0]))
            if method == "DELETE":
                self._charge("drafts.delete")
                self.delete_message(self.drafts.pop(parts[0]))
                return Response(204)
        raise _ApiError(404, NOT_FOUND)

    # -- Calendar -------------------------------------------------------------------------------------------------
    @staticmethod
    def _public(event: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in event.items() if not k.startswith("_")}

    def _calendar(self, method: str, path: str, query: dict[str, str], body: bytes) -> Response:
        data = json.loads(body) if body else {}
        calendar_id, _, rest = path.partition("/")
        if rest == "" and method == "GET":
            return Response.json(200, {"id": calendar_id, "summary": self.email_address,
                                       "timeZone": self.calendar_time_zone})
        parts = rest.split("/")
        if parts[0] != "events":
            raise _ApiError(404, NOT_FOUND)
        if len(parts) == 1 and method == "GET":
            return self._list_events(query)
        if len(parts) == 1 and method == "POST":
            if data.get("id") in self.events:
                raise _ApiError(409, {"error": {"code": 409, "message": "The requested identifier already exists.",
                                                "errors": [{"domain": "global", "reason": "duplicate"}]}})
            event_id = self.add_event(data)
            return Response.json(200, self._public(self.events[event_id]))
        event = self.events.get(parts[1])
        if event is None or (event["status"] == "cancelled" and method != "GET"):
            raise _ApiError(404 if event is None else 410, NOT_FOUND if event is None else
                            {"error": {"code": 410, "message": "Resource has been deleted"}})
        if method == "GET":
            return Response.json(200, self._public(event))
        if method in ("PATCH", "PUT"):
            if method == "PUT":
                keep = {k: event[k] for k in ("id", "iCalUID", "sequence") if k in event}
                event.clear()
                event.update(keep)
                event["status"] = "confirmed"
            self.update_event(parts[1], data)
            return Response.json(200, self._public(event))
        if method == "DELETE":
            self.delete_event(parts[1])
            return Response(204)
        raise _ApiError(404, NOT_FOUND)

    def _list_events(self, query: dict[str, str]) -> Response:
        token = query.get("syncToken")
        if token:
            since = int(token.removeprefix("sync-"))
            if since < self.oldest_sync_seq:
                raise _ApiError(410, GONE)
            items = [e for e in self.events.values() if e["_seq"] > since]
        else:
            # Google: cancelled occurrences of a series are listed anyway when showDeleted and singleEvents are off.
            show_deleted = query.get("showDeleted") == "true"
            items = [e for e in self.events.values()
                     if show_deleted or e["status"] != "cancelled" or e.get("recurringEventId")]
        if query.get("iCalUID"):
            items = [e for e in items if e["iCalUID"] == query["iCalUID"]]
        if query.get("singleEvents") == "true":
            raise _ApiError(400, {"error": {"code": 400, "message": "this fake does not expand recurrences"}})
        items.sort(key=lambda e: e["_seq"])
        chunk, next_page = self._page(items, query, 250, 2500)
        out: dict[str, Any] = {"kind": "calendar#events", "timeZone": self.calendar_time_zone,
                               "items": [self._public(e) for e in chunk]}
        if next_page:
            out["nextPageToken"] = next_page
        else:
            out["nextSyncToken"] = f"sync-{self.event_seq}"
        return Response.json(200, out)

    # -- People -------------------------------------------------------------------------------------------------
    def _connections(self, query: dict[str, str]) -> Response:
        if not query.get("personFields"):
            raise _ApiError(400, {"error": {"code": 400, "message": "personFields mask is required.",
                                            "status": "INVALID_ARGUMENT"}})
        token = query.get("syncToken")
        if token:
            since = int(token.removeprefix("people-"))
            if since < self.oldest_people_seq:
                if self.people_expiry_status == 410:
                    raise _ApiError(410, GONE)
                raise _ApiError(400, {"error": {
                    "code": 400, "status": "FAILED_PRECONDITION",
                    "message": "Sync token is expired. Clear local cache and retry call without the sync token.",
                    "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "EXPIRED_SYNC_TOKEN",
                                 "domain": "people.googleapis.com"}]}})
            people = [p for p in self.people.values() if p["_seq"] > since]
        else:
            people = [p for p in self.people.values() if not p.get("_deleted")]
        people.sort(key=lambda p: p["_seq"])
        start = int(query.get("pageToken") or 0)
        size = min(int(query.get("pageSize") or 100), 1000)
        out: dict[str, Any] = {"totalPeople": len(people), "totalItems": len(people), "connections": []}
        for person in people[start:start + size]:
            if person.get("_deleted"):
                out["connections"].append({"resourceName": person["resourceName"], "etag": person["etag"],
                                           "metadata": {"deleted": True}})
            else:
                out["connections"].append({k: v for k, v in person.items() if not k.startswith("_")})
        if start + size < len(people):
            out["nextPageToken"] = str(start + size)
        elif query.get("requestSyncToken") == "true":
            out["nextSyncToken"] = f"people-{self.people_seq}"
        return Response.json(200, out)

    def _free_busy(self, query: dict[str, Any]) -> Response:
        """Busy times of this user's own calendar (single events only); any other calendar is "notFound"."""
        def moment(value: dict[str, Any]) -> str:
            return value.get("dateTime") or value["date"] + "T00:00:00Z"

        def utc(text: str) -> float:
            return calendar_module.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")) - (
                0 if text.endswith("Z") or len(text) == 19 else
                (1 if text[-6] == "+" else -1) * (int(text[-5:-3]) * 3600 + int(text[-2:]) * 60))

        low, high = utc(query["timeMin"]), utc(query["timeMax"])
        calendars: dict[str, Any] = {}
        for item in query.get("items", []):
            if item["id"] not in ("primary", self.email_address):
                calendars[item["id"]] = {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
                continue
            busy = []
            for event in sorted(self.events.values(), key=lambda e: moment(e["start"]) if "start" in e else ""):
                if event["status"] == "cancelled" or "start" not in event or event.get("transparency") == "transparent":
                    continue
                start, end = moment(event["start"]), moment(event["end"])
                if utc(start) < high and utc(end) > low:
                    busy.append({"start": start, "end": end})
            calendars[item["id"]] = {"busy": busy}
        return Response.json(200, {"kind": "calendar#freeBusy", "timeMin": query["timeMin"],
                                   "timeMax": query["timeMax"], "calendars": calendars})

    # -- batch ----------------------------------------------------------------------------------------------------
    def _batch(self, headers: dict[str, str], body: bytes) -> Response:
        content_type = headers.get("content-type", "")
        envelope = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        if not envelope.is_multipart():
            return Response.json(400, {"error": {"code": 400, "message": "batch body is not multipart/mixed"}})
        boundary = "batch_" + secrets.token_hex(8)
        out = []
        with self.lock:
            self.batch_sizes.append(len(envelope.get_payload()))
        for part in envelope.get_payload():
            payload = part.get_payload()
            head, _, sub_body = payload.replace("\r\n", "\n").partition("\n\n")
            lines = head.split("\n")
            sub_method, target, _version = lines[0].split(" ", 2)
            sub_headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                sub_headers[name.strip().lower()] = value.strip()
            response = self.handle(sub_method, target, sub_headers, sub_body.encode(), in_batch=True)
            reason = {200: "OK", 204: "No Content", 404: "Not Found", 429: "Too Many Requests"}.get(response.status, "Error")
            content_id = (part["Content-ID"] or "<+0>").strip()
            out.append(
                f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: <response-{content_id[1:-1]}>\r\n\r\n"
                f"HTTP/1.1 {response.status} {reason}\r\n"
                + "".join(f"{k}: {v}\r\n" for k, v in response.headers.items())
                + f"Content-Length: {len(response.body)}\r\n\r\n" + response.body.decode() + "\r\n"
            )
        text = "".join(out) + f"--{boundary}--\r\n"
        return Response(200, text.encode(), {"Content-Type": f"multipart/mixed; boundary={boundary}"})


class _Handler(BaseHTTPRequestHandler):
    google: FakeGoogle
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        response = self.google.handle(self.command, self.path, headers, body)
        if self.google._lose(self.command, urllib.parse.urlsplit(self.path).path):
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
