"""The Outlook / Microsoft 365 connector: mail and calendar over Microsoft Graph v1.0 (see ``base.py`` for the terms).

Mail cursor (JSON): the deltaLink of every tracked folder, the folder roles, and the folder-tree deltaLink (checked at
most every ``folder_refresh_s`` so a no-change pass costs one request per folder). Calendar cursor (JSON): the
calendarView deltaLink, its window, and which series each occurrence id belongs to (so a removed occurrence rebuilds its
series instead of being lost).
"""
from __future__ import annotations

import json
import threading
import time
import zoneinfo
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict, cast
from urllib.parse import quote

from dateutil.rrule import rrulestr

from assistant.connectors.base import CalendarPage, Capability, Connector, ContactsPage, MailPage
from assistant.connectors.outlook import mapping
from assistant.connectors.outlook.auth import TokenProvider, graph_root
from assistant.connectors.outlook.graph import MAX_WAIT_S, GraphClient, GraphError, SyncStateNotFound
from assistant.core.errors import InvalidInput, PermanentError, TransientError
from assistant.domain import Account, CalendarEvent, Folder, Message, OutboxEntry, RemoteContact

UTC = UTC
PAGE_SIZE = 100
CURSOR_VERSION = 1
# A named property of our own on drafts: the outbox entry's idempotency key, so a retry finds what it already did.
IDEMPOTENCY_PROPERTY = "String {5d7f6a1e-2f4b-4c31-9a0e-6f1d2b8c7e41} Name AssistantIdempotencyKey"
DEFERRED_SEND_PROPERTY = "SystemTime 0x3FEF"  # PidTagDeferredSendTime: Exchange holds the message until then
UTC_PREFER = 'outlook.timezone="UTC"'
PAGE_PREFER = f"odata.maxpagesize={PAGE_SIZE}"
CONTACT_FIELDS = "displayName,emailAddresses,businessPhones,homePhones,mobilePhone"


class _Ids(TypedDict):
    principal_id: int
    account_id: int


