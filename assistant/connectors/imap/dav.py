"""Calendars over CalDAV (RFC 4791) and address books over CardDAV (RFC 6352), for the IMAP connector to delegate to.

:class:`DavCalendars` implements the calendar and contact half of the connector contract (``calendar_changes``,
``contacts_changes`` and the ``event-*`` ops of ``apply``) for one account on one DAV server.

- **Discovery** with the ``caldav`` library: the URL the user gave (a server root, a ``/.well-known/caldav`` or a
  principal) → ``current-user-principal`` → ``calendar-home-set`` → every calendar in it that holds events; for
  contacts the same principal's ``addressbook-home-set`` → every address book.
- **Changes**: a ``sync-collection`` REPORT (RFC 6578) per collection with the token of the last pass; a server that
  offers no token (or has forgotten ours) is listed with its ETags and compared with the ones we hold. What changed is
  read with one ``*-multiget`` REPORT per hundred objects, each object's data and ETag together, and handed on as one
  page per batch, so a calendar of any size costs a batch of memory.
- **State**: per collection the sync token and, per object (href), the ETag and a hash of the content we last read,
  as vdirsyncer keeps both (a changed ETag with the same content is no change). It is plain JSON: every calendar
  page's cursor is the whole calendar state, every contacts page's the contacts state, so the engine saves it with
  the page. ``DavCalendars(state=...)`` takes the saved calendar cursor (or both, as a dict) back; writes need it to
  know the ETag their edit was based on.
- **Writes** (``event-create``/``-update``/``-delete``): a create PUTs ``<uid>.ics`` with ``If-None-Match: *`` (a retry
  that finds its own event there is done); an update or delete sends ``If-Match`` with the ETag we hold. A ``412`` reads
  the object again: when its content is still what we last read (only the ETag moved) the write is retried once with
  the new ETag; when someone changed it, the write fails with one line and the server's version stays — nothing here
  overwrites the other side.
- **Events** are read by ``assistant.calendar.ics`` exactly as the local connector reads them: one ``CalendarEvent``
  per UID, master and overrides and their VTIMEZONEs kept in ``ics`` (times stored in UTC, the TZID kept). An object
  that cannot be read is one line in ``CalendarPage.errors`` and is skipped; the rest of the pass goes on, and the copy
  we already hold of it is kept.

Remote ids are the objects' hrefs (URL paths), unique across the account's calendars; ``calendar_id`` is the
calendar's path.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any, TypeVar, cast
from urllib.parse import quote, unquote, urljoin, urlsplit
from xml.sax.saxutils import escape

import caldav
import requests
from caldav.davclient import DAVResponse
from caldav.lib import error as dav_error

from assistant.calendar.ics import parse_calendar
from assistant.connectors.base import CalendarPage, ContactsPage
from assistant.core.errors import NeedsSignIn, PermanentError, TransientError
from assistant.domain import CalendarEvent, OutboxEntry, RemoteContact

_PageT = TypeVar("_PageT", CalendarPage, ContactsPage)

EVENT_OPS = frozenset({"event-create", "event-update", "event-delete"})
MULTIGET_BATCH = 100
MAX_SYNC_ROUNDS = 1000  # truncated sync-collection answers followed in one pass
STATE_VERSION = 1

_D = "DAV:"
_C = "urn:ietf:params:xml:ns:caldav"
_CR = "urn:ietf:params:xml:ns:carddav"
_SAFE_NAME = re.compile(r"[A-Za-z0-9@._+-]{1,200}")

_SYNC_COLLECTION = """<?xml version="1.0" encoding="utf-8"?>
<D:sync-collection xmlns:D="DAV:"><D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level>
<D:prop><D:getetag/></D:prop></D:sync-collection>"""
_PROPFIND_ETAGS = """<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:resourcetype/></D:prop></D:propfind>"""
_MULTIGET = """<?xml version="1.0" encoding="utf-8"?>
<X:{report} xmlns:D="DAV:" xmlns:X="{ns}"><D:prop><D:getetag/><X:{data}/></D:prop>{hrefs}</X:{report}>"""
_PROPFIND_ADDRESSBOOK_HOME = """<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><D:prop><CR:addressbook-home-set/></D:prop>
</D:propfind>"""
_PROPFIND_COLLECTIONS = """<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:displayname/></D:prop></D:propfind>"""


def _sha(text: str) -> str:
    return hashlib.sha256(text.replace("\r\n", "\n").strip().encode("utf-8")).hexdigest()


def object_name(uid: str) -> str:
    """The file name a new object gets in its collection: the UID where it is safe in a URL, else its hash."""
    if _SAFE_NAME.fullmatch(uid) and not uid.startswith("."):
        return f"{uid}.ics"
    return f"{hashlib.sha256(uid.encode()).hexdigest()[:40]}.ics"


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


class _Answer:
    """What a caller needs of an HTTP answer: status, headers, text, and the XML tree of a multistatus (parsed by
    caldav's ``DAVResponse``; other answers are not XML and are not handed to it)."""

    def __init__(self, answer: requests.Response) -> None:
        self.status = answer.status_code
        self.reason = answer.reason or ""
        self.headers = answer.headers
        # iCalendar and vCard are UTF-8 (RFC 5545, 6350), whatever charset a server forgets to name
        self.text = answer.content.decode("utf-8", "replace") if answer.status_code != 207 else ""
        self.tree: Any = DAVResponse(answer).tree if answer.status_code == 207 else None


@dataclass
class _Object:
    href: str
    etag: str | None
    data: str | None  # None: gone (404) or not delivered


class DavCalendars:
    """The CalDAV calendars and CardDAV address books of one account.

    ``url`` is where discovery starts; ``state`` the saved state (a calendar cursor, or ``{"calendar": …,
    "contacts": …}``), updated in place as pages are read and writes made (``self.state``).
    ``calendar_url`` picks the calendar new events go to (else the first one discovered) and ``calendars``, when
    given, limits the sync to those collection URLs.
    """

    def __init__(self, url: str, username: str, password: str, state: str | Mapping[str, Any] | None = None, *,
                 principal_id: int, account_id: int, calendar_url: str | None = None,
                 calendars: list[str] | None = None, timeout: float = 60, verify: bool | str = True) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self.username = username
        self.principal_id = principal_id
        self.account_id = account_id
        self.calendar_url = calendar_url
        self.only_calendars = {self._path(c) for c in calendars} if calendars else None
        self.client = caldav.DAVClient(self.url, username=username, password=password, timeout=int(timeout),
                                       ssl_verify_cert=verify)
        self.requests_made = 0
        self.use_sync_collection = True  # off: list ETags and compare, as with a server that has no sync tokens
        self.state: dict[str, Any] = {"calendar": _empty(), "contacts": _empty()}
        self.load_state(state)
        self._principal: Any = None

    # -- state -------------------------------------------------------------------------------------------------------
    def load_state(self, state: str | Mapping[str, Any] | None) -> None:
        """Take a saved calendar cursor (a string), or ``{"calendar": cursor-or-dict, "contacts": …}``."""
        if state is None:
            return
        if isinstance(state, str):
            self.state["calendar"] = _loads(state)
            return
        for part in ("calendar", "contacts"):
            value = state.get(part)
            if value is not None:
                self.state[part] = _loads(value) if isinstance(value, str) else json.loads(json.dumps(value))

    def cursor(self, part: str = "calendar") -> str:
        return json.dumps(self.state[part], sort_keys=True, separators=(",", ":"))

    # -- transport ---------------------------------------------------------------------------------------------------
    def _path(self, url: str) -> str:
        return unquote(urlsplit(urljoin(self.url, url)).path)

    def _absolute(self, href: str) -> str:
        return urljoin(self.url, quote(href, safe="/@:+,;=~-._"))

    def _request(self, method: str, url: str, body: str = "", headers: Mapping[str, str] | None = None,
                 what: str = "reading calendars") -> _Answer:
        """One request on the client's session, with the authentication discovery settled; statuses other than
        401, 429 and 5xx are the caller's to judge (caldav's own ``request`` raises on 403, which a forgotten sync
        token answers)."""
        self._discover_principal()
        self.requests_made += 1
        with self._network(what):
            answer = self.client.session.request(
                method, self._absolute(url) if url.startswith("/") else url, data=body.encode("utf-8"),
                headers={k: v for k, v in {**self.client.headers, **(headers or {})}.items()
                         if body or k.lower() != "content-type"}, auth=self.client.auth,
                timeout=self.client.timeout, verify=self.client.ssl_verify_cert)
        status = answer.status_code
        if status == 401:
            raise NeedsSignIn(self._refused_sign_in())
        if status == 429 or status >= 500:
            retry = answer.headers.get("Retry-After")
            raise TransientError(f"{self._host()} answered {status} while {what}",
                                 retry_after=float(retry) if retry and retry.isdigit() else None)
        return _Answer(answer)

    def _host(self) -> str:
        return urlsplit(self.url).netloc

    def _refused_sign_in(self) -> str:
        return (f"the calendar server {self._host()} did not accept the user name or password of {self.username}: "
                "check them, or make a new app password")

    @contextmanager
    def _network(self, what: str) -> Iterator[None]:
        """Faults of the connection as the errors a user reads: an untrusted certificate, an unreachable server."""
        try:
            yield
        except requests.exceptions.SSLError as exc:
            raise PermanentError(f"the certificate of {self._host()} is not trusted ({_first_line(exc)})") from exc
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            raise TransientError(f"cannot reach the calendar server {self._host()} while {what}") from exc

    def _discover_principal(self) -> Any:
        if self._principal is None:
            self.requests_made += 1
            try:
                with self._network("signing in"):
                    self._principal = cast(Any, self.client).principal()
            except dav_error.AuthorizationError as exc:
                raise NeedsSignIn(self._refused_sign_in()) from exc
            except dav_error.DAVError as exc:
                raise PermanentError(f"{self._host()} is not a CalDAV server this account can use "
                                     f"({_first_line(exc)})") from exc
        return self._principal

    def discover_calendars(self) -> dict[str, str]:
        """{calendar path: display name} of the calendars that hold events, in the server's order."""
        principal = self._discover_principal()
        self.requests_made += 2
        try:
            with self._network("listing the calendars"):
                found = principal.calendars()
        except dav_error.DAVError as exc:
            raise PermanentError(f"could not list the calendars on {self._host()} ({_first_line(exc)})") from exc
        calendars: dict[str, str] = {}
        for calendar in found:
            path = self._path(str(calendar.url))
            if self.only_calendars is not None and path not in self.only_calendars:
                continue
            try:
                with self._network("listing the calendars"):
                    components = calendar.get_supported_components()
            except (dav_error.DAVError, KeyError, AttributeError):
                components = ["VEVENT"]
            if components and "VEVENT" not in components:
                continue  # a task list
            calendars[path] = str(calendar.name or path.rstrip("/").rsplit("/", 1)[-1])
        return calendars

    def discover_address_books(self) -> dict[str, str]:
        """{address book path: display name} from the principal's ``addressbook-home-set``."""
        principal = self._discover_principal()
        answer = self._request("PROPFIND", str(principal.url), _PROPFIND_ADDRESSBOOK_HOME,
                               {"Depth": "0", "Content-Type": "application/xml"}, "finding the address books")
        homes = [h.text for h in _elements(answer, f"{{{_D}}}href")
                 if h.text and h.getparent() is not None and h.getparent().tag == f"{{{_CR}}}addressbook-home-set"]
        books: dict[str, str] = {}
        for home in homes:
            listing = self._request("PROPFIND", home, _PROPFIND_COLLECTIONS,
                                    {"Depth": "1", "Content-Type": "application/xml"}, "listing the address books")
            for href, props, _ in _responses(listing):
                kind = props.get(f"{{{_D}}}resourcetype")
                if kind is not None and kind.find(f"{{{_CR}}}addressbook") is not None:
                    name = props.get(f"{{{_D}}}displayname")
                    books[self._path(href)] = (name.text if name is not None and name.text else
                                               self._path(href).rstrip("/").rsplit("/", 1)[-1])
        return books

    def health(self) -> str:
        calendars = self.discover_calendars()
        return f"ok: {len(calendars)} calendar{'s' if len(calendars) != 1 else ''} on {self._host()}"

    def close(self) -> None:
        self.client.close()

    # -- reading collections -----------------------------------------------------------------------------------------
    def _changes(self, collection: str, token: str | None) -> tuple[dict[str, str | None], str | None, bool]:
        """({href: ETag, or None when removed}, new token, whether this is a full listing of the collection)."""
        if self.use_sync_collection:
            # our token first; one the server forgot (403/409 valid-sync-token) gives way to an initial sync
            for asked in ([token, ""] if token else [""]):
                synced = self._sync_collection(collection, asked)
                if synced is not None:
                    listed, new_token = synced
                    if not new_token:
                        break  # a server without sync tokens: compare ETags
                    return listed, new_token, not asked
        answer = self._request("PROPFIND", collection, _PROPFIND_ETAGS,
                               {"Depth": "1", "Content-Type": "application/xml"}, "listing a collection")
        if answer.status != 207:
            raise PermanentError(f"{self._host()} could not list {collection} (HTTP {answer.status})")
        listed = {}
        for href, props, _ in _responses(answer):
            path = self._path(href)
            kind = props.get(f"{{{_D}}}resourcetype")
            if path == collection or kind is not None and kind.find(f"{{{_D}}}collection") is not None:
                continue
            etag = props.get(f"{{{_D}}}getetag")
            listed[path] = etag.text if etag is not None else ""
        return listed, None, True

    def _sync_collection(self, collection: str, token: str) -> tuple[dict[str, str | None], str | None] | None:
        """A ``sync-collection`` REPORT from ``token``, followed while the server truncates its answer (a 507 for the
        collection itself, RFC 6578 3.6: ask again from the token it gave); None when the server refuses it."""
        listed: dict[str, str | None] = {}
        for _round in range(MAX_SYNC_ROUNDS):
            # RFC 6578 3.2: the report is defined for Depth 0 only (its sync-level says how deep)
            answer = self._request("REPORT", collection, _SYNC_COLLECTION.format(token=escape(token)),
                                   {"Depth": "0", "Content-Type": "application/xml"}, "reading changes")
            if answer.status != 207 or answer.tree is None:
                return None
            new_token = next((t.text for t in answer.tree.iter(f"{{{_D}}}sync-token")), None)
            truncated = False
            for href, props, status in _responses(answer):
                path = self._path(href)
                if path == collection or path.endswith("/"):
                    truncated = truncated or bool(path == collection and status and " 507 " in status)
                    continue  # the collection itself (iCloud lists it among the changes), or a sub-collection
                etag = props.get(f"{{{_D}}}getetag")
                listed[path] = None if status and " 404 " in status else (etag.text if etag is not None else "")
            if not truncated or not new_token or new_token == token:
                return listed, new_token
            token = new_token
        raise TransientError(f"{self._host()} kept truncating the changes of {collection}; the next sync goes on")

    def _multiget(self, collection: str, hrefs: list[str], contacts: bool) -> Iterator[_Object]:
        report, ns, data = (("addressbook-multiget", _CR, "address-data") if contacts else
                            ("calendar-multiget", _C, "calendar-data"))
        for start in range(0, len(hrefs), MULTIGET_BATCH):
            batch = hrefs[start:start + MULTIGET_BATCH]
            body = _MULTIGET.format(report=report, ns=ns, data=data,
                                    hrefs="".join(f"<D:href>{escape(quote(h, safe='/@:+,;=~-._'))}</D:href>"
                                                  for h in batch))
            answer = self._request("REPORT", collection, body, {"Depth": "1", "Content-Type": "application/xml"},
                                   "reading changed items")
            if answer.status != 207:
                raise PermanentError(f"{self._host()} could not read items of {collection} (HTTP {answer.status})")
            for href, props, status in _responses(answer):
                etag = props.get(f"{{{_D}}}getetag")
                content = props.get(f"{{{ns}}}{data}")
                gone = bool(status and " 404 " in status)
                yield _Object(self._path(href), etag.text if etag is not None else None,
                              None if gone or content is None else (content.text or ""))

    # -- calendar ----------------------------------------------------------------------------------------------------
    def calendar_changes(self, cursor: str | None) -> Iterator[CalendarPage]:
        """Pages of at most ``MULTIGET_BATCH`` changed events; all of them full listings when any calendar has to
        be listed in full (first sync, a forgotten token, a calendar added or gone), so the engine's removal of what
        was not seen stays right. Only the last page carries the cursor."""
        state = self.state["calendar"] = _loads(cursor) if cursor else _empty()
        calendars = self.discover_calendars()
        if self.calendar_url:
            state["default"] = self._path(self.calendar_url)
        elif state.get("default") not in calendars:
            state["default"] = next(iter(calendars), None)

        def convert(obj: _Object, path: str, page: CalendarPage) -> None:
            event = self._event(obj, path, page.errors)
            if event is not None:
                page.upserted.append(event)

        yield from self._pages("calendar", cursor, list(calendars), CalendarPage, convert)

    def _pages(self, part: str, cursor: str | None, collections: list[str], make_page: Callable[[], _PageT],
               convert: Callable[[_Object, str, _PageT], None]) -> Iterator[_PageT]:
        """The changes of every collection as pages: first every collection's listing (hrefs and ETags only,
        with its token where the server keeps one), then the changed objects read a batch at a time."""
        held_collections: dict[str, Any] = self.state[part]["collections"]
        full = cursor is None or set(collections) != set(held_collections)
        plans: list[tuple[str, str | None, dict[str, list[Any]], list[str], list[str]]] = []
        for path in collections:
            held = held_collections.get(path, {"token": None, "items": {}})
            listed, token, listed_in_full = self._changes(path, held["token"] if not full else None)
            full = full or listed_in_full
            items = dict(held["items"])
            removed = [h for h, e in listed.items() if e is None] + (
                [h for h in items if h not in listed] if listed_in_full else [])
            for href in removed:
                items.pop(href, None)
            wanted = [h for h, e in listed.items() if e is not None and (h not in items or items[h][0] != e
                                                                           or items[h][1] is None)]
            plans.append((path, token, items, removed, wanted))
        work = [(plan, wanted[start:start + MULTIGET_BATCH], start == 0)
                for plan in plans for wanted in [plan[4]] for start in range(0, max(len(wanted), 1), MULTIGET_BATCH)]
        if not work:
            held_collections.clear()
            page = make_page()
            page.full, page.cursor = True, self.cursor(part)
            yield page
            return
        for number, ((path, token, items, removed, wanted), batch, first) in enumerate(work):
            page = make_page()
            page.full = full
            if first:
                held_collections[path] = {"token": token, "items": items}  # filled in by this and later batches
                if full:
                    fetching = set(wanted)
                    page.seen = [h for h in items if h not in fetching]
                else:
                    page.removed = list(removed)
            for obj in self._multiget(path, batch, contacts=part == "contacts"):
                if obj.data is None:
                    items.pop(obj.href, None)
                    if not full:
                        page.removed.append(obj.href)
                    continue
                items[obj.href] = [obj.etag or "", _sha(obj.data)]
                if full:
                    page.seen.append(obj.href)
                convert(obj, path, page)
            if number == len(work) - 1:
                for gone in set(held_collections) - set(collections):
                    del held_collections[gone]
                page.cursor = self.cursor(part)
            yield page

    def _event(self, obj: _Object, calendar: str, errors: list[str]) -> CalendarEvent | None:
        name = obj.href.rsplit("/", 1)[-1]
        try:
            events, problems = parse_calendar((obj.data or "").encode("utf-8"), principal_id=self.principal_id,
                                              account_id=self.account_id, calendar_id=calendar)
        except Exception as exc:  # noqa: BLE001 - one object the parser chokes on costs only that object
            errors.append(f"{name}: {_first_line(exc)}")
            return None
        errors.extend(f"{name}: {p}" for p in problems)
        if not events:
            if not problems:
                errors.append(f"{name}: no event in it")
            return None
        if len(events) > 1:
            errors.append(f"{name}: {len(events)} events in one calendar object; only the first was kept")
        event = events[0]
        event.remote_id = obj.href
        return event

    # -- writes ------------------------------------------------------------------------------------------------------
    def apply(self, entry: OutboxEntry) -> dict[str, Any]:
        """``event-create``, ``event-update`` and ``event-delete`` (see ``connectors/base.py``)."""
        payload = entry.payload
        if entry.op == "event-create":
            return {"remote_id": self._create(payload["ics"])}
        if entry.op == "event-update":
            return {"remote_id": self._update(payload["remote_id"], payload["ics"])}
        if entry.op == "event-delete":
            self._delete(payload["remote_id"])
            return {"remote_id": payload["remote_id"]}
        raise PermanentError(f"calendars over CalDAV cannot do {entry.op!r}")

    def _items_of(self, href: str) -> dict[str, list[Any]]:
        collection = href.rsplit("/", 1)[0] + "/"
        held = self.state["calendar"]["collections"].setdefault(collection, {"token": None, "items": {}})
        items: dict[str, list[Any]] = held["items"]
        return items

    def _default_calendar(self) -> str:
        if self.calendar_url:
            return self._path(self.calendar_url)
        default = self.state["calendar"].get("default")
        if default:
            return str(default)
        calendars = self.discover_calendars()
        if not calendars:
            raise PermanentError(f"there is no calendar on {self._host()} for {self.username} to add events to")
        self.state["calendar"]["default"] = next(iter(calendars))
        return str(self.state["calendar"]["default"])

    def _put(self, href: str, ics: str, condition: dict[str, str]) -> _Answer:
        headers = {"Content-Type": "text/calendar; charset=utf-8", **condition}
        return self._request("PUT", href, ics, headers, "saving an event")

    def _written(self, href: str, answer: _Answer) -> None:
        """Remember the ETag the server gave our write; the content is read again on the next pass (the server may
        have rewritten it), so no hash is kept until then."""
        etag = answer.headers.get("ETag")
        items = self._items_of(href)
        if etag:
            items[href] = [etag, None]
        else:
            items.pop(href, None)

    def _create(self, ics: str) -> str:
        uid = _uid_of(ics)
        href = self._default_calendar() + object_name(uid)
        answer = self._put(href, ics, {"If-None-Match": "*"})
        if answer.status in (200, 201, 204):
            self._written(href, answer)
            return href
        if answer.status == 412:  # there already: an earlier attempt that died before it was confirmed
            current = self._get(href)
            if current.data is not None and _uid_of(current.data, strict=False) == uid:
                return href
            raise PermanentError(f"{href} on {self._host()} already holds another event")
        raise self._refused(answer, "creating an event")

    def _get(self, href: str) -> _Object:
        answer = self._request("GET", href, what="reading an event")
        if answer.status == 404:
            return _Object(href, None, None)
        if answer.status != 200:
            raise self._refused(answer, "reading an event")
        return _Object(href, answer.headers.get("ETag"), answer.text)

    def _base_etag(self, href: str, ics: str | None) -> str:
        """The ETag of the version this edit was made on. Without a saved state for the object it is the server's
        current one, unless that one is visibly newer than the edited copy (a higher SEQUENCE or a later
        LAST-MODIFIED): then someone else changed it, and it is kept."""
        held = self._items_of(href).get(href)
        if held and held[0]:
            return str(held[0])
        current = self._get(href)
        if current.data is None:
            raise PermanentError("the event no longer exists on the calendar server")
        if ics is not None and _newer(current.data, ics):
            raise PermanentError(_conflict(ics))
        return current.etag or ""

    def _retry_after_412(self, href: str, ics: str | None) -> str | None:
        """On a 412: the ETag to retry with when the server's copy is still the one we last read, else None."""
        held = self._items_of(href).get(href)
        current = self._get(href)
        if current.data is None:
            return None
        if held and held[1] is not None and held[1] == _sha(current.data):
            return current.etag
        return None

    def _update(self, href: str, ics: str) -> str:
        if not href.startswith("/"):
            # Not an href: the app's stand-in for an event whose create was queued before this edit; the create
            # (pushed first) put it where its UID names it.
            href = self._default_calendar() + object_name(_uid_of(ics))
        etag = self._base_etag(href, ics)
        for attempt in (1, 2):
            answer = self._put(href, ics, {"If-Match": etag} if etag else {})
            if answer.status in (200, 201, 204):
                self._written(href, answer)
                return href
            if answer.status == 404:
                raise PermanentError("the event no longer exists on the calendar server")
            if answer.status != 412:
                raise self._refused(answer, "saving an event")
            retry = self._retry_after_412(href, ics) if attempt == 1 else None
            if retry is None:
                raise PermanentError(_conflict(ics))
            etag = retry
        raise PermanentError(_conflict(ics))  # pragma: no cover - the loop returns or raises

    def _delete(self, href: str) -> None:
        held = self._items_of(href).get(href)
        etag = held[0] if held and held[0] else None
        if etag is None:
            current = self._get(href)
            if current.data is None:
                return  # already gone: a retry, or deleted elsewhere too
            etag = current.etag
        for attempt in (1, 2):
            answer = self._request("DELETE", href, headers={"If-Match": etag} if etag else {},
                                   what="deleting an event")
            if answer.status in (200, 204, 404):
                self._items_of(href).pop(href, None)
                return
            if answer.status != 412:
                raise self._refused(answer, "deleting an event")
            retry = self._retry_after_412(href, None) if attempt == 1 else None
            if retry is None:
                if self._get(href).data is None:
                    self._items_of(href).pop(href, None)
                    return
                raise PermanentError("the event was changed on the calendar server since it was deleted here; "
                                     "it was not deleted, and the server's version comes back with the next sync")
            etag = retry

    def _refused(self, answer: _Answer, what: str) -> PermanentError:
        reason = " ".join(answer.reason.split())
        return PermanentError(f"{self._host()} refused {what} (HTTP {answer.status}{': ' + reason if reason else ''})")

    # -- contacts ----------------------------------------------------------------------------------------------------
    def contacts_changes(self, cursor: str | None) -> Iterator[ContactsPage]:
        """Every address book of the principal, in pages as the calendars are; remote ids are the vCards' hrefs."""
        self.state["contacts"] = _loads(cursor) if cursor else _empty()
        books = self.discover_address_books()

        def convert(obj: _Object, _path: str, page: ContactsPage) -> None:
            contact = _contact(obj)
            if contact is not None:
                page.upserted.append(contact)

        yield from self._pages("contacts", cursor, list(books), ContactsPage, convert)


# -- helpers ---------------------------------------------------------------------------------------------------------
def _empty() -> dict[str, Any]:
    return {"v": STATE_VERSION, "collections": {}, "default": None}


def _loads(text: str) -> dict[str, Any]:
    try:
        state = json.loads(text)
    except ValueError:
        return _empty()
    if not isinstance(state, dict) or state.get("v") != STATE_VERSION or not isinstance(state.get("collections"), dict):
        return _empty()  # another version's or a foreign cursor: list everything again, harmlessly
    return state


def _elements(answer: _Answer, tag: str) -> list[Any]:
    """Every element named ``tag`` in a multistatus answer (none when the answer was no XML)."""
    tree = answer.tree
    return list(tree.iter(tag)) if tree is not None else []


def _responses(answer: _Answer) -> Iterator[tuple[str, dict[str, Any], str | None]]:
    """(href, {property tag: element} of the 200 propstats, the response's own status) per ``D:response``."""
    for response in _elements(answer, f"{{{_D}}}response"):
        href = response.find(f"{{{_D}}}href")
        if href is None or not href.text:
            continue
        status = response.find(f"{{{_D}}}status")
        props: dict[str, Any] = {}
        for propstat in response.findall(f"{{{_D}}}propstat"):
            prop_status = propstat.find(f"{{{_D}}}status")
            if prop_status is not None and prop_status.text and " 200 " not in prop_status.text:
                continue
            for prop in propstat.findall(f"{{{_D}}}prop"):
                for child in prop:
                    props[child.tag] = child
        yield href.text.strip(), props, status.text if status is not None else None


def _uid_of(ics: str, *, strict: bool = True) -> str:
    import icalendar

    try:
        cal = icalendar.Calendar.from_ical(ics)
    except ValueError as exc:
        if not strict:
            return ""
        raise PermanentError(f"the event is not valid iCalendar: {_first_line(exc)}") from None
    uids = {str(c.get("UID")) for c in cal.walk() if c.name in ("VEVENT", "VTODO", "VJOURNAL") and c.get("UID")}
    if len(uids) != 1:
        if not strict:
            return ""
        raise PermanentError(f"an event write needs exactly one UID, this one has {len(uids)}")
    return uids.pop()


def _master_marks(ics: str) -> tuple[int, str, str, str]:
    """(SEQUENCE, LAST-MODIFIED, DTSTAMP, summary) of a calendar object's series master, for telling versions
    apart (times as iCalendar UTC text, which sorts as time does)."""
    import icalendar

    try:
        cal = icalendar.Calendar.from_ical(ics)
    except ValueError:
        return 0, "", "", ""
    master = next((c for c in cal.walk("VEVENT") if "RECURRENCE-ID" not in c), None)
    if master is None:
        return 0, "", "", ""
    try:
        sequence = int(str(master.get("SEQUENCE", 0)))
    except ValueError:
        sequence = 0
    stamps = []
    for name in ("LAST-MODIFIED", "DTSTAMP"):
        value = master.get(name)
        stamps.append(value.to_ical().decode() if value is not None and hasattr(value, "to_ical") else "")
    return sequence, stamps[0], stamps[1], str(master.get("SUMMARY", ""))


def _newer(server_ics: str, edited_ics: str) -> bool:
    """Whether the server's copy is a later revision than the one the edit was made on. Editing here keeps SEQUENCE,
    LAST-MODIFIED and DTSTAMP as they were; another client that changes the event raises at least one of them."""
    server = _master_marks(server_ics)
    edited = _master_marks(edited_ics)
    return server[0] > edited[0] or any(mine and theirs > mine or theirs and not mine
                                        for theirs, mine in zip(server[1:3], edited[1:3], strict=True))


def _conflict(ics: str | None) -> str:
    summary = _master_marks(ics)[3] if ics else ""
    what = f"“{summary}”" if summary else "the event"
    return (f"{what} was changed on the calendar server since it was edited here; the server's version is kept "
            "and comes back with the next sync")


def _contact(obj: _Object) -> RemoteContact | None:
    """A vCard's name, e-mail addresses and phone numbers; None (and nothing stored) when it cannot be read."""
    import vobject

    try:
        card = vobject.readOne(obj.data or "")
    except Exception:  # noqa: BLE001 - vobject raises many kinds on junk; one bad card costs only itself
        return None
    name = ""
    if hasattr(card, "fn"):
        name = str(card.fn.value).strip()
    emails = [parseaddr(str(e.value))[1] or str(e.value).strip() for e in card.contents.get("email", [])]
    phones = [str(t.value).strip() for t in card.contents.get("tel", [])]
    return RemoteContact(obj.href, name=name, emails=[e for e in emails if e], phones=[p for p in phones if p])
