"""Any mail provider: IMAP for the mailbox (``imapclient``), SMTP submission for sending (``smtplib``), CalDAV and
CardDAV for calendars and contacts (``dav.DavCalendars``).

Account settings: ``username``, ``imap_host``, ``imap_port``, ``imap_security`` (``ssl`` | ``starttls`` | ``plain``),
``smtp_host``, ``smtp_port``, ``smtp_security``, ``credential_key`` (where the password is in the OS credential store)
or ``oauth`` (the principal's Gmail or Outlook sign-in to log in with over SASL XOAUTH2: ``oauth.py``),
and optionally ``preset``, ``sent_by_server`` (the provider files sent mail itself, as Gmail does), ``caldav_url`` and
``tls_fingerprint`` (a certificate the user chose to trust by its SHA-256 fingerprint).

Remote ids are ``UIDVALIDITY:UID:FOLDER``: a UID means something only in its folder and its UIDVALIDITY epoch.

The cursor (JSON) keeps, per folder, its UIDVALIDITY, the HIGHESTMODSEQ at which it was last complete (CONDSTORE), and
every known UID with its flags. A sync of a folder:

* UIDVALIDITY changed: every known UID of the folder is gone, all of it is fetched again under the new epoch and the
  old ids removed on the folder's last page — messages are re-read, never doubled (ids carry the epoch) nor lost
  (removal comes after the new copies are stored).
* CONDSTORE and HIGHESTMODSEQ unchanged since the folder was complete: nothing to do (expunges raise it too).
* Otherwise: ``UID SEARCH ALL`` gives what is there; new UIDs are fetched newest first, a page at a time, each page's
  cursor holding exactly what was stored (an interrupted first sync resumes where it stopped); a message with large
  attachments without them, which ``fetch_raw`` brings when the user asks (``parts.py``); flags come from
  ``FETCH (FLAGS) (CHANGEDSINCE modseq)`` with CONDSTORE, else from ``FETCH 1:* (FLAGS)``; UIDs no longer there are
  removed.

Sending is exactly once by the Message-ID (derived from the outbox key). Unless the provider files sent mail itself,
the copy is appended to Sent *before* SMTP with the keyword ``$AssistantQueued``, changed to ``$AssistantSubmitting``
right before the message data goes, and cleared when the server has accepted it. A retry after a crash looks the
Message-ID up in Sent: no marker means it went (done); ``$AssistantQueued`` means SMTP never got the data (send);
``$AssistantSubmitting`` means the server may or may not have taken it, and the entry fails visibly for the user to
check rather than risk sending twice. Providers that file sent mail themselves (Gmail) are looked up in Sent before
sending, which their server does at acceptance.
"""
from __future__ import annotations

import base64
import contextlib
import email.parser
import email.policy
import email.utils
import json
import logging
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from assistant.connectors.base import ON_DEMAND_SUFFIX, CalendarPage, Capability, Connector, ContactsPage, MailPage
from assistant.connectors.imap import errors, oauth, parts
from assistant.connectors.imap.presets import PRESETS
from assistant.core.errors import InvalidInput, NeedsSignIn, PermanentError, TransientError, UserError
from assistant.domain import Account, Folder, Message, OutboxEntry
from assistant.mail.mime import parse_message

log = logging.getLogger(__name__)
STATE_VERSION = 1
QUEUED, SUBMITTING = "$AssistantQueued", "$AssistantSubmitting"
ROLE_FLAGS = {b"\\sent": "sent", b"\\drafts": "drafts", b"\\trash": "trash", b"\\archive": "archive",
              b"\\junk": "spam"}
SKIP_FLAGS = {b"\\noselect", b"\\nonexistent", b"\\all", b"\\flagged", b"\\important"}
ROLE_NAMES = {"sent": "sent", "sent items": "sent", "sent messages": "sent", "sent mail": "sent",
              "drafts": "drafts", "draft": "drafts", "trash": "trash", "deleted items": "trash",
              "deleted messages": "trash", "bin": "trash", "archive": "archive", "archives": "archive",
              "junk": "spam", "spam": "spam", "junk e-mail": "spam", "junk email": "spam"}
ROLE_FOLDER = {"sent": "Sent", "drafts": "Drafts", "archive": "Archive", "trash": "Trash", "spam": "Junk"}
TIMEOUT_S = 60.0
_header_parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)


def remote_id(validity: int, uid: int, folder: str) -> str:
    return f"{validity}:{uid}:{folder}"


def split_remote_id(rid: str) -> tuple[int, int, str]:
    try:
        validity, uid, folder = rid.split(":", 2)
        return int(validity), int(uid), folder
    except ValueError:
        raise PermanentError(f"{rid!r} is not a message of an IMAP account") from None


def header_message_id(raw: bytes) -> str:
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    return str(_header_parser.parsebytes(head + b"\n\n").get("Message-ID", "")).strip()


