"""Gmail and Google Calendar through google-api-python-client (static discovery documents, no fetch at run time)."""
from __future__ import annotations

import base64
import binascii
import email.message
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Literal, cast

import httplib2
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest, HttpRequest

from assistant.connectors.base import (
    ON_DEMAND_SUFFIX,
    CalendarPage,
    Capability,
    Connector,
    ContactsPage,
    MailPage,
)
from assistant.connectors.gmail import auth, events
from assistant.connectors.gmail.auth import build_service
from assistant.connectors.gmail.ratelimit import (
    Backoff,
    QuotaBudget,
    error_message,
    error_reason,
    is_retryable,
    units_for,
)
from assistant.core.errors import InvalidInput, NeedsSignIn, PermanentError, TransientError
from assistant.domain import Account, Folder, Message, OutboxEntry, RemoteContact
from assistant.mail.mime import parse_message

BATCH_SIZE = 50  # Google: more than 50 calls per batch is "not recommended"
# Half of a second's quota of gets per batch: a batch's units are counted from its answer (see QuotaBudget.settle), so
# with two batches per second one is on the way while the other's units are waiting out the window.
STREAM_BATCH = 25
LIST_PAGE = 500
EVENTS_PAGE = 2500
CONTACTS_PAGE = 1000  # the People API's largest connections page
PERSON_FIELDS = "names,emailAddresses,phoneNumbers"
# System labels that are states of a message, not places it is in.
STATE_LABELS = frozenset({"UNREAD", "STARRED", "IMPORTANT", "CHAT"})
ROLES = {"INBOX": "inbox", "SENT": "sent", "DRAFT": "drafts", "TRASH": "trash", "SPAM": "spam"}
ROLE_NAMES = {"INBOX": "Inbox", "SENT": "Sent", "DRAFT": "Drafts", "TRASH": "Trash", "SPAM": "Spam"}
TRANSPORT_ERRORS = (httplib2.HttpLib2Error, OSError, socket.timeout, TransportError)


def _is_folder_label(label_id: str) -> bool:
    return label_id not in STATE_LABELS and not label_id.startswith("CATEGORY_")


def _normal_message_id(value: str) -> str:
    """A Message-ID to compare: without its angle brackets and surrounding space; the domain part is case-blind."""
    local, _, domain = value.strip().strip("<>").strip().rpartition("@")
    return f"{local}@{domain.lower()}" if local else domain


def _decode_raw(text: str) -> bytes:
    """Outbox payloads carry standard base64, Gmail answers base64url: read either."""
    text = text.strip()
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return base64.b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"the message source is not valid base64: {exc}") from exc


MAX_PART_DEPTH = 50  # deeper than the MIME parser reads (it stops at 20): nothing of a real message is lost


def _header_line(name: str, value: str) -> bytes:
    """One header of the skeleton. Gmail may hand values decoded (UTF-8) or still RFC 2047-encoded: both are written as
    they came (8-bit UTF-8 is what the MIME parser reads raw header bytes as), with no line break that could end the
    header block early."""
    value = str(value).replace("\r", " ").replace("\n", " ")
    name = "".join(ch for ch in str(name) if 32 < ord(ch) < 127 and ch != ":") or "X-Unnamed"
    return f"{name}: {value}\r\n".encode("utf-8", "surrogateescape")