class OutlookConnector(Connector):
    kind = "outlook"
    display_name = "Outlook / Microsoft 365"
    capabilities = frozenset({
        Capability.MAIL, Capability.CALENDAR, Capability.SEND, Capability.DRAFTS,
        Capability.SERVER_SCHEDULED_SEND, Capability.ATTACHMENTS_ON_DEMAND, Capability.CONTACTS,
        Capability.VOUCHES_FOR_SENDERS,
    })

    def __init__(self, account: Account, *, credentials: Any = None, **options: Any):
        """Options: ``sleep`` and ``clock`` (injected for tests), ``graph_root``, ``max_concurrency`` (4),
        ``max_wait_s`` (60: a longer throttling hold ends the pass as a TransientError), ``folder_refresh_s``
        (3600), ``calendar_past_days`` (90), ``calendar_future_days`` (365). Account settings: ``client_id``,
        ``tenant``, ``home_account_id``, ``authority``; ``mailbox`` (an address) syncs a mailbox shared with the
        signed-in user through ``/users/{address}`` instead of ``/me``."""
        super().__init__(account, credentials=credentials, **options)
        self._count_lock = threading.Lock()
        self._tokens: TokenProvider | None = None
        mailbox = account.settings.get("mailbox")
        self.client = GraphClient(
            options.get("graph_root") or graph_root(),
            self._token,
            sleep=options.get("sleep") or time.sleep,
            clock=options.get("clock") or time.monotonic,
            max_wait=float(options.get("max_wait_s", MAX_WAIT_S)),
            max_concurrency=int(options.get("max_concurrency", 4)),
            on_request=self._count_request,
            mailbox=f"/users/{quote(mailbox, safe='@')}" if mailbox else "/me",
        )
        self.folder_refresh_s = float(options.get("folder_refresh_s", 3600))
        self.calendar_past = timedelta(days=int(options.get("calendar_past_days", 90)))
        self.calendar_future = timedelta(days=int(options.get("calendar_future_days", 365)))

    # -- plumbing ------------------------------------------------------------------------------------------------
    def _count_request(self) -> None:
        with self._count_lock:
            self.requests_made += 1

    def _token(self, force_refresh: bool) -> str:
        if self._tokens is None:
            self._tokens = TokenProvider(self.account, self.credentials)
        return self._tokens.token(force_refresh)

    def _ids(self) -> _Ids:
        return {"principal_id": self.account.principal_id, "account_id": self.account.id}

    def close(self) -> None:
        self.client.close()
        if self._tokens is not None:
            self._tokens.close()

    def health(self) -> str:
        try:
            self.client.refresh_token()
        except Exception as exc:  # one line for `assistant doctor`, whatever went wrong
            return " ".join(str(exc).split()) or type(exc).__name__
        return "ok"

    # -- contacts --------------------------------------------------------------------------------------------------
    def contacts_changes(self, cursor: str | None) -> Iterator[ContactsPage]:
        """``/me/contacts/delta``; the cursor is its deltaLink. An expired one (410 syncStateNotFound) lists
        everything again, and the engine drops what that listing did not show."""
        self.client.refresh_token()
        if cursor:
            try:
                yield from self._contact_pages(cursor, full=False)
                return
            except SyncStateNotFound:
                pass
        yield from self._contact_pages(f"/me/contacts/delta?$select={CONTACT_FIELDS}", full=True)

    def _contact_pages(self, link: str, *, full: bool) -> Iterator[ContactsPage]:
        for items, _next, delta in self.client.pages(link, prefer=[PAGE_PREFER]):
            page = ContactsPage(full=full, cursor=delta)
            for item in items:
                if "@removed" in item:
                    page.removed.append(item["id"])
                    continue
                phones = [*(item.get("businessPhones") or []), *(item.get("homePhones") or []),
                          *([item["mobilePhone"]] if item.get("mobilePhone") else [])]
                emails = [e.get("address") or "" for e in item.get("emailAddresses") or []]
                page.upserted.append(RemoteContact(remote_id=item["id"], name=item.get("displayName") or "",
                                                   emails=[e for e in emails if e], phones=phones))
                page.seen.append(item["id"])
            yield page

    # -- mail ------------------------------------------------------------------------------------------------------
    def mail_changes(self, cursor: str | None) -> Iterator[MailPage]:
        self.client.refresh_token()
        state = _load(cursor)
        if state is None:
            yield from self._full_mail()
            return
        try:
            yield from self._incremental_mail(state)
        except SyncStateNotFound:
            yield from self._full_mail()

    def _folder_tree(self, link: str | None) -> tuple[list[dict[str, Any]], str]:
        items: list[dict[str, Any]] = []
        delta_link = ""
        for page, _next, delta in self.client.pages(link or "/me/mailFolders/delta", prefer=[PAGE_PREFER]):
            items += page
            delta_link = delta or delta_link
        return items, delta_link

    def _roles(self) -> dict[str, str]:
        answers = self.client.batch([
            {"id": name, "method": "GET", "url": f"/me/mailFolders/{name}?$select=id"}
            for name in mapping.ROLE_BY_WELL_KNOWN
        ])
        roles = {}
        for name, response in answers.items():
            if response.get("status") == 200 and isinstance(response.get("body"), dict):
                roles[response["body"]["id"]] = mapping.ROLE_BY_WELL_KNOWN[name]
        return roles

    def _folder(self, item: dict[str, Any], roles: dict[str, str]) -> Folder:
        return Folder(account_id=self.account.id or 0, remote_id=item["id"], name=item.get("displayName") or "",
                      role=roles.get(item["id"], ""))

    @staticmethod
    def _trackable(item: dict[str, Any]) -> bool:
        return "@removed" not in item and "mailSearchFolder" not in (item.get("@odata.type") or "")

    def _folder_delta_url(self, folder_id: str) -> str:
        return f"/me/mailFolders/{quote(folder_id, safe='')}/messages/delta?$select={mapping.MESSAGE_FIELDS}"

    def _full_mail(self) -> Iterator[MailPage]:
        tree, tree_link = self._folder_tree(None)
        roles = self._roles()
        folders = [self._folder(f, roles) for f in tree if self._trackable(f)]
        order = {"inbox": 0, "sent": 1, "drafts": 2, "archive": 3}
        folders.sort(key=lambda f: order.get(f.role, 9))  # newest mail usable first
        links: dict[str, str] = {}
        first = True
        for folder in folders:
            for items, _next, delta in self.client.pages(self._folder_delta_url(folder.remote_id), prefer=[PAGE_PREFER]):
                messages = [self._message(i) for i in items if "@removed" not in i]
                yield MailPage(
                    folders=folders if first else [],
                    upserted=[(m, None) for m in messages],
                    full=True,
                    seen=[m.remote_id for m in messages],
                )
                first = False
                if delta:
                    links[folder.remote_id] = delta
        state = {"v": CURSOR_VERSION, "folders": links, "roles": roles, "tree": tree_link, "tree_checked": time.time()}
        yield MailPage(folders=folders if first else [], full=True, cursor=json.dumps(state))

    def _message(self, item: dict[str, Any]) -> Message:
        return mapping.message_from_graph(item, **self._ids())

    def _incremental_mail(self, state: dict[str, Any]) -> Iterator[MailPage]:
        links: dict[str, str | None] = dict(state["folders"])
        roles: dict[str, str] = state.get("roles", {})
        changed_folders: list[Folder] = []
        if time.time() - float(state.get("tree_checked", 0)) >= self.folder_refresh_s:
            tree, state["tree"] = self._folder_tree(state.get("tree"))
            state["tree_checked"] = time.time()
            if any("@removed" in item and item["id"] in links for item in tree):
                # Its messages vanish without an @removed of their own: only a full listing can tell which.
                raise SyncStateNotFound("a tracked folder was deleted")
            for item in tree:
                if "@removed" in item:
                    continue
                if self._trackable(item):
                    links.setdefault(item["id"], None)
                    changed_folders.append(self._folder(item, roles))

        def follow(folder_id: str) -> tuple[str, list[dict[str, Any]], str]:
            url = links[folder_id] or self._folder_delta_url(folder_id)
            items: list[dict[str, Any]] = []
            delta_link = ""
            for page, _next, delta in self.client.pages(url, prefer=[PAGE_PREFER]):
                items += page
                delta_link = delta or delta_link
            return folder_id, items, delta_link

        upserted: dict[str, Message] = {}
        removed: set[str] = set()
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="outlook-delta") as pool:
            results = list(pool.map(follow, list(links)))
        for folder_id, items, delta_link in results:
            links[folder_id] = delta_link
            page = MailPage(folders=changed_folders)
            changed_folders = []
            for item in items:
                if "@removed" in item:
                    removed.add(item["id"])
                else:
                    message = self._message(item)
                    upserted[message.remote_id] = message
                    page.upserted.append((message, None))
            if page.upserted or page.folders:
                yield page
        # A message moved between folders shows as removed in one and added in the other (same immutable id). If the
        # other folder was read before the move, only the removal is seen now: ask the server before deleting.
        maybe_removed = sorted(removed - set(upserted))
        really_removed, moved = self._check_removed(maybe_removed)
        state["folders"] = links
        yield MailPage(
            upserted=[(m, None) for m in moved],
            removed=really_removed,
            cursor=json.dumps(state),
        )

    def _check_removed(self, remote_ids: list[str]) -> tuple[list[str], list[Message]]:
        if not remote_ids:
            return [], []
        answers = self.client.batch([
            {"id": str(n), "method": "GET",
             "url": f"/me/messages/{quote(rid, safe='')}?$select={mapping.MESSAGE_FIELDS}"}
            for n, rid in enumerate(remote_ids)
        ])
        gone, moved = [], []
        for n, rid in enumerate(remote_ids):
            response = answers.get(str(n), {})
            if response.get("status") == 200 and isinstance(response.get("body"), dict):
                moved.append(self._message(response["body"]))
            elif response.get("status") == 404:
                gone.append(rid)
            else:  # the pass is retried from the old cursor: nothing is removed on a guess
                raise TransientError(
                    f"Microsoft Graph did not say whether message {rid} still exists (HTTP {response.get('status')})")
        return gone, moved

    def fetch_raw(self, remote_id: str) -> bytes:
        self.client.refresh_token()
        source = self.client.request("GET", f"/me/messages/{quote(remote_id, safe='')}/$value", raw=True)
        return cast(bytes, source)  # raw=True: the answer's bytes

    # -- calendar ------------------------------------------------------------------------------------------------
    def calendar_changes(self, cursor: str | None) -> Iterator[CalendarPage]:
        self.client.refresh_token()
        state = _load(cursor)
        now = datetime.now(UTC)
        if state is not None:
            window_start = datetime.fromisoformat(state["window"][0])
            if window_start < now - self.calendar_past - timedelta(days=7):
                state = None  # roll the window forward: list it afresh
        if state is None:
            yield from self._calendar_pass(None, now)
            return
        try:
            yield from self._calendar_pass(state, now)
        except SyncStateNotFound:
            yield from self._calendar_pass(None, now)

    def _calendar_pass(self, state: dict[str, Any] | None, now: datetime) -> Iterator[CalendarPage]:
        full = state is None
        if state is None:
            start, end = now - self.calendar_past, now + self.calendar_future
            state = {"v": CURSOR_VERSION, "window": [start.isoformat(), end.isoformat()], "instances": {}}
            url = "/me/calendarView/delta"
            params: dict[str, str] | None = {
                "startDateTime": mapping.graph_time(start) + "Z", "endDateTime": mapping.graph_time(end) + "Z"}
        else:
            url, params = state["delta"], None
        instances: dict[str, str] = state["instances"]
        window = (datetime.fromisoformat(state["window"][0]), datetime.fromisoformat(state["window"][1]))
        body = self.client.request("GET", url, params=params, prefer=[UTC_PREFER, PAGE_PREFER])
        while True:
            page = CalendarPage(full=full)
            series: set[str] = set()
            for item in body.get("value", []):
                if "@removed" in item:
                    master = instances.pop(item["id"], None)
                    if master:
                        series.add(master)
                    else:
                        page.removed.append(item["id"])
                elif item.get("seriesMasterId"):
                    instances[item["id"]] = item["seriesMasterId"]
                    series.add(item["seriesMasterId"])
                elif item.get("type") == "seriesMaster":
                    series.add(item["id"])
                else:
                    try:
                        page.upserted.append(mapping.event_from_graph(item, **self._ids()))
                    except (ValueError, KeyError) as exc:
                        page.errors.append(f"event {item.get('id')}: {' '.join(str(exc).split())}")
            events, gone, errors = self._series(sorted(series), window)
            page.upserted += events
            page.removed += gone
            page.errors += errors
            page.seen = [e.remote_id for e in page.upserted]
            next_link, delta_link = body.get("@odata.nextLink"), body.get("@odata.deltaLink")
            if next_link is None:
                state["delta"] = delta_link
                page.cursor = json.dumps(state)
                yield page
                return
            yield page
            body = self.client.request("GET", next_link, prefer=[UTC_PREFER, PAGE_PREFER])

    def _series(
        self, master_ids: list[str], window: tuple[datetime, datetime]
    ) -> tuple[list[CalendarEvent], list[str], list[str]]:
        """Each touched series rebuilt whole: master + exceptions + cancelled occurrences, two requests per series in
        ``$batch``."""
        if not master_ids:
            return [], [], []
        span = {"startDateTime": mapping.graph_time(window[0]) + "Z", "endDateTime": mapping.graph_time(window[1]) + "Z"}
        calls = []
        for n, master_id in enumerate(master_ids):
            quoted = quote(master_id, safe="")
            calls.append({"id": f"m{n}", "method": "GET", "url": f"/me/events/{quoted}"})
            calls.append({"id": f"i{n}", "method": "GET",
                          "url": f"/me/events/{quoted}/instances?startDateTime={span['startDateTime']}"
                                 f"&endDateTime={span['endDateTime']}&$top=1000"})
        answers = self.client.batch(calls, prefer=[UTC_PREFER])
        events, gone, errors = [], [], []
        for n, master_id in enumerate(master_ids):
            master, listed = answers.get(f"m{n}", {}), answers.get(f"i{n}", {})
            if master.get("status") == 404:
                gone.append(master_id)
                continue
            if master.get("status") != 200 or listed.get("status") != 200:
                errors.append(f"series {master_id}: Microsoft Graph answered {master.get('status')}/{listed.get('status')}")
                continue
            occurrences = listed["body"].get("value", [])
            exceptions = [o for o in occurrences if o.get("type") == "exception"]
            try:
                cancelled = self._cancelled(master["body"], occurrences, window)
                events.append(mapping.event_from_graph(
                    master["body"], exceptions=exceptions, cancelled=cancelled, **self._ids()))
            except (ValueError, KeyError) as exc:
                errors.append(f"series {master_id}: {' '.join(str(exc).split())}")
        return events, gone, errors

    @staticmethod
    def _cancelled(master: dict[str, Any], occurrences: list[dict[str, Any]], window: tuple[datetime, datetime]) -> list[datetime]:
        """Occurrences the rule makes inside the window that the server no longer lists (deleted single occurrences)."""
        probe = mapping.event_from_graph(master, principal_id=0, account_id=0)
        if not probe.rrule or probe.start_utc is None:
            return []
        zone = zoneinfo.ZoneInfo(probe.timezone or "UTC")
        local_start = probe.start_utc.astimezone(zone)
        rule = rrulestr(probe.rrule, dtstart=local_start)
        listed = {
            mapping.parse_graph_time(o.get("originalStart")) or mapping.parse_graph_time((o.get("start") or {}).get("dateTime"))
            for o in occurrences
        }
        expected = rule.between(window[0].astimezone(zone), window[1].astimezone(zone), inc=True)
        return [when for when in expected if when.astimezone(UTC) not in listed]

    def free_busy(
        self, addresses: list[str], start: datetime, end: datetime
    ) -> dict[str, list[tuple[datetime, datetime, str]]]:
        """Busy intervals (UTC start, end, status) per address, for the slot finder: ``calendar/getSchedule``."""
        self.client.refresh_token()
        answer = self.client.request("POST", "/me/calendar/getSchedule", prefer=[UTC_PREFER], json_body={
            "schedules": list(addresses),
            "startTime": {"dateTime": mapping.graph_time(start), "timeZone": "UTC"},
            "endTime": {"dateTime": mapping.graph_time(end), "timeZone": "UTC"},
            "availabilityViewInterval": 30,
        })
        busy: dict[str, list[tuple[datetime, datetime, str]]] = {a: [] for a in addresses}
        for schedule in (answer or {}).get("value", []):
            intervals = busy.setdefault(schedule.get("scheduleId", ""), [])
            for item in schedule.get("scheduleItems") or []:
                begin, finish = mapping.zoned_time(item.get("start")), mapping.zoned_time(item.get("end"))
                if begin and finish and item.get("status") != "free":
                    intervals.append((begin, finish, item.get("status", "busy")))
            intervals.sort()
        return busy

    # -- outbox ------------------------------------------------------------------------------------------------------
    def apply(self, entry: OutboxEntry) -> dict[str, Any]:
        self.client.refresh_token()
        handler = {
            "set-flags": self._set_flags,
            "move": self._move,
            "send": self._send,
            "save-draft": self._save_draft,
            "delete-draft": self._delete_draft,
            "event-create": self._event_create,
            "event-update": self._event_update,
            "event-delete": self._event_delete,
        }.get(entry.op)
        if handler is None:
            raise PermanentError(f"the Outlook connector cannot do {entry.op!r}")
        return handler(entry)

    @staticmethod
    def _message_url(remote_id: str) -> str:
        return f"/me/messages/{quote(remote_id, safe='')}"

    def _set_flags(self, entry: OutboxEntry) -> dict[str, Any]:
        payload = entry.payload
        patch: dict[str, Any] = {}
        if payload.get("is_read") is not None:
            patch["isRead"] = bool(payload["is_read"])
        if payload.get("is_flagged") is not None:
            patch["flag"] = {"flagStatus": "flagged" if payload["is_flagged"] else "notFlagged"}
        if payload.get("categories") is not None:
            patch["categories"] = list(payload["categories"])
        if not patch:
            return {"remote_id": payload["remote_id"]}
        try:
            self.client.request("PATCH", self._message_url(payload["remote_id"]), json_body=patch)
        except GraphError as exc:
            if exc.status == 404:  # deleted on the server meanwhile: nothing left to flag
                return {"remote_id": payload["remote_id"], "gone": True}
            raise
        return {"remote_id": payload["remote_id"]}

    def _move(self, entry: OutboxEntry) -> dict[str, Any]:
        payload = entry.payload
        destination = mapping.WELL_KNOWN_BY_ROLE.get(payload["to"], payload["to"])
        moved = self.client.request("POST", self._message_url(payload["remote_id"]) + "/move",
                                    json_body={"destinationId": destination})
        return {"remote_id": (moved or {}).get("id", payload["remote_id"])}

    def _find_by_key(self, key: str) -> dict[str, Any] | None:
        escaped = key.replace("'", "''")
        body = self.client.request("GET", "/me/messages", params={
            "$filter": f"singleValueExtendedProperties/Any(ep: ep/id eq '{IDEMPOTENCY_PROPERTY}' and ep/value eq '{escaped}')",
            "$select": "id,isDraft,parentFolderId",
        })
        found = (body or {}).get("value", [])
        return found[0] if found else None

    def _find_by_header(self, message_id_header: str) -> str | None:
        escaped = message_id_header.replace("'", "''")
        body = self.client.request("GET", "/me/messages", params={
            "$filter": f"internetMessageId eq '{escaped}'", "$select": "id"})
        found = (body or {}).get("value", [])
        return found[0]["id"] if found else None

    def _draft_fields(self, entry: OutboxEntry) -> tuple[dict[str, Any], str]:
        if not entry.payload.get("raw"):
            raise InvalidInput("the message has no content to send")
        fields, in_reply_to = mapping.message_to_graph(entry.payload["raw"])
        props = [{"id": IDEMPOTENCY_PROPERTY, "value": entry.idempotency_key}]
        send_at = entry.payload.get("send_at")
        if send_at:
            when = datetime.fromisoformat(str(send_at).replace("Z", "+00:00"))
            if when.tzinfo is None:
                raise InvalidInput(f"send_at must carry a time zone: {send_at!r}")
            props.append({"id": DEFERRED_SEND_PROPERTY, "value": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")})
        fields["singleValueExtendedProperties"] = props
        return fields, in_reply_to

    def _create_draft(self, entry: OutboxEntry) -> str:
        fields, in_reply_to = self._draft_fields(entry)
        reply_to = entry.payload.get("reply_to_remote_id") or (in_reply_to and self._find_by_header(in_reply_to))
        if reply_to:
            action = "createReplyAll" if entry.payload.get("reply_all") else "createReply"
            # Recipients, subject and body come from our source; the server threads it in the conversation.
            draft = self.client.request("POST", f"{self._message_url(reply_to)}/{action}", json_body={"message": fields})
        else:
            if entry.payload.get("message_id_header"):
                fields["internetMessageId"] = entry.payload["message_id_header"]
            draft = self.client.request("POST", "/me/messages", json_body=fields)
        return cast(str, draft["id"])  # a Graph message (JSON): its id is a string

    def _send(self, entry: OutboxEntry) -> dict[str, Any]:
        existing = self._find_by_key(entry.idempotency_key)
        if existing is not None and not mapping.truthy(existing.get("isDraft")):
            return {"remote_id": existing["id"], "already_sent": True}
        if existing is not None:
            draft_id = existing["id"]
        elif entry.payload.get("draft_remote_id"):
            # A draft saved on the server earlier: send that one (tagged first), not a copy beside it.
            draft_id = entry.payload["draft_remote_id"]
            fields, _ = self._draft_fields(entry)
            fields.pop("attachments", None)
            self.client.request("PATCH", self._message_url(draft_id), json_body=fields)
        else:
            draft_id = self._create_draft(entry)
        self.client.request("POST", f"{self._message_url(draft_id)}/send")
        result: dict[str, Any] = {"remote_id": draft_id}
        if entry.payload.get("send_at"):
            result["scheduled"] = str(entry.payload["send_at"])
        return result

    def _save_draft(self, entry: OutboxEntry) -> dict[str, Any]:
        draft_id = entry.payload.get("draft_remote_id")
        if draft_id:
            fields, _ = self._draft_fields(entry)
            fields.pop("attachments", None)  # attachments are added once, at creation
            fields.pop("singleValueExtendedProperties", None)  # keep the tag it was created under
            self.client.request("PATCH", self._message_url(draft_id), json_body=fields)
            return {"draft_remote_id": draft_id}
        existing = self._find_by_key(entry.idempotency_key)
        if existing is not None:
            return {"draft_remote_id": existing["id"]}
        return {"draft_remote_id": self._create_draft(entry)}

    def _delete_draft(self, entry: OutboxEntry) -> dict[str, Any]:
        try:
            self.client.request("DELETE", self._message_url(entry.payload["draft_remote_id"]))
        except GraphError as exc:
            if exc.status != 404:
                raise
        return {}

    def _event_create(self, entry: OutboxEntry) -> dict[str, Any]:
        body = mapping.event_to_graph(entry.payload["ics"])
        body["transactionId"] = entry.idempotency_key  # Graph's own guard against a retried POST creating twice
        created = self.client.request("POST", "/me/events", json_body=body, prefer=[UTC_PREFER])
        return {"remote_id": created["id"]}

    def _event_update(self, entry: OutboxEntry) -> dict[str, Any]:
        remote_id = entry.payload.get("remote_id")
        if not remote_id:
            return self._event_create(entry)
        body = mapping.event_to_graph(entry.payload["ics"])
        self.client.request("PATCH", f"/me/events/{quote(remote_id, safe='')}", json_body=body, prefer=[UTC_PREFER])
        return {"remote_id": remote_id}

    def _event_delete(self, entry: OutboxEntry) -> dict[str, Any]:
        try:
            self.client.request("DELETE", f"/me/events/{quote(entry.payload['remote_id'], safe='')}")
        except GraphError as exc:
            if exc.status != 404:
                raise
        return {}


def _load(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        state = json.loads(cursor)
    except ValueError:
        return None
    if not isinstance(state, dict) or state.get("v") != CURSOR_VERSION:
        return None
    return state