def _flag_letters(flags: tuple[bytes, ...] | list[bytes]) -> str:
    lowered = {f.lower() if isinstance(f, bytes) else str(f).lower().encode() for f in flags}
    return "".join(letter for letter, flag in (("S", b"\\seen"), ("F", b"\\flagged"), ("R", b"\\answered"))
                   if flag in lowered)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def load_state(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {"v": STATE_VERSION, "folders": {}}
    try:
        state = json.loads(cursor)
        if state.get("v") != STATE_VERSION or not isinstance(state.get("folders"), dict):
            raise ValueError
        return state  # type: ignore[no-any-return]
    except (ValueError, AttributeError):
        return {"v": STATE_VERSION, "folders": {}}


def dump_state(state: dict[str, Any]) -> str:
    return json.dumps(state, separators=(",", ":"))


class ImapConnector(Connector):
    kind = "imap"
    display_name = "IMAP / SMTP (any provider)"
    capabilities = frozenset({Capability.MAIL, Capability.SEND, Capability.DRAFTS, Capability.CALENDAR,
                              Capability.CONTACTS, Capability.SIGNATURES_REQUIRED, Capability.ATTACHMENTS_ON_DEMAND})

    def __init__(self, account: Account, *, credentials: Any = None, page_size: int = 100,
                 ssl_context: ssl.SSLContext | None = None, timeout: float = TIMEOUT_S, **options: Any):
        super().__init__(account, credentials=credentials, **options)
        s = account.settings
        self.username = str(s.get("username") or account.address)
        self.imap_host = str(s.get("imap_host") or "")
        self.imap_port = int(s.get("imap_port") or 993)
        self.imap_security = str(s.get("imap_security") or "ssl")
        self.smtp_host = str(s.get("smtp_host") or self.imap_host)
        self.smtp_port = int(s.get("smtp_port") or 465)
        self.smtp_security = str(s.get("smtp_security") or "ssl")
        self.sent_by_server = bool(s.get("sent_by_server"))
        preset = PRESETS.get(str(s.get("preset") or ""))
        self.app_password_url = preset.app_password_url if preset else ""
        self.page_size = max(1, int(page_size))
        self.timeout = timeout
        self._ssl_context = ssl_context
        self._client: IMAPClient | None = None
        self._folders: list[tuple[str, str, str]] | None = None  # (name, display name, role)
        self._dav: Any = None
        self._token_source: oauth.TokenSource | None = None
        self._saved_cursors: dict[str, str] | None = None  # resume(): what the last sync saw of calendars and contacts
        # Set for the pass after an IDLE wake: only these folders are read (the one IDLE watched), the rest of the
        # cursor is kept as it was; removals of folders deleted on the server wait for the next full pass.
        self.only_folders: list[str] | None = None
        self._watch_seen: dict[str, tuple[Any, ...]] = {}  # watch(): the folder's state when the last watch woke
        # A test hook: called with the step name ("appended", "smtp-data", "accepted") during a send.
        self.on_send_step: Callable[[str], None] = options.get("on_send_step") or (lambda _step: None)

    # -- connections -------------------------------------------------------------------------------------------------
    def password(self) -> str:
        if isinstance(self.credentials, str):
            return self.credentials
        key = self.account.settings.get("credential_key")
        if not key:
            raise NeedsSignIn(f"no password kept for {self.username}: add the account again")
        from assistant.core.credentials import CredentialStore

        secret = CredentialStore().get(str(key))
        if not secret:
            raise NeedsSignIn(f"the password for {self.username} is not in the credential store: add the account again")
        self.credentials = secret
        return secret

    def _context(self) -> ssl.SSLContext:
        if self._ssl_context is not None:
            return self._ssl_context
        if self.account.settings.get("tls_fingerprint"):
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE  # checked against the pinned fingerprint right after the handshake
            return context
        return ssl.create_default_context()

    def _check_pinned(self, sock: Any, host: str, port: int) -> None:
        pinned = self.account.settings.get("tls_fingerprint")
        if not pinned or self._ssl_context is not None or not isinstance(sock, ssl.SSLSocket):
            return
        der = sock.getpeercert(binary_form=True) or b""
        seen = errors.fingerprint(der)
        if seen != errors.normal_fingerprint(str(pinned)):
            raise errors.CertificateNotTrusted(host, port, seen, "it is not the one trusted before")

    def _certificate_failure(self, exc: ssl.SSLCertVerificationError, service: str) -> UserError:
        host, port, security = ((self.imap_host, self.imap_port, self.imap_security) if service == "imap"
                                else (self.smtp_host, self.smtp_port, self.smtp_security))
        try:
            fp = probe_fingerprint(service, host, port, security, self.timeout)
        except Exception:  # noqa: BLE001 - the reason is what matters; the fingerprint is a help
            fp = "unknown"
        return errors.CertificateNotTrusted(host, port, fp, exc.verify_message or "")

    def imap(self) -> IMAPClient:
        if self._client is not None:
            return self._client
        host, port = self.imap_host, self.imap_port
        if not host:
            raise InvalidInput("this IMAP account has no server set: add it again")
        context = self._context() if self.imap_security != "plain" else None
        client = None
        try:
            client = IMAPClient(host, port=port, ssl=self.imap_security == "ssl", ssl_context=context,
                                timeout=self.timeout)
            self.requests_made += 1
            if self.imap_security == "starttls":
                client.starttls(context)
            self._check_pinned(client.socket(), host, port)
            self._imap_login(client, host)
        except BaseException as exc:
            if client is not None:
                with contextlib.suppress(Exception):
                    client.shutdown()
            if isinstance(exc, ssl.SSLCertVerificationError):
                raise self._certificate_failure(exc, "imap") from None
            if isinstance(exc, OSError):
                raise errors.network_failure(exc, host, port) from None
            if isinstance(exc, IMAPClientError):
                raise TransientError(f"{host}:{port}: {errors._one_line(exc)}") from None
            raise
        if client.has_capability("CONDSTORE") and client.has_capability("ENABLE"):
            with self._imap_errors("starting the session"):
                client.enable("CONDSTORE")  # SELECT then reports HIGHESTMODSEQ
        self._client = client
        return client

    def token_source(self) -> oauth.TokenSource | None:
        """The principal's Google or Microsoft sign-in this account logs in with (XOAUTH2), or ``None`` for a password."""
        if self._token_source is None and self.account.settings.get("oauth"):
            self._token_source = oauth.token_source(self.account)
        return self._token_source

    def _imap_login(self, client: IMAPClient, host: str) -> None:
        source = self.token_source()
        if source is None:
            try:
                client.login(self.username, self.password())
            except LoginError as exc:
                raise errors.login_failure(_text(str(exc)), self.username, host, self.app_password_url) from None
            return
        try:
            client.oauth2_login(self.username, source.token())
        except LoginError:  # revoked, or expired before its time: renewed once
            try:
                client.oauth2_login(self.username, source.token(refresh=True))
            except LoginError as exc:
                raise oauth.refused(source.provider, self.username, host, _text(str(exc))) from None

    def _smtp_login(self, smtp: smtplib.SMTP, host: str) -> None:
        source = self.token_source()
        if source is None:
            smtp.login(self.username, self.password())
            return
        token = source.token()
        for renewed in (False, True):
            # The initial response carries the token; a server that refuses it sends an error challenge, which the
            # client answers with an empty line to get the final reply (Google's XOAUTH2 protocol).
            def response(challenge: bytes | None = None, token: str = token) -> str:
                return oauth.xoauth2(self.username, token) if challenge is None else ""

            try:
                smtp.auth("XOAUTH2", response, initial_response_ok=True)
                return
            except smtplib.SMTPAuthenticationError as exc:
                if renewed:
                    raise oauth.refused(source.provider, self.username, host,
                                        f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
                token = source.token(refresh=True)

    @contextlib.contextmanager
    def _imap_errors(self, what: str) -> Iterator[None]:
        """A dropped connection is transient (the connection is dropped too, so the next call reconnects)."""
        try:
            yield
        except IMAPClientError as exc:
            if not _is_drop(exc):
                raise
            self._drop()
            raise TransientError(f"{self.imap_host}: the connection dropped while {what}: "
                                 f"{errors._one_line(exc)}") from None
        except (OSError, EOFError) as exc:
            self._drop()
            if isinstance(exc, ssl.SSLCertVerificationError):
                raise self._certificate_failure(exc, "imap") from None
            raise TransientError(f"{self.imap_host}: the connection dropped while {what}: "
                                 f"{errors._one_line(exc) or type(exc).__name__}") from None

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.shutdown()
            with contextlib.suppress(Exception):  # a TLS socket the peer cut is not always closed by the above
                client.socket().close()

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.logout()
            with contextlib.suppress(Exception):
                client.shutdown()
        if self._dav is not None:
            with contextlib.suppress(Exception):
                self._dav.close()
        source, self._token_source = self._token_source, None
        if source is not None:
            source.close()

    def has_capability(self, name: str) -> bool:
        return bool(self.imap().has_capability(name))

    # -- folders ------------------------------------------------------------------------------------------------------
    def folders(self, refresh: bool = False) -> list[tuple[str, str, str]]:
        """(name, display name, role) of every folder a sync reads: inbox first, virtual folders (Gmail's All Mail,
        Starred, Important) left out."""
        if self._folders is not None and not refresh:
            return self._folders
        client = self.imap()
        with self._imap_errors("listing folders"):
            listed = client.list_folders()
        out: list[tuple[str, str, str]] = []
        taken: set[str] = set()
        for flags, delimiter, name in listed:
            lowered = {f.lower() for f in flags}
            if lowered & SKIP_FLAGS:
                continue
            role = "inbox" if name.upper() == "INBOX" else next(
                (ROLE_FLAGS[f] for f in lowered if f in ROLE_FLAGS), "")
            sep = _text(delimiter) if delimiter else "/"
            if not role:
                guess = ROLE_NAMES.get(name.split(sep)[-1].strip().lower(), "") if sep else ""
                role = guess if guess and sep not in name else ""
            display = "Inbox" if role == "inbox" else name.replace(sep, "/") if sep else name
            out.append((name, display, role))
        # one folder per role: a special-use flag wins over a name
        for index, (name, display, role) in enumerate(out):
            if role and role in taken:
                out[index] = (name, display, "")
            taken.add(role)
        out.sort(key=lambda f: (f[2] != "inbox", f[2] == "", f[0].lower()))
        self._folders = out
        return out

    def folder_for(self, to: str, *, create: bool = False) -> str:
        """A folder by its name, or by role ("inbox", "sent", "archive", …); ``create`` makes a missing role folder."""
        folders = self.folders()
        for name, _display, _role in folders:
            if name == to:
                return name
        role = "inbox" if to.lower() == "inbox" else to.lower()
        for name, _display, folder_role in folders:
            if folder_role == role:
                return name
        if role == "archive":  # Gmail: archiving is leaving the inbox for All Mail
            client = self.imap()
            with self._imap_errors("listing folders"):
                for flags, _delimiter, name in client.list_folders():
                    if b"\\all" in {f.lower() for f in flags}:
                        return str(name)
        if create and role in ROLE_FOLDER:
            name = ROLE_FOLDER[role]
            client = self.imap()
            with self._imap_errors(f"creating the folder {name}"):
                try:
                    client.create_folder(name)
                except IMAPClientError as exc:
                    if "exists" not in str(exc).lower():
                        raise PermanentError(f"cannot create the folder {name}: {errors._one_line(exc)}") from None
            self._folders = None
            return name
        raise PermanentError(f"the folder {to!r} does not exist on {self.imap_host} (deleted on the server?)")

    def select(self, folder: str, *, readonly: bool) -> dict[bytes, Any]:
        client = self.imap()
        with self._imap_errors(f"opening {folder}"):
            try:
                return client.select_folder(folder, readonly=readonly)  # type: ignore[no-any-return]
            except IMAPClientError as exc:
                if _is_drop(exc):
                    raise
                text = str(exc)
                if "NONEXISTENT" in text.upper() or "doesn't exist" in text.lower() or "not exist" in text.lower():
                    self._folders = None
                    raise PermanentError(f"the folder {folder!r} no longer exists on {self.imap_host}"
                                         " (deleted on the server)") from None
                raise TransientError(f"{self.imap_host}: cannot open {folder}: {errors._one_line(text)}") from None

    # -- mail ---------------------------------------------------------------------------------------------------------
    def mail_changes(self, cursor: str | None) -> Iterator[MailPage]:
        state = load_state(cursor)
        state.setdefault("removing", [])
        if self.only_folders is not None:
            folders = [f for f in self.folders() if f[0] in self.only_folders]
            condstore = self.has_capability("CONDSTORE")
            for name, _display, _role in folders:
                yield from self._folder_pages(name, state, condstore)
            removed, state["removing"] = state["removing"], []
            yield MailPage(removed=removed, cursor=dump_state(state))
            return
        folders = self.folders(refresh=True)
        condstore = self.has_capability("CONDSTORE")
        page_folders = [Folder(self.account_id, name, display, role) for name, display, role in folders]
        first = True
        for name, _display, _role in folders:
            for page in self._folder_pages(name, state, condstore):
                if first:
                    page.folders, first = page_folders, False
                yield page
        # Removals come last, once every folder's new messages are stored: a message moved on the server is never
        # missing in between. Until then they wait in the cursor (``removing``), so a crash loses none of them.
        listed = {name for name, _d, _r in folders}
        for folder in [f for f in state["folders"] if f not in listed]:  # deleted on the server, with its messages
            entry = state["folders"].pop(folder)
            state["removing"] += [remote_id(entry["validity"], int(uid), folder) for uid in entry["uids"]]
        removed, state["removing"] = state["removing"], []
        yield MailPage(folders=page_folders if first else [], removed=removed, cursor=dump_state(state))

    def _folder_pages(self, folder: str, state: dict[str, Any], condstore: bool) -> Iterator[MailPage]:
        client = self.imap()
        try:
            info = self.select(folder, readonly=True)
        except PermanentError:
            return  # deleted between LIST and SELECT: the next sync removes it
        validity = int(info.get(b"UIDVALIDITY", 0))
        modseq = int(info[b"HIGHESTMODSEQ"]) if condstore and b"HIGHESTMODSEQ" in info else 0
        entry = state["folders"].get(folder)
        if entry and entry["validity"] != validity:  # renumbered: every old id goes, all is read again
            state["removing"] += [remote_id(entry["validity"], int(uid), folder) for uid in entry["uids"]]
            entry = None
        if entry is None:
            entry = {"validity": validity, "modseq": 0, "uids": {}}
        state["folders"][folder] = entry
        known: dict[str, str] = entry["uids"]
        if modseq and entry["modseq"] == modseq:
            return
        with self._imap_errors(f"listing {folder}"):
            on_server = set(client.search("ALL")) if int(info.get(b"EXISTS", 0)) else set()
            changed: dict[int, str] = {}
            still = sorted(int(uid) for uid in known if int(uid) in on_server)
            if still:
                if condstore and entry["modseq"]:
                    fetched = client.fetch(still, ["FLAGS"], modifiers=[f"CHANGEDSINCE {entry['modseq']}"])
                else:
                    fetched = client.fetch(still, ["FLAGS"])
                for uid, data in fetched.items():
                    letters = _flag_letters(data.get(b"FLAGS", ()))
                    if str(uid) in known and known[str(uid)] != letters:
                        changed[int(uid)] = letters
        new = sorted((uid for uid in on_server if str(uid) not in known), reverse=True)  # newest first
        for uid in [uid for uid in known if int(uid) not in on_server]:
            state["removing"].append(remote_id(validity, int(uid), folder))
            del known[uid]
        todo = sorted(changed, reverse=True) + new
        chunks = [todo[i:i + self.page_size] for i in range(0, len(todo), self.page_size)] or [[]]
        for number, chunk in enumerate(chunks):
            page = MailPage()
            for uid, message, raw, letters in self._fetch_messages(folder, validity, chunk):
                page.upserted.append((message, raw))
                known[str(uid)] = letters
            if number == len(chunks) - 1:
                entry["modseq"] = modseq
            page.cursor = dump_state(state)
            yield page

    def _fetch_messages(self, folder: str, validity: int, uids: list[int]
                        ) -> Iterator[tuple[int, Message, bytes | None, str]]:
        if not uids:
            return
        client = self.imap()
        with self._imap_errors(f"reading messages of {folder}"):
            meta = client.fetch(uids, ["RFC822.SIZE", "FLAGS"])
            # only a message larger than a part left on the server can have one: the others are read whole at once
            large = [uid for uid, d in meta.items() if int(d.get(b"RFC822.SIZE") or 0) > parts.ON_DEMAND_MIN_BYTES]
            if large:
                for uid, d in client.fetch(large, ["BODYSTRUCTURE"]).items():
                    if uid in meta:
                        meta[uid][b"BODYSTRUCTURE"] = d.get(b"BODYSTRUCTURE")
            self.requests_made += 2 if large else 1
        sources: dict[int, tuple[bytes, bool]] = {}  # uid -> (source, whether it is whole)
        whole: dict[int, int] = {}
        for uid in uids:
            data = meta.get(uid)
            if data is None:
                continue  # expunged meanwhile
            on_demand = parts.left_on_server(data[b"BODYSTRUCTURE"]) if data.get(b"BODYSTRUCTURE") else {}
            rebuilt = self._skeleton(folder, uid, data[b"BODYSTRUCTURE"], on_demand) if on_demand else None
            if rebuilt is not None:
                sources[uid] = (rebuilt, False)
            else:
                whole[uid] = int(data.get(b"RFC822.SIZE") or 0)
        for batch in parts.batches(whole):
            with self._imap_errors(f"reading messages of {folder}"):
                fetched = client.fetch(batch, ["BODY.PEEK[]"])
                self.requests_made += 1
            sources.update({uid: (bytes(d[b"BODY[]"]), True) for uid, d in fetched.items() if b"BODY[]" in d})
        for uid in uids:  # in the order asked: newest first
            if uid not in sources:
                continue  # expunged meanwhile
            raw, is_whole = sources[uid]
            letters = _flag_letters(meta[uid].get(b"FLAGS", ()))
            rid = remote_id(validity, uid, folder)
            message = self._parse(raw, rid)
            on_demand = {} if is_whole else parts.left_on_server(meta[uid][b"BODYSTRUCTURE"])
            if set(on_demand) - {a.part_id for a in message.attachments}:
                # the parser does not list a part left on the server where it is: only the whole source shows it
                with self._imap_errors(f"reading a message of {folder}"):
                    data = client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {})
                    self.requests_made += 1
                if b"BODY[]" not in data:
                    continue  # expunged meanwhile
                raw, is_whole = bytes(data[b"BODY[]"]), True
                message = self._parse(raw, rid)
            if not is_whole:
                message.size = int(meta[uid].get(b"RFC822.SIZE") or message.size)
                message.attachments = [
                    replace(a, size=on_demand[a.part_id], part_id=f"imap:{a.part_id}{ON_DEMAND_SUFFIX}")
                    if a.part_id in on_demand else a for a in message.attachments]
            message.folders = [folder]
            message.is_read = "S" in letters
            message.is_flagged = "F" in letters
            yield uid, message, raw if is_whole else None, letters

    def _parse(self, raw: bytes, rid: str) -> Message:
        try:
            return parse_message(raw, principal_id=self.account.principal_id, account_id=self.account_id,
                                 remote_id=rid)
        except Exception as exc:  # noqa: BLE001 - kept with its reason, as the other connectors do
            return Message(self.account.principal_id, self.account_id, rid, "(unreadable message)", None,
                           size=len(raw), parse_error=f"could not read this message: {exc}"[:300])

    def _skeleton(self, folder: str, uid: int, structure: Any, on_demand: dict[str, int]) -> bytes | None:
        """The message without the parts ``on_demand`` leaves on the server (``parts.skeleton``); None: fetch it
        whole."""
        with self._imap_errors(f"reading a message of {folder}"):
            fetched = self.imap().fetch([uid], parts.fetch_items(structure, on_demand)).get(uid)
            self.requests_made += 1
        return parts.skeleton(structure, fetched) if fetched else None

    def fetch_raw(self, remote_id_: str) -> bytes:
        """The message's whole source (``BODY.PEEK[]``: it stays unread), at most ``parts.MAX_SOURCE_BYTES``."""
        validity, uid, folder = split_remote_id(remote_id_)
        gone = f"the message is no longer in {folder} on {self.imap_host} (moved or deleted there): sync, then try again"
        try:
            info = self.select(folder, readonly=True)
        except PermanentError:
            raise InvalidInput(gone) from None
        if int(info.get(b"UIDVALIDITY", 0)) != validity:
            raise InvalidInput(f"the message is no longer in {folder} (the server renumbered the folder): sync, then"
                               " try again")
        client = self.imap()
        with self._imap_errors(f"reading a message of {folder}"):
            size = client.fetch([uid], ["RFC822.SIZE"]).get(uid, {}).get(b"RFC822.SIZE")
            if size is None:
                raise InvalidInput(gone)
            if int(size) > parts.MAX_SOURCE_BYTES:
                raise InvalidInput(f"the message is too large to download ({int(size) / 1e6:.0f} MB; at most"
                                   f" {parts.MAX_SOURCE_BYTES / 1e6:.0f} MB)")
            data = client.fetch([uid], ["BODY.PEEK[]"]).get(uid)
            self.requests_made += 2
        if not data or b"BODY[]" not in data:
            raise InvalidInput(gone)
        return bytes(data[b"BODY[]"])

    def wait_for_mail(self, timeout: float, folder: str = "INBOX") -> bool:
        """IDLE on ``folder`` for up to ``timeout`` seconds; True as soon as the server says something changed."""
        client = self.imap()
        self.select(folder, readonly=True)
        with self._imap_errors(f"waiting for mail in {folder}"):
            if not client.has_capability("IDLE"):
                time.sleep(timeout)
                return True
            client.idle()
            try:
                responses = client.idle_check(timeout=timeout)
            finally:
                client.idle_done()
        return any(len(r) > 1 and r[1] in (b"EXISTS", b"EXPUNGE", b"FETCH", b"VANISHED") for r in responses)

    def watch(self, stop: threading.Event, *, folder: str = "INBOX", renew_after_s: float = 25 * 60,
              tick_s: float = 0.5) -> bool:
        """IDLE on ``folder`` until the server reports a change (True) or ``stop`` is set (False).

        The IDLE command is ended and started again every ``renew_after_s`` (RFC 2177: servers may drop a client idle
        for 30 minutes); ``stop`` is looked at every ``tick_s``, so a closing window is never held up longer."""
        client = self.imap()

        def seen() -> tuple[Any, ...]:
            info = self.select(folder, readonly=True)
            return tuple(info.get(key) for key in (b"UIDVALIDITY", b"UIDNEXT", b"EXISTS", b"HIGHESTMODSEQ"))

        # Mail that came while the sync after the last wake ran arrives with this SELECT, not in IDLE: compared with
        # what the last watch saw when it woke, it wakes this one at once.
        now, before = seen(), self._watch_seen.get(folder)
        self._watch_seen[folder] = now
        if before is not None and before != now:
            return True
        with self._imap_errors(f"waiting for mail in {folder}"):
            if not client.has_capability("IDLE"):
                stop.wait(min(renew_after_s, 60.0))  # no IDLE: look again in a minute
                return not stop.is_set()
            while not stop.is_set():
                client.idle()
                renew_at = time.monotonic() + renew_after_s
                changed = closed = False
                early_empty = 0
                try:
                    while not stop.is_set() and time.monotonic() < renew_at:
                        asked = time.monotonic()
                        responses = client.idle_check(timeout=tick_s)
                        if any(r and r[0] == b"BYE" for r in responses):
                            closed = True  # the server ends the session (shutting down, or kicked it)
                            break
                        # imapclient reads the connection's end as "nothing yet", at once: an empty answer long
                        # before the timeout, twice in a row, is a closed connection (a slow half line is once).
                        early_empty = early_empty + 1 if not responses and time.monotonic() - asked < tick_s / 4 else 0
                        if early_empty >= 2:
                            closed = True
                            break
                        if any(len(r) > 1 and r[1] in (b"EXISTS", b"EXPUNGE", b"FETCH", b"VANISHED")
                               for r in responses):
                            changed = True
                            break
                finally:
                    if not closed:
                        client.idle_done()
                if closed:
                    raise IMAPClientAbortError("the server closed the connection")
                if changed:
                    self._watch_seen[folder] = seen()  # before the sync starts: what comes later wakes the next watch
                    return True
        return False

    # -- outbox -------------------------------------------------------------------------------------------------------
    def apply(self, entry: OutboxEntry) -> dict[str, Any]:
        p = entry.payload
        if entry.op == "send":
            return self._send(p)
        if entry.op == "set-flags":
            return self._set_flags(p)
        if entry.op == "move":
            return self._move(p)
        if entry.op == "save-draft":
            return self._save_draft(p)
        if entry.op == "delete-draft":
            return self._delete_draft(p)
        if entry.op.startswith("event-"):
            return self.dav().apply(entry)  # type: ignore[no-any-return]
        raise PermanentError(f"the IMAP connector cannot do {entry.op!r}")

    def _uid_in(self, folder: str, validity: int, uid: int, message_id: str = "") -> int | None:
        """The message's UID in ``folder`` now: the same UID in the same epoch if it is still there, else by its
        Message-ID."""
        info = self.select(folder, readonly=False)
        client = self.imap()
        with self._imap_errors(f"looking for a message in {folder}"):
            if int(info.get(b"UIDVALIDITY", 0)) == validity and int(info.get(b"EXISTS", 0)):
                if client.search(["UID", str(uid)]):
                    return uid
            if message_id:
                found = client.search(["HEADER", "Message-ID", message_id])
                if found:
                    return int(max(found))
        return None

    def _message_id_of(self, payload: dict[str, Any]) -> str:
        return str(payload.get("message_id_header") or "")

    def _set_flags(self, p: dict[str, Any]) -> dict[str, Any]:
        validity, uid, folder = split_remote_id(p["remote_id"])
        current = self._uid_in(folder, validity, uid, self._message_id_of(p))
        if current is None:
            raise PermanentError(f"the message is no longer in {folder} on {self.imap_host}")
        client = self.imap()
        with self._imap_errors("changing flags"):
            for field, flag in (("is_read", b"\\Seen"), ("is_flagged", b"\\Flagged")):
                if p.get(field) is True:
                    client.add_flags([current], [flag], silent=True)
                elif p.get(field) is False:
                    client.remove_flags([current], [flag], silent=True)
        return {"remote_id": remote_id(validity, current, folder)}

    def _move(self, p: dict[str, Any]) -> dict[str, Any]:
        validity, uid, folder = split_remote_id(p["remote_id"])
        target = self.folder_for(str(p["to"]), create=True)
        if target == folder:
            return {"remote_id": p["remote_id"], "folder": target}
        client = self.imap()
        current = self._uid_in(folder, validity, uid)
        message_id = ""
        if current is not None:
            with self._imap_errors("moving a message"):
                head = client.fetch([current], ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]).get(current, {})
                message_id = header_message_id(next(iter(v for k, v in head.items() if k.startswith(b"BODY")), b""))
                if client.has_capability("MOVE"):
                    client.move([current], target)
                else:
                    client.copy([current], target)
                    client.delete_messages([current], silent=True)
                    if client.has_capability("UIDPLUS"):
                        client.uid_expunge([current])
                    else:
                        client.expunge()
        new = self._find(target, message_id) if message_id else None
        if current is None and new is None:
            raise PermanentError(f"the message is no longer in {folder} on {self.imap_host}")
        return {"remote_id": new or p["remote_id"], "folder": target}

    def _find(self, folder: str, message_id: str, *, with_flags: bool = False) -> str | None:
        """The remote id of the message with this Message-ID in ``folder`` (the newest, if several)."""
        info = self.select(folder, readonly=False)
        client = self.imap()
        with self._imap_errors(f"searching {folder}"):
            found = client.search(["HEADER", "Message-ID", message_id]) if int(info.get(b"EXISTS", 0)) else []
        if not found:
            return None
        return remote_id(int(info.get(b"UIDVALIDITY", 0)), int(max(found)), folder)

    def _keywords(self, folder: str, rid: str) -> set[bytes]:
        _validity, uid, _folder = split_remote_id(rid)
        client = self.imap()
        with self._imap_errors(f"reading flags in {folder}"):
            data = client.fetch([uid], ["FLAGS"]).get(uid, {})
        return {f.lower() for f in data.get(b"FLAGS", ())}

    def _append(self, folder: str, raw: bytes, flags: list[bytes]) -> None:
        client = self.imap()
        with self._imap_errors(f"saving a copy in {folder}"):
            try:
                client.append(folder, raw, flags=flags)
                self.requests_made += 1
            except IMAPClientError as exc:
                if _is_drop(exc):
                    raise
                text = errors._one_line(exc)
                if errors.is_quota(text):
                    raise PermanentError(f"the mailbox of {self.username} is over its quota: {text}") from None
                if "NONEXISTENT" in text.upper() or "not exist" in text.lower():
                    self._folders = None
                    raise PermanentError(f"the folder {folder!r} no longer exists on {self.imap_host}") from None
                raise TransientError(f"{self.imap_host} did not save the copy in {folder}: {text}") from None

    def _send(self, p: dict[str, Any]) -> dict[str, Any]:
        raw = base64.b64decode(p["raw"])
        message_id = header_message_id(raw) or self._message_id_of(p)
        if not message_id:
            raise PermanentError("a message to send needs a Message-ID")
        sent = self.folder_for("sent", create=not self.sent_by_server)
        found = self._find(sent, message_id)
        if self.sent_by_server:
            if found:
                return {"remote_id": found, "folder": sent}
            self._smtp_send(raw)
            for _ in range(10):  # the provider files it in Sent as it accepts it; give it a moment
                found = self._find(sent, message_id)
                if found:
                    break
                time.sleep(0.5)
            return {"remote_id": found or "", "folder": sent}
        if found:
            keywords = self._keywords(sent, found)
            if SUBMITTING.lower().encode() in keywords:
                raise PermanentError(
                    "the app stopped while the server was taking this message: it may have gone out. Check the"
                    " recipient's copy or the Sent folder, then send it again or discard it")
            if QUEUED.lower().encode() not in keywords:
                return {"remote_id": found, "folder": sent}  # sent before the crash
        else:
            self._append(sent, raw, [b"\\Seen", QUEUED.encode()])
            found = self._find(sent, message_id)
            if not found:
                raise TransientError(f"{self.imap_host} did not show the copy saved in {sent}; trying again later")
        self.on_send_step("appended")
        _validity, uid, _folder = split_remote_id(found)
        client = self.imap()

        def before_data() -> None:
            with self._imap_errors("marking the copy in Sent"):
                client.add_flags([uid], [SUBMITTING.encode()], silent=True)
                client.remove_flags([uid], [QUEUED.encode()], silent=True)
            self.on_send_step("smtp-data")

        try:
            self._smtp_send(raw, before_data=before_data)
        except PermanentError:
            with contextlib.suppress(UserError, TransientError):  # the copy of a refused message leaves Sent
                self.select(sent, readonly=False)
                with self._imap_errors("removing the refused copy"):
                    client.delete_messages([uid], silent=True)
                    client.uid_expunge([uid]) if client.has_capability("UIDPLUS") else client.expunge()
            raise
        except TransientError:
            with contextlib.suppress(UserError, TransientError):  # not taken: the retry may send it
                with self._imap_errors("marking the copy in Sent"):
                    client.add_flags([uid], [QUEUED.encode()], silent=True)
                    client.remove_flags([uid], [SUBMITTING.encode()], silent=True)
            raise
        self.on_send_step("accepted")
        with self._imap_errors("marking the copy in Sent as sent"):
            client.remove_flags([uid], [SUBMITTING.encode(), QUEUED.encode()], silent=True)
        return {"remote_id": found, "folder": sent}

    def _smtp_send(self, raw: bytes, before_data: Callable[[], None] | None = None) -> None:
        host, port, security = self.smtp_host, self.smtp_port, self.smtp_security
        if not host:
            raise InvalidInput("this account has no SMTP server set: add it again")
        msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        sender = email.utils.parseaddr(str(msg.get("From", "")))[1] or self.account.address
        recipients = [a for _n, a in email.utils.getaddresses(
            [str(v) for h in ("To", "Cc", "Bcc") for v in msg.get_all(h, [])]) if a]
        if not recipients:
            raise PermanentError("the message has no recipients")
        if msg.get("Bcc") is not None:
            del msg["Bcc"]
            raw = msg.as_bytes()
        context = self._context()
        smtp: smtplib.SMTP | None = None
        try:
            if security == "ssl":
                smtp = smtplib.SMTP_SSL(host, port, timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(host, port, timeout=self.timeout)
                smtp.ehlo()
                if security == "starttls":
                    smtp.starttls(context=context)
                    smtp.ehlo()
            self._check_pinned(smtp.sock, host, port)
            self._smtp_login(smtp, host)
            code, answer = smtp.mail(sender)
            if code != 250:
                smtp.rset()
                raise smtplib.SMTPSenderRefused(code, answer, sender)
            refused = {}
            for rcpt in recipients:
                code, answer = smtp.rcpt(rcpt)
                if code not in (250, 251):
                    refused[rcpt] = (code, answer)
            if len(refused) == len(recipients):
                smtp.rset()
                raise smtplib.SMTPRecipientsRefused(refused)
            if before_data is not None:
                before_data()
            code, answer = smtp.data(raw)
            if code != 250:
                raise smtplib.SMTPDataError(code, answer)
            self.requests_made += 1
        except ssl.SSLCertVerificationError as exc:
            raise self._certificate_failure(exc, "smtp") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise errors.smtp_failure(exc, self.username, host, port, self.app_password_url) from None
        finally:
            if smtp is not None:
                with contextlib.suppress(Exception):
                    smtp.quit()
                with contextlib.suppress(Exception):
                    smtp.close()

    def _save_draft(self, p: dict[str, Any]) -> dict[str, Any]:
        raw = base64.b64decode(p["raw"])
        message_id = header_message_id(raw) or self._message_id_of(p)
        drafts = self.folder_for("drafts", create=True)
        same = self._find(drafts, message_id) if message_id else None
        if same is not None and _same_text(self.fetch_raw(same), raw):
            return {"draft_remote_id": same}
        self._append(drafts, raw, [b"\\Draft", b"\\Seen"])
        new = self._find(drafts, message_id) if message_id else None
        for old in {r for r in (p.get("draft_remote_id"), same) if r and r != new}:
            self._delete(str(old))
        if new is None:
            raise PermanentError("the draft could not be found after saving it (it has no Message-ID?)")
        return {"draft_remote_id": new}

    def _delete(self, rid: str) -> None:
        validity, uid, folder = split_remote_id(rid)
        try:
            current = self._uid_in(folder, validity, uid)
        except PermanentError:
            return  # the folder is gone, and the message with it
        if current is None:
            return
        client = self.imap()
        with self._imap_errors("deleting a message"):
            client.delete_messages([current], silent=True)
            if client.has_capability("UIDPLUS"):
                client.uid_expunge([current])
            else:
                client.expunge()

    def _delete_draft(self, p: dict[str, Any]) -> dict[str, Any]:
        self._delete(str(p["draft_remote_id"]))  # gone already: a retry, or sent or deleted elsewhere
        return {"draft_remote_id": p["draft_remote_id"]}

    # -- calendars and contacts (CalDAV/CardDAV) --------------------------------------------------------------------
    def dav(self) -> Any:
        if self._dav is None:
            url = self.account.settings.get("caldav_url")
            if not url:
                raise PermanentError("this account has no CalDAV address set")
            from assistant.connectors.imap.dav import DavCalendars

            settings = self.account.settings
            self._dav = DavCalendars(str(url), self.username, self.password(), self._saved_cursors,
                                     principal_id=self.account.principal_id, account_id=self.account_id,
                                     calendar_url=settings.get("calendar_url") or None,
                                     calendars=settings.get("calendars") or None, timeout=self.timeout)
        return self._dav

    def resume(self, cursors: dict[str, str | None]) -> None:
        """The calendar and contacts cursors saved by the last sync: their ETags make an edit or a delete pushed before
        this sync's pull conditional on the version it was based on (If-Match), after a restart too."""
        self._saved_cursors = {part: value for part, value in cursors.items() if value}
        if self._dav is not None:
            self._dav.load_state(self._saved_cursors)

    def calendar_changes(self, cursor: str | None) -> Iterator[CalendarPage]:
        if not self.account.settings.get("caldav_url"):
            return iter(())
        return self.dav().calendar_changes(cursor)  # type: ignore[no-any-return]

    def contacts_changes(self, cursor: str | None) -> Iterator[ContactsPage]:
        if not self.account.settings.get("caldav_url"):
            return iter(())
        return self.dav().contacts_changes(cursor)  # type: ignore[no-any-return]

    def health(self) -> str:
        try:
            self.imap()
            with self._imap_errors("checking the connection"):
                self.imap().noop()
        except (UserError, TransientError) as exc:
            return errors._one_line(exc)
        return "ok"


def _is_drop(exc: BaseException) -> bool:
    """imaplib's abort, or imapclient's wrapping of a socket error into a command failure."""
    return isinstance(exc, IMAPClientAbortError) or "socket error" in str(exc).lower()


def _same_text(stored: bytes, raw: bytes) -> bool:
    def norm(data: bytes) -> bytes:
        return data.replace(b"\r\n", b"\n").rstrip(b"\n")

    return norm(stored) == norm(raw)


def probe_fingerprint(service: str, host: str, port: int, security: str, timeout: float = 15.0) -> str:
    """The SHA-256 fingerprint of the certificate ``host`` shows, read without trusting it (for the message that asks
    the user whether to)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if security == "ssl":
        with socket.create_connection((host, port), timeout=timeout) as raw_sock, \
                context.wrap_socket(raw_sock, server_hostname=host) as tls:
            return errors.fingerprint(tls.getpeercert(binary_form=True) or b"")
    if service == "imap":
        client = IMAPClient(host, port=port, ssl=False, timeout=timeout)
        try:
            client.starttls(context)
            return errors.fingerprint(client.socket().getpeercert(binary_form=True) or b"")
        finally:
            with contextlib.suppress(Exception):
                client.shutdown()
    with smtplib.SMTP(host, port, timeout=timeout) as smtp:
        smtp.starttls(context=context)
        sock = smtp.sock
        der = sock.getpeercert(binary_form=True) if isinstance(sock, ssl.SSLSocket) else None
        return errors.fingerprint(der or b"")