def _skeleton(part: dict[str, Any], on_demand: dict[str, int], mime_id: str = "", depth: int = 0) -> bytes:
    """A MIME message rebuilt from a ``format="full"`` payload: each part with its own headers, bodies Gmail sent
    inline decoded and re-encoded as base64, parts Gmail keeps as attachments (``body.attachmentId``) empty.

    ``on_demand`` receives those empty parts' sizes by their MIME part number ("1", "2.1"… as the parser numbers
    them), so the parsed attachment list can say which ones are still on the server."""
    headers = [h for h in part.get("headers") or [] if isinstance(h, dict)]
    mime_type = str(part.get("mimeType") or "text/plain").lower()
    children = part.get("parts") or []
    out = bytearray()
    if mime_type.startswith("multipart/") and children and depth < MAX_PART_DEPTH:
        boundary = ""
        lines = []
        for header in headers:
            if str(header.get("name", "")).lower() == "content-type":
                probe = email.message.Message()
                probe["Content-Type"] = str(header.get("value", ""))
                boundary = probe.get_boundary() or ""
                if not boundary:
                    header = {"name": "Content-Type", "value": f'{mime_type}; boundary="=_gmail_{depth}_{mime_id}"'}
                    boundary = f"=_gmail_{depth}_{mime_id}"
            lines.append(_header_line(header.get("name", ""), header.get("value", "")))
        if not boundary:
            boundary = f"=_gmail_{depth}_{mime_id}"
            lines.append(_header_line("Content-Type", f'{mime_type}; boundary="{boundary}"'))
        out += b"".join(lines) + b"\r\n"
        for index, child in enumerate(children, 1):
            if not isinstance(child, dict):
                continue
            child_id = f"{mime_id}.{index}" if mime_id else str(index)
            out += b"--" + boundary.encode("ascii", "replace") + b"\r\n"
            out += _skeleton(child, on_demand, child_id, depth + 1) + b"\r\n"
        out += b"--" + boundary.encode("ascii", "replace") + b"--\r\n"
        return bytes(out)
    body = part.get("body") or {}
    enclosed = mime_type.startswith("message/")  # a message or header blocks: never base64 (the parser reads it raw)
    for header in headers:
        if str(header.get("name", "")).lower() != "content-transfer-encoding":
            out += _header_line(header.get("name", ""), header.get("value", ""))
    if not any(str(h.get("name", "")).lower() == "content-type" for h in headers) and depth:
        out += _header_line("Content-Type", mime_type)
    out += _header_line("Content-Transfer-Encoding", "8bit" if enclosed else "base64") + b"\r\n"
    if body.get("attachmentId"):
        on_demand[mime_id or "1"] = int(body.get("size") or 0)
        return bytes(out)
    data = _decode_raw(str(body.get("data") or "")) if body.get("data") else b""
    out += data if enclosed else base64.encodebytes(data).replace(b"\n", b"\r\n")
    return bytes(out)


def _chunks(count: int, size: int = STREAM_BATCH) -> Iterator[tuple[int, int]]:
    """Batch bounds. Two batches fit in the first second's quota, so the engine (which reads one page ahead) stores
    the newest messages without waiting for the quota to refill."""
    for start in range(0, count, size):
        yield start, min(count, start + size)


class GmailConnector(Connector):
    kind = "gmail"
    display_name = "Gmail and Google Calendar"
    capabilities = frozenset({
        Capability.MAIL, Capability.CALENDAR, Capability.SEND, Capability.DRAFTS, Capability.LABELS,
        Capability.ATTACHMENTS_ON_DEMAND, Capability.CONTACTS, Capability.VOUCHES_FOR_SENDERS,
    })

    def __init__(self, account: Account, *, credentials: Any = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, rand: Callable[[], float] | None = None,
                 quota_per_second: float | Literal["settings"] | None = "settings",
                 quota_per_minute: float | Literal["settings"] | None = "settings",
                 max_attempts: int = 6, credential_store: Any = None, **options: Any):
        super().__init__(account, credentials=credentials, **options)
        self.calendar_id = account.settings.get("calendar_id", "primary")
        if rand is not None:
            self.backoff = Backoff(sleep=sleep, attempts=max_attempts, rand=rand)
        else:
            self.backoff = Backoff(sleep=sleep, attempts=max_attempts)
        # The account's settings may name a project's own quota (6,000 units/min for projects made after May 2026).
        settings = account.settings
        per_second = settings.get("quota_per_second", 250) if isinstance(quota_per_second, str) else quota_per_second
        per_minute = settings.get("quota_per_minute", 15000) if isinstance(quota_per_minute, str) else quota_per_minute
        self.quota = QuotaBudget(per_second, per_minute, clock=clock, sleep=sleep)
        self.unit_overrides = {"messages.get": int(account.settings["units_per_get"])} if account.settings.get(
            "units_per_get") else {}
        self._credential_store = credential_store
        self._gmail: Any = None
        self._calendar: Any = None
        self._people: Any = None
        self._labels: dict[str, dict[str, Any]] | None = None
        self._session: Any = None
        self.calendar_time_zone = account.settings.get("time_zone", "UTC")

    # -- plumbing -------------------------------------------------------------------------------------------------
    def _credentials(self) -> Any:
        if self.credentials is None or isinstance(self.credentials, str):
            if isinstance(self.credentials, str):
                self.credentials = auth.credentials_from_json(self.credentials)
            else:
                self.credentials = auth.load_credentials(self.account, self._credential_store)
        return self.credentials

    @property
    def gmail(self) -> Any:
        if self._gmail is None:
            self._gmail = build_service("gmail", self._credentials())
        return self._gmail

    @property
    def calendar(self) -> Any:
        if self._calendar is None:
            self._calendar = build_service("calendar", self._credentials())
        return self._calendar

    @property
    def people(self) -> Any:
        if self._people is None:
            self._people = build_service("people", self._credentials())
        return self._people

    def _batch_uri(self, api: str) -> str | None:
        root = auth.api_root()
        if root is None:
            return None
        return root + {"gmail": "batch/gmail/v1", "calendar": "batch/calendar/v3"}[api]

    def _signed_out(self, exc: RefreshError) -> Exception:
        # google-auth raises RefreshError(message, response data): its message, not the tuple's repr
        text = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
        if "invalid_grant" in text or "invalid_client" in text or "unauthorized" in text.lower():
            return NeedsSignIn(f"Google no longer accepts the sign-in of {self.account.address}: sign in again")
        return TransientError(f"could not refresh the Google sign-in: {' '.join(text.split())[:200]}")

    def _failure(self, exc: HttpError, what: str) -> Exception:
        status = exc.resp.status
        reason = error_reason(exc.content)
        message = error_message(exc.content) or exc.reason or f"HTTP {status}"
        text = f"Google answered {status} to {what}: {message}" + (f" ({reason})" if reason else "")
        if status == 401:
            return NeedsSignIn(f"Google no longer accepts the sign-in of {self.account.address}: sign in again")
        if is_retryable(status, exc.content):
            return TransientError(text)
        return PermanentError(text)

    def execute(self, request: HttpRequest, what: str, *, passthrough: Iterable[int] = ()) -> Any:
        """One call with quota pacing and backoff; statuses in ``passthrough`` re-raise the HttpError for the caller."""
        passthrough = set(passthrough)
        attempt = 0
        while True:
            units = units_for(request.methodId or "", self.unit_overrides)
            self.quota.spend(units)
            self.requests_made += 1
            try:
                return request.execute(num_retries=0)
            except HttpError as exc:
                if exc.resp.status in passthrough:
                    raise
                if not is_retryable(exc.resp.status, exc.content) or attempt + 1 >= self.backoff.attempts:
                    raise self._failure(exc, what) from exc
            except RefreshError as exc:
                raise self._signed_out(exc) from exc
            except TRANSPORT_ERRORS as exc:
                if attempt + 1 >= self.backoff.attempts:
                    raise TransientError(f"cannot reach Google for {what}: {exc}") from exc
            finally:
                self.quota.settle(1 if units else 0)
            self.backoff.wait(attempt)
            attempt += 1

    def execute_once(self, request: HttpRequest, what: str) -> Any:
        """A call that must not be carried out twice (sending, creating a draft), over ``requests``.

        httplib2, under google-api-python-client, silently sends a request again when the connection drops before
        the answer (its "stale connection" retry): for a send that is a second copy in the recipients' inboxes. So
        these calls go through google-auth's ``AuthorizedSession``, which never re-sends a POST; the URL and body still
        come from the discovery document. Only a rate-limit refusal is retried here; after a 5xx or a lost answer the
        outbox retries later, and ``apply`` first looks for what it may already have done.
        """
        import requests
        from google.auth.transport.requests import AuthorizedSession

        if self._session is None:
            # google-auth ships py.typed but leaves AuthorizedSession unannotated (the ignore is used under --strict)
            self._session = AuthorizedSession(self._credentials())  # type: ignore[no-untyped-call, unused-ignore]
        attempt = 0
        while True:
            self.quota.spend(units_for(request.methodId or "", self.unit_overrides))
            self.requests_made += 1
            try:
                answer = self._session.request(request.method, request.uri, data=request.body,
                                               headers=request.headers, timeout=60)
            except RefreshError as exc:
                raise self._signed_out(exc) from exc
            except (requests.RequestException, *TRANSPORT_ERRORS) as exc:
                raise TransientError(f"lost the connection to Google while {what}; will check and retry") from exc
            finally:
                self.quota.settle(1)
            if answer.status_code < 300:
                return answer.json() if answer.content else {}
            refused = answer.status_code == 429 or (
                answer.status_code == 403 and is_retryable(403, answer.content))
            if not refused or attempt + 1 >= self.backoff.attempts:
                response = httplib2.Response({"status": answer.status_code})
                raise self._failure(HttpError(response, answer.content, uri=request.uri), what)
            self.backoff.wait(attempt)
            attempt += 1

    def run_batch(self, api: str, requests: dict[str, HttpRequest], what: str
                  ) -> tuple[dict[str, Any], dict[str, HttpError]]:
        """Calls in batches of at most 50; a call that comes back rate-limited or 5xx inside the batch (which the
        library does not retry) is sent again after a backoff. Returns answers and the non-retryable failures by key."""
        answers: dict[str, Any] = {}
        failures: dict[str, HttpError] = {}
        keys = list(requests)
        for start in range(0, len(keys), BATCH_SIZE):
            pending = keys[start:start + BATCH_SIZE]
            attempt = 0
            while pending:
                retry: list[str] = []
                batch = BatchHttpRequest(batch_uri=self._batch_uri(api)) if self._batch_uri(api) else (
                    (self.gmail if api == "gmail" else self.calendar).new_batch_http_request())

                def collect(request_id: str, response: Any, exception: HttpError | None) -> None:
                    if exception is None:
                        answers[request_id] = response
                    elif is_retryable(exception.resp.status, exception.content):
                        retry.append(request_id)
                    else:
                        failures[request_id] = exception

                charged = 0
                for key in pending:
                    units = units_for(requests[key].methodId or "", self.unit_overrides)
                    self.quota.spend(units)
                    charged += 1 if units else 0
                    batch.add(requests[key], callback=collect, request_id=key)
                self.requests_made += 1
                try:
                    batch.execute()
                except HttpError as exc:
                    if not is_retryable(exc.resp.status, exc.content):
                        raise self._failure(exc, what) from exc
                    retry = list(pending)
                except RefreshError as exc:
                    raise self._signed_out(exc) from exc
                except TRANSPORT_ERRORS as exc:
                    retry = list(pending)
                    if attempt + 1 >= self.backoff.attempts:
                        raise TransientError(f"cannot reach Google for {what}: {exc}") from exc
                finally:
                    self.quota.settle(charged)
                if not retry:
                    break
                if attempt + 1 >= self.backoff.attempts:
                    raise TransientError(f"Google kept refusing {what} (rate limit or server error); will retry later")
                self.backoff.wait(attempt)
                attempt += 1
                pending = [key for key in pending if key in retry]
        return answers, failures

    # -- mail: reading --------------------------------------------------------------------------------------------
    def _load_labels(self) -> list[Folder]:
        answer = self.execute(self.gmail.users().labels().list(userId="me"), "listing labels")
        self._labels = {label["id"]: label for label in answer.get("labels", [])}
        return [
            Folder(self.account_id, label["id"], ROLE_NAMES.get(label["id"], label.get("name", label["id"])),
                   ROLES.get(label["id"], ""))
            for label in self._labels.values() if _is_folder_label(label["id"])
        ]

    def _to_message(self, resource: dict[str, Any]) -> tuple[Message, bytes | None] | None:
        """A ``format="full"`` answer as a Message, its attachments on demand (``None`` as the source to store) unless
        Gmail sent them whole; ``None`` when a body part is itself kept as an attachment (a very large text), which
        only the full source can show. A ``format="raw"`` answer is parsed as it is."""
        if "raw" in resource or "payload" not in resource:
            source = _decode_raw(resource.get("raw", ""))
            message = parse_message(source, principal_id=self.account.principal_id, account_id=self.account_id,
                                    remote_id=resource["id"])
            raw: bytes | None = source
        else:
            on_demand: dict[str, int] = {}
            skeleton = _skeleton(resource["payload"] or {}, on_demand)
            message = parse_message(skeleton, principal_id=self.account.principal_id, account_id=self.account_id,
                                    remote_id=resource["id"])
            if resource.get("sizeEstimate"):
                message.size = int(resource["sizeEstimate"])
            if not on_demand:  # everything came inline: the skeleton holds every attachment's content
                raw = skeleton if message.attachments else None
            elif set(on_demand) - {a.part_id for a in message.attachments}:
                return None
            else:
                raw = None
                message.attachments = [
                    replace(a, size=on_demand.get(a.part_id, a.size), part_id=f"gmail:{a.part_id}{ON_DEMAND_SUFFIX}")
                    for a in message.attachments]
        labels = resource.get("labelIds", [])
        message.folders = [label for label in labels if _is_folder_label(label)]
        message.is_read = "UNREAD" not in labels
        message.is_flagged = "STARRED" in labels
        message.remote_thread_id = resource.get("threadId", "")
        if message.date_utc is None and resource.get("internalDate"):
            message.date_utc = datetime.fromtimestamp(int(resource["internalDate"]) / 1000, UTC)
        return message, raw

    def _fetch(self, ids: list[str]) -> tuple[list[tuple[Message, bytes | None]], list[str]]:
        """``ids`` in one batch of ``format="full"`` gets (the same 5 units as ``raw``, without the attachments' bytes);
        the rare message whose body Gmail keeps as an attachment is fetched again whole. Ids the server no longer has
        come back as gone."""
        users = self.gmail.users()
        requests = {rid: users.messages().get(userId="me", id=rid, format="full") for rid in ids}
        answers, failures = self.run_batch("gmail", requests, "fetching messages")
        converted = {rid: self._to_message(answers[rid]) for rid in ids if rid in answers}
        whole = [rid for rid, result in converted.items() if result is None]
        if whole:
            again, more_failures = self.run_batch(
                "gmail", {rid: users.messages().get(userId="me", id=rid, format="raw") for rid in whole},
                "fetching messages")
            failures.update(more_failures)
            converted.update({rid: self._to_message(answer) for rid, answer in again.items()})
        gone = [rid for rid, exc in failures.items() if exc.resp.status in (404, 410)]
        others = [exc for rid, exc in failures.items() if exc.resp.status not in (404, 410)]
        if others:
            raise self._failure(others[0], "fetching messages")
        return [result for rid in ids if (result := converted.get(rid)) is not None], gone

    def mail_changes(self, cursor: str | None) -> Iterator[MailPage]:
        if cursor:
            try:
                first = self.execute(
                    self.gmail.users().history().list(userId="me", startHistoryId=cursor, maxResults=500),
                    "reading mailbox history", passthrough=(404,))
            except HttpError:  # the history id is too old: list everything again; upserts by remote id dedupe
                first = None
            if first is not None:
                yield from self._incremental(cursor, first)
                return
        yield from self._full_listing()

    def _full_listing(self) -> Iterator[MailPage]:
        profile = self.execute(self.gmail.users().getProfile(userId="me"), "reading the mailbox profile")
        history_id = str(profile["historyId"])  # taken first: whatever changes during the listing is in the history
        folders = self._load_labels()
        page_token: str | None = None
        yielded = False
        while True:
            answer = self.execute(
                self.gmail.users().messages().list(userId="me", maxResults=LIST_PAGE, pageToken=page_token),
                "listing messages")
            ids = [m["id"] for m in answer.get("messages", [])]
            page_token = answer.get("nextPageToken")
            for start, end in _chunks(len(ids)):
                fetched, _gone = self._fetch(ids[start:end])
                last = page_token is None and end >= len(ids)
                yield MailPage(folders=folders if not yielded else [], upserted=fetched, full=True,
                               seen=[m.remote_id for m, _ in fetched], cursor=history_id if last else None)
                yielded = True
            if page_token is None:
                break
        if not yielded:
            yield MailPage(folders=folders, full=True, cursor=history_id)

    def _incremental(self, cursor: str, first: dict[str, Any]) -> Iterator[MailPage]:
        changed: dict[str, None] = {}  # ordered set of ids to fetch again
        removed: dict[str, None] = {}
        answer = first
        while True:
            for record in answer.get("history", []):
                for kind in ("messagesAdded", "labelsAdded", "labelsRemoved"):
                    for item in record.get(kind, []):
                        rid = item["message"]["id"]
                        removed.pop(rid, None)
                        changed[rid] = None
                for item in record.get("messagesDeleted", []):
                    rid = item["message"]["id"]
                    changed.pop(rid, None)
                    removed[rid] = None
            history_id = str(answer.get("historyId") or cursor)
            token = answer.get("nextPageToken")
            if not token:
                break
            answer = self.execute(
                self.gmail.users().history().list(userId="me", startHistoryId=cursor, maxResults=500, pageToken=token),
                "reading mailbox history")
        if not changed and not removed:
            yield MailPage(cursor=history_id)
            return
        folders = self._load_labels()
        ids = list(changed)
        newest_first = list(reversed(ids))
        if not newest_first:
            yield MailPage(folders=folders, removed=list(removed), cursor=history_id)
            return
        for start in range(0, len(newest_first), BATCH_SIZE):
            chunk = newest_first[start:start + BATCH_SIZE]
            fetched, gone = self._fetch(chunk)
            last = start + BATCH_SIZE >= len(newest_first)
            yield MailPage(folders=folders if start == 0 else [], upserted=fetched,
                           removed=gone + (list(removed) if last else []), cursor=history_id if last else None)

    def fetch_raw(self, remote_id: str) -> bytes:
        answer = self.execute(self.gmail.users().messages().get(userId="me", id=remote_id, format="raw"),
                              "fetching a message")
        return _decode_raw(answer.get("raw", ""))

    # -- mail: writing --------------------------------------------------------------------------------------------
    def apply(self, entry: OutboxEntry) -> dict[str, Any]:
        handler = {
            "set-flags": self._set_flags, "move": self._move, "send": self._send, "save-draft": self._save_draft,
            "delete-draft": self._delete_draft, "event-create": self._event_create,
            "event-update": self._event_update, "event-delete": self._event_delete,
        }.get(entry.op)
        if handler is None:
            raise PermanentError(f"the Gmail connector cannot do {entry.op!r}")
        return handler(entry)

    def _modify(self, remote_id: str, add: list[str], remove: list[str], what: str) -> dict[str, Any]:
        if not add and not remove:
            return {"remote_id": remote_id}
        try:
            self.execute(self.gmail.users().messages().modify(
                userId="me", id=remote_id, body={"addLabelIds": add, "removeLabelIds": remove}), what,
                passthrough=(404,))
        except HttpError as exc:
            raise PermanentError(f"the message is no longer in the Gmail mailbox ({what})") from exc
        return {"remote_id": remote_id}

    def _set_flags(self, entry: OutboxEntry) -> dict[str, Any]:
        payload = entry.payload
        add: list[str] = []
        remove: list[str] = []
        if "is_read" in payload:
            (remove if payload["is_read"] else add).append("UNREAD")
        if "is_flagged" in payload:
            (add if payload["is_flagged"] else remove).append("STARRED")
        return self._modify(payload["remote_id"], add, remove, "changing flags")

    def _move(self, entry: OutboxEntry) -> dict[str, Any]:
        target = entry.payload["to"]
        by_role = {"inbox": (["INBOX"], ["TRASH", "SPAM"]), "archive": ([], ["INBOX", "TRASH", "SPAM"]),
                   "trash": (["TRASH"], ["INBOX", "SPAM"]), "spam": (["SPAM"], ["INBOX", "TRASH"]),
                   "INBOX": (["INBOX"], ["TRASH", "SPAM"]), "TRASH": (["TRASH"], ["INBOX", "SPAM"]),
                   "SPAM": (["SPAM"], ["INBOX", "TRASH"])}
        if target in by_role:
            add, remove = by_role[target]
        elif target in ("sent", "drafts", "SENT", "DRAFT"):
            raise PermanentError(f"Gmail does not allow moving a message into {target}")
        else:  # a user label: "moving" there files it under the label and out of the inbox
            add, remove = [target], ["INBOX"]
        return self._modify(entry.payload["remote_id"], add, remove, "moving a message")

    def _sent_copy(self, message_id_header: str) -> dict[str, Any] | None:
        """Our message, if Gmail has it as sent: a search hit whose own Message-ID is ours and which is labelled SENT.
        Gmail's search is by words, so a hit is only a candidate; a draft with the same Message-ID is not a sent copy,
        and must not hide one."""
        wanted = _normal_message_id(message_id_header)
        query = f"rfc822msgid:{message_id_header.strip().strip('<>')}"
        answer = self.execute(
            self.gmail.users().messages().list(userId="me", q=query, includeSpamTrash=True, maxResults=10),
            "looking for an already-sent message")
        for found in answer.get("messages", []):
            meta = self.execute(
                self.gmail.users().messages().get(userId="me", id=found["id"], format="metadata",
                                                  metadataHeaders=["Message-ID"]),
                "checking an already-sent message")
            headers = meta.get("payload", {}).get("headers", [])
            ids = [h.get("value", "") for h in headers if str(h.get("name", "")).lower() == "message-id"]
            if "SENT" in meta.get("labelIds", []) and any(_normal_message_id(v) == wanted for v in ids):
                return cast(dict[str, Any], meta)  # a Message resource (JSON object)
        return None

    def _send(self, entry: OutboxEntry) -> dict[str, Any]:
        payload = entry.payload
        raw = _decode_raw(payload["raw"])
        header = payload.get("message_id_header", "")
        if not header:
            raise PermanentError("the outgoing message has no Message-ID; it cannot be sent safely")
        already = self._sent_copy(header)
        if already is not None:
            return {"remote_id": already["id"], "remote_thread_id": already.get("threadId", "")}
        body: dict[str, Any] = {"raw": base64.urlsafe_b64encode(raw).decode("ascii")}
        if payload.get("remote_thread_id"):
            body["threadId"] = payload["remote_thread_id"]
        answer = self.execute_once(self.gmail.users().messages().send(userId="me", body=body), "sending a message")
        return {"remote_id": answer["id"], "remote_thread_id": answer.get("threadId", "")}

    def _save_draft(self, entry: OutboxEntry) -> dict[str, Any]:
        payload = entry.payload
        message: dict[str, Any] = {"raw": base64.urlsafe_b64encode(_decode_raw(payload["raw"])).decode("ascii")}
        if payload.get("remote_thread_id"):
            message["threadId"] = payload["remote_thread_id"]
        drafts = self.gmail.users().drafts()
        draft_id = payload.get("draft_remote_id")
        if draft_id:
            try:
                answer = self.execute(drafts.update(userId="me", id=draft_id, body={"id": draft_id, "message": message}),
                                      "updating a draft", passthrough=(404,))
                return {"draft_remote_id": answer["id"], "remote_id": answer["message"]["id"]}
            except HttpError:
                pass  # deleted on the server meanwhile: create it again
        header = payload.get("message_id_header", "")
        if header:
            query = f"rfc822msgid:{header.strip().strip('<>')}"
            existing = self.execute(drafts.list(userId="me", q=query), "looking for an already-saved draft")
            for draft in existing.get("drafts", []):
                return {"draft_remote_id": draft["id"], "remote_id": draft["message"]["id"]}
        answer = self.execute_once(drafts.create(userId="me", body={"message": message}), "saving a draft")
        return {"draft_remote_id": answer["id"], "remote_id": answer["message"]["id"]}

    def _delete_draft(self, entry: OutboxEntry) -> dict[str, Any]:
        draft_id = entry.payload["draft_remote_id"]
        try:
            self.execute(self.gmail.users().drafts().delete(userId="me", id=draft_id), "deleting a draft",
                         passthrough=(404,))
        except HttpError:
            pass  # already gone
        return {"draft_remote_id": draft_id}

    # -- calendar -------------------------------------------------------------------------------------------------
    def _events_list(self, **params: Any) -> dict[str, Any]:
        request = self.calendar.events().list(calendarId=self.calendar_id, singleEvents=False, **params)
        answer = self.execute(request, "listing calendar events", passthrough=(410,))
        return cast(dict[str, Any], answer)  # an events list resource (a JSON object)

    def calendar_changes(self, cursor: str | None) -> Iterator[CalendarPage]:
        items: list[dict[str, Any]] = []
        full = not cursor
        params: dict[str, Any] = {"maxResults": EVENTS_PAGE}
        if cursor:
            params["syncToken"] = cursor
        while True:
            try:
                answer = self._events_list(**params)
            except HttpError as exc:  # 410: the sync token expired; list everything again
                if full:
                    raise self._failure(exc, "listing calendar events") from exc
                full, items, params = True, [], {"maxResults": EVENTS_PAGE}
                continue
            self.calendar_time_zone = answer.get("timeZone") or self.calendar_time_zone
            items.extend(answer.get("items", []))
            if answer.get("nextPageToken"):
                params["pageToken"] = answer["nextPageToken"]
                continue
            next_token = answer.get("nextSyncToken")
            break
        yield self._calendar_page(items, full=full, cursor=next_token)

    def _calendar_page(self, items: list[dict[str, Any]], *, full: bool, cursor: str | None) -> CalendarPage:
        page = CalendarPage(full=full, cursor=cursor)
        by_uid: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            uid = item.get("iCalUID") or item["id"]
            if item.get("status") == "cancelled" and not item.get("recurringEventId"):
                page.removed.append(item["id"])
                continue
            by_uid.setdefault(uid, []).append(item)
        for uid, components in by_uid.items():
            master = next((c for c in components if not c.get("recurringEventId")), None)
            if not full and (master is None or master.get("recurrence")):
                # A changed occurrence (or series) alone does not make the UID's ics: fetch all its components.
                try:
                    answer = self._events_list(iCalUID=uid, showDeleted=True, maxResults=EVENTS_PAGE)
                    components = answer.get("items", []) or components
                except HttpError:
                    page.errors.append(f"event {uid}: could not read the whole series")
                    continue
            try:
                event = events.to_calendar_event(
                    components, calendar_zone=self.calendar_time_zone, principal_id=self.account.principal_id,
                    account_id=self.account_id, calendar_id=self.calendar_id)
            except (InvalidInput, ValueError, KeyError) as exc:
                page.errors.append(f"event {uid}: {exc}")
                continue
            if event is None:
                if master is not None:
                    page.removed.append(master["id"])
                continue
            page.upserted.append(event)
            page.seen.append(event.remote_id)
        return page

    def _event_create(self, entry: OutboxEntry) -> dict[str, Any]:
        body = events.to_google_event(entry.payload["ics"], self.calendar_time_zone)
        body["id"] = events.event_id_for(entry.idempotency_key)
        try:
            answer = self.execute(self.calendar.events().insert(calendarId=self.calendar_id, body=body),
                                  "creating an event", passthrough=(409,))
        except HttpError:  # 409: created by an earlier attempt that died before it was confirmed
            return {"remote_id": body["id"]}
        return {"remote_id": answer["id"]}

    def _event_update(self, entry: OutboxEntry) -> dict[str, Any]:
        remote_id = entry.payload["remote_id"]
        body = events.to_google_event(entry.payload["ics"], self.calendar_time_zone)
        body.pop("iCalUID", None)
        try:
            answer = self.execute(self.calendar.events().patch(calendarId=self.calendar_id, eventId=remote_id,
                                                               body=body), "updating an event", passthrough=(404, 410))
        except HttpError as exc:
            raise PermanentError("the event no longer exists in Google Calendar") from exc
        return {"remote_id": answer["id"]}

    def _event_delete(self, entry: OutboxEntry) -> dict[str, Any]:
        remote_id = entry.payload["remote_id"]
        try:
            self.execute(self.calendar.events().delete(calendarId=self.calendar_id, eventId=remote_id),
                         "deleting an event", passthrough=(404, 410))
        except HttpError:
            pass  # already deleted
        return {"remote_id": remote_id}

    def free_busy(self, addresses: list[str], start: datetime, end: datetime
                  ) -> dict[str, list[tuple[datetime, datetime, str]]]:
        """Busy intervals (UTC start, end, "busy") per address, for the slot finder: ``freebusy.query``.

        An address Google will not show (another domain, not shared) gets no intervals rather than failing the rest.
        """
        def rfc3339(moment: datetime) -> str:
            return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

        answer = self.execute(self.calendar.freebusy().query(body={
            "timeMin": rfc3339(start), "timeMax": rfc3339(end), "items": [{"id": a} for a in addresses],
        }), "reading free/busy")
        busy: dict[str, list[tuple[datetime, datetime, str]]] = {a: [] for a in addresses}
        for address, calendar in (answer.get("calendars") or {}).items():
            intervals = busy.setdefault(address, [])
            for item in calendar.get("busy", []):
                intervals.append((datetime.fromisoformat(item["start"].replace("Z", "+00:00")).astimezone(UTC),
                                  datetime.fromisoformat(item["end"].replace("Z", "+00:00")).astimezone(UTC),
                                  "busy"))
            intervals.sort()
        return busy

    # -- contacts -------------------------------------------------------------------------------------------------
    def contacts_changes(self, cursor: str | None) -> Iterator[ContactsPage]:
        """``people.connections.list`` with its sync token; an expired token (410, or 400 ``EXPIRED_SYNC_TOKEN``
        after seven days) lists everything again, and the engine drops what that listing did not show."""
        full = not cursor
        while True:
            try:
                yield from self._connections(None if full else cursor)
                return
            except HttpError as exc:
                expired = exc.resp.status == 410 or (
                    exc.resp.status == 400 and b"EXPIRED_SYNC_TOKEN" in (exc.content or b""))
                if full or not expired:
                    raise self._failure(exc, "listing contacts") from exc
                full = True

    def _connections(self, sync_token: str | None) -> Iterator[ContactsPage]:
        params: dict[str, Any] = {"resourceName": "people/me", "personFields": PERSON_FIELDS,
                                  "pageSize": CONTACTS_PAGE, "requestSyncToken": True}
        if sync_token:
            params["syncToken"] = sync_token
        pages: list[ContactsPage] = []
        while True:
            answer = self.execute(self.people.people().connections().list(**params), "listing contacts",
                                  passthrough=(400, 410))
            page = ContactsPage(full=sync_token is None)
            for person in answer.get("connections", []):
                if (person.get("metadata") or {}).get("deleted"):
                    page.removed.append(person["resourceName"])
                    continue
                page.upserted.append(_remote_contact(person))
                page.seen.append(person["resourceName"])
            pages.append(page)
            if not answer.get("nextPageToken"):
                page.cursor = answer.get("nextSyncToken")
                break
            params["pageToken"] = answer["nextPageToken"]
        # Held back until the listing is complete: an expired token can only be found out on its first page, and the
        # engine must not mix pages of an incremental pass into the full listing that replaces it.
        yield from pages

    # -- the rest -------------------------------------------------------------------------------------------------
    def health(self) -> str:
        try:
            profile = self.execute(self.gmail.users().getProfile(userId="me"), "reading the mailbox profile")
        except NeedsSignIn as exc:
            return str(exc)
        except (TransientError, PermanentError) as exc:
            return f"unreachable: {exc}"
        return f"ok: signed in as {profile.get('emailAddress', self.account.address)}"

    def close(self) -> None:
        for service in (self._gmail, self._calendar, self._people):
            if service is not None:
                service.close()
        self._gmail = self._calendar = self._people = None
        if self._session is not None:
            self._session.close()
            self._session = None


def _remote_contact(person: dict[str, Any]) -> RemoteContact:
    def values(key: str) -> list[str]:
        return [str(item.get("value") or "") for item in person.get(key) or [] if item.get("value")]

    names = person.get("names") or []
    primary = next((n for n in names if (n.get("metadata") or {}).get("primary")), names[0] if names else {})
    return RemoteContact(remote_id=person["resourceName"], name=str(primary.get("displayName") or ""),
                         emails=values("emailAddresses"), phones=values("phoneNumbers"))
