"""The sync engine: one plain function per account, no Qt (vdirsyncer's shape; the UI runs it on a worker).

Order of a pass: push the outbox (so the pull sees the server after our changes), then pull mail, then calendar pages,
then contacts (only for accounts whose ``contacts`` setting is on).
Each page and its cursor land in one transaction, so a crash between pages loses nothing and repeats nothing. An outbox
entry is marked in flight before the remote call; one found in flight at the start was interrupted and is re-applied,
which is safe because connectors apply entries idempotently.
"""
from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from assistant import connectors
from assistant.connectors.base import Capability, Connector
from assistant.core import timezones
from assistant.core.errors import NeedsSignIn, PermanentError, SourceLooksEmpty, TransientError, UserError, disk_full
from assistant.domain import Account, AccountStatus, OutboxEntry
from assistant.store import Store
from assistant.store import calendar as calendar_store
from assistant.store import mail as mail_store
from assistant.sync.fetch import fetch_message_source
from assistant.sync.hooks import AfterMailPull, MailPulled, mail_pull_hooks

log = logging.getLogger(__name__)

Progress = Callable[[int, str], None]
Say = Callable[[str], None]
BACKOFF_BASE_S = 30.0
BACKOFF_CAP_S = 3600.0
# Local copies of things not yet at the provider (a queued send, a new event) carry this id prefix until it is known.
STAND_IN_PREFIX = "outbox:"
# Remote ops whose result may carry the provider's id for something we created locally under a stand-in id.
_RENAMES = {"send": "message", "event-create": "event"}


@dataclass
class SyncReport:
    account_id: int
    principal: str
    kind: str
    address: str
    mail: dict[str, int] = field(default_factory=lambda: {"added": 0, "updated": 0, "removed": 0})
    events: dict[str, int] = field(default_factory=lambda: {"added": 0, "updated": 0, "removed": 0})
    contacts: dict[str, int] = field(default_factory=lambda: {"added": 0, "updated": 0, "removed": 0})
    outbox: dict[str, int] = field(default_factory=lambda: {"sent": 0, "failed": 0, "pending": 0})
    requests: int = 0
    # Outbox entries that failed for good and wait for the user (retry, edit or discard), this pass's and earlier
    # ones: each {"entry_id", "op", "error", "draft_id"}. ``outbox["failed"]`` counts them; ``failed_now`` counts the
    # ones that failed in this pass (what a notification announces once).
    failed: list[dict[str, Any]] = field(default_factory=list)
    failed_now: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # items that could not be read; the rest synced
    status: str = AccountStatus.OK.value

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# How each resource is pulled: (store, account, connector, report, allow_empty, say).
_Pull = Callable[[Store, Account, Connector, SyncReport, bool, Say], None]


def backoff_delay(attempts: int, rng: random.Random | None = None) -> float:
    """Truncated exponential backoff with full jitter in the upper half: 30 s, 60 s, 120 s … capped at an hour."""
    ceiling: float = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1))  # int ** int is Any to mypy
    return ceiling * (rng.uniform(0.5, 1.0) if rng is not None else random.uniform(0.5, 1.0))


make_connector = connectors.connect


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def sync_account(
    store: Store,
    account_id: int,
    connector: Connector | None = None,
    *,
    now: datetime | None = None,
    allow_empty: bool = False,
    progress: Progress | None = None,
    credentials: Any = None,
    woken_folder: str | None = None,
) -> SyncReport:
    """One pass: push the outbox, then pull mail, calendar and contacts.

    ``woken_folder``: the pass after an IDLE wake (the server said this folder changed): mail is read from that folder
    only, where the connector can narrow its pass (``only_folders``), and calendars and contacts wait for a full pass."""
    account = store.account(account_id)
    principal = store.principal(account.principal_id)
    report = SyncReport(account_id, principal.name, account.kind, account.address)
    now = now or timezones.now_utc()

    def say(text: str) -> None:
        if progress is not None:
            progress(account_id, text)

    store.set_account_status(account_id, AccountStatus.SYNCING, account.last_error)
    say("syncing")
    own_connector = connector is None
    final_status, reason = AccountStatus.OK, ""
    try:
        if connector is None:
            connector = make_connector(account, credentials)
        if woken_folder is not None and hasattr(connector, "only_folders"):
            connector.only_folders = [woken_folder]
        connector.resume({resource: store.get_cursor(account_id, resource) for resource in ("calendar", "contacts")})
        _push_outbox(store, account, connector, now, report, say)
        # Each resource is pulled on its own: a failing calendar must not keep the mail from syncing, nor the reverse.
        new_message_ids: list[int] = []
        pulls: list[tuple[Capability, str, _Pull]] = [
            (Capability.MAIL, "mail", partial(_pull_mail, new_message_ids=new_message_ids)),
            (Capability.CALENDAR, "calendar", _pull_calendar)]
        if woken_folder is not None:
            pulls = pulls[:1]
        elif account.settings.get("contacts"):  # only when the user turned contacts on (its scope is asked for then)
            pulls.append((Capability.CONTACTS, "contacts", _pull_contacts))
        after_pull = _before_pull(store, account, report)
        for capability, resource, pull in pulls:
            if not connector.has(capability):
                continue
            try:
                pull(store, account, connector, report, allow_empty, say)
            except NeedsSignIn:
                raise
            except (UserError, TransientError) as exc:
                report.errors.append(f"{resource}: {_one_line(exc)}")
                if final_status is AccountStatus.OK:
                    final_status = AccountStatus.OFFLINE if isinstance(exc, TransientError) else AccountStatus.ERROR
        # The features that react to new mail (approval answers, follow-ups a reply cancels); what an approval
        # releases is pushed in this pass too.
        pulled = MailPulled(store, account, now, tuple(new_message_ids),
                            lambda: _push_outbox(store, account, connector, now, report, say),
                            partial(fetch_message_source, store, account.principal_id, connector=connector))
        for name, after in after_pull:
            try:
                report.warnings += after(pulled)
            except UserError as exc:
                report.warnings.append(f"{name}: {_one_line(exc)}")
            except Exception as exc:  # a feature's bug must not fail the mail sync that already landed
                log.exception("the %r sync hook failed for account %s", name, account.id)
                report.warnings.append(f"{name}: internal error: {_one_line(exc)}")
    except NeedsSignIn as exc:
        final_status = AccountStatus.NEEDS_SIGN_IN
        report.errors.append(_one_line(exc))
    except UserError as exc:
        final_status = AccountStatus.ERROR
        report.errors.append(_one_line(exc))
    except TransientError as exc:
        final_status = AccountStatus.OFFLINE
        report.errors.append(_one_line(exc))
    except Exception as exc:  # a bug: logged with its traceback, shown as one line, other accounts still sync
        full = disk_full(exc, store.dir)
        if full is None:
            log.exception("sync of account %s failed", account.id)
        final_status = AccountStatus.ERROR
        report.errors.append(_one_line(full) if full is not None else f"internal error: {_one_line(exc)}")
    finally:
        if connector is not None:
            report.requests = connector.requests_made
            if own_connector:
                connector.close()
    report.outbox["pending"] = len(store.outbox(account_id, states=("pending", "in-flight")))
    _report_failed(store, account_id, report)
    if final_status is not AccountStatus.OK:
        reason = report.errors[0] if report.errors else final_status.value
    store.set_account_status(account_id, final_status, reason, synced=final_status is AccountStatus.OK)
    if report.errors:  # what the user sees as one line, kept in the app's log too (core/logs.py)
        log.warning("sync of account %s: %s: %s", account_id, final_status.value, "; ".join(report.errors))
    report.status = final_status.value
    say("up to date" if final_status is AccountStatus.OK else reason)
    return report


def sync_all(store: Store, principal_id: int | None = None, **kw: Any) -> list[SyncReport]:
    """One pass over every account (of one principal, if given); imported archives have nothing to sync."""
    reports = []
    for a in store.accounts(principal_id):
        if a.kind != "import":
            reports.append(sync_account(store, a.id, **kw))
    return reports


# -- push ------------------------------------------------------------------------------------------------------------
def _push_outbox(store: Store, account: Account, connector: Connector, now: datetime, report: SyncReport,
                 say: Say) -> None:
    due = store.due_outbox(account.id, now)
    if due:
        say(f"sending {len(due)} change(s)")
    for entry in due:
        store.mark_outbox(entry.id, "in-flight", error=entry.last_error, count_attempt=True)
        try:
            result = connector.apply(entry) or {}
        except NeedsSignIn as exc:
            store.mark_outbox(entry.id, "pending", error=_one_line(exc))
            raise
        except TransientError as exc:
            attempts = entry.attempts + 1
            delay = exc.retry_after if exc.retry_after is not None else backoff_delay(attempts)
            store.mark_outbox(entry.id, "pending", error=_one_line(exc), next_attempt=now + timedelta(seconds=delay))
            continue
        except PermanentError as exc:
            log.warning("outbox entry %s (%s) refused: %s", entry.id, entry.op, _one_line(exc))
            _failed(store, entry, _one_line(exc))
            report.failed_now += 1
            continue
        except Exception as exc:  # a bug or an unreadable answer: kept visible, not retried blindly
            full = disk_full(exc, store.dir)
            if full is not None:  # a local write (the Sent folder) found the disk full: tried again later
                attempts = entry.attempts + 1
                store.mark_outbox(entry.id, "pending", error=_one_line(full),
                                  next_attempt=now + timedelta(seconds=backoff_delay(attempts)))
                report.errors.append(f"{entry.op}: {_one_line(full)}")
                continue
            log.exception("outbox entry %s (%s) failed", entry.id, entry.op)
            _failed(store, entry, f"internal error: {_one_line(exc)}")
            report.failed_now += 1
            continue
        with store.transaction():
            _adopt_remote_id(store, entry, result)
            store.mark_outbox(entry.id, "done", result=result)
        report.outbox["sent"] += 1


_WHAT = {"send": "Sending", "save-draft": "Saving a draft", "delete-draft": "Deleting a draft",
         "set-flags": "Marking a message", "move": "Moving a message", "event-create": "Creating an event",
         "event-update": "Changing an event", "event-delete": "Deleting an event"}


def _failed(store: Store, entry: OutboxEntry, reason: str) -> None:
    """The provider refused for good: the entry waits for the user, and a send's local copy leaves Sent (it did not
    go; the retry puts it back)."""
    stand_in = entry.payload.get("local_remote_id")
    with store.transaction():
        store.mark_outbox(entry.id, "failed", error=reason)
        if entry.op == "send" and stand_in:
            mail_store.remove_messages(store.scope(entry.principal_id), entry.account_id, [stand_in])


def failure_line(entry: OutboxEntry) -> str:
    """One sentence for a failed entry: what did not happen, for which draft, and the provider's reason."""
    draft = entry.payload.get("draft_id")
    what = _WHAT.get(entry.op, entry.op)
    return f"{what}{f' (draft {draft})' if draft else ''} failed: {entry.last_error or 'refused'}"


def _report_failed(store: Store, account_id: int, report: SyncReport) -> None:
    """Every failed entry is in every report until the user retries, edits or discards it."""
    for entry in store.outbox(account_id, states=("failed",)):
        report.failed.append({"entry_id": entry.id, "op": entry.op, "error": entry.last_error,
                              "draft_id": entry.payload.get("draft_id")})
        report.errors.append(failure_line(entry))
    report.outbox["failed"] = len(report.failed)


def _before_pull(store: Store, account: Account, report: SyncReport) -> list[tuple[str, AfterMailPull]]:
    """Each feature's hook notes where the mail stood; one that fails is a warning, left out of this pass, and the mail
    still syncs."""
    after_pull: list[tuple[str, AfterMailPull]] = []
    for name, hook in mail_pull_hooks():
        try:
            after_pull.append((name, hook(store, account)))
        except UserError as exc:
            report.warnings.append(f"{name}: {_one_line(exc)}")
        except Exception as exc:  # a feature's bug must not stop the mail from syncing
            log.exception("the %r sync hook failed for account %s", name, account.id)
            report.warnings.append(f"{name}: internal error: {_one_line(exc)}")
    return after_pull


def _adopt_remote_id(store: Store, entry: OutboxEntry, result: dict[str, Any]) -> None:
    kind = _RENAMES.get(entry.op)
    stand_in = entry.payload.get("local_remote_id")
    if kind and stand_in and result.get("remote_id"):
        rename = mail_store.rename_remote_id if kind == "message" else calendar_store.rename_remote_id
        rename(store.scope(entry.principal_id), entry.account_id, stand_in, str(result["remote_id"]))


def _pending_overrides(store: Store, account_id: int) -> dict[str, dict[str, Any]]:
    """Flag and folder changes the server has not taken yet: they win over what a pull brings, so a queued "mark read"
    is not undone by the next pull while the network is down."""
    out: dict[str, dict[str, Any]] = {}
    for entry in store.outbox(account_id, states=("pending", "in-flight")):
        rid = entry.payload.get("remote_id")
        if entry.op == "set-flags" and rid:
            o = out.setdefault(rid, {})
            for k in ("is_read", "is_flagged"):
                if k in entry.payload:
                    o[k] = entry.payload[k]
        elif entry.op == "move" and rid and entry.payload.get("local_folder"):
            out.setdefault(rid, {})["folders"] = [entry.payload["local_folder"]]
    return out


# -- pull ------------------------------------------------------------------------------------------------------------
def _pages(iterable: Iterator[Any]) -> Iterator[tuple[Any, bool]]:
    """Each page with whether it is the last: the last page of a full listing commits with its removals."""
    it = iter(iterable)
    try:
        page = next(it)
    except StopIteration:
        return
    while True:
        try:
            following = next(it)
        except StopIteration:
            yield page, True
            return
        yield page, False
        page = following


def _pull_mail(store: Store, account: Account, connector: Connector, report: SyncReport, allow_empty: bool,
               say: Say, *, new_message_ids: list[int]) -> None:
    scope = store.scope(account.principal_id)
    cursor = store.get_cursor(account.id, "mail")
    overrides = _pending_overrides(store, account.id)
    seen: set[str] | None = None
    for number, (page, last) in enumerate(_pages(connector.mail_changes(cursor)), 1):
        with store.transaction():
            for folder in page.folders:
                mail_store.upsert_folder(scope, folder)
            if page.full:
                seen = (seen or set()) | set(page.seen)
            if not (allow_empty or page.upserted):  # the guard's early return, before reading every remote id
                _guard_removals(_provider_ids(mail_store.message_remote_ids(scope, account.id)), page, "messages", allow_empty, seen,
                                last)
            for message, raw in page.upserted:
                if seen is not None:
                    seen.add(message.remote_id)
                for key, value in overrides.get(message.remote_id, {}).items():
                    setattr(message, key, value)
                message_id, outcome = mail_store.upsert_message(scope, message, raw)
                if outcome == "added":
                    new_message_ids.append(message_id)
                if outcome != "unchanged":
                    report.mail[outcome] += 1
                if message.parse_error:
                    report.warnings.append(f"message {message.remote_id}: {message.parse_error}")
            report.mail["removed"] += mail_store.remove_messages(scope, account.id, page.removed)
            if last and seen is not None:
                stale = _provider_ids(mail_store.message_remote_ids(scope, account.id)) - seen
                report.mail["removed"] += mail_store.remove_messages(scope, account.id, stale)
            if page.cursor is not None:
                store.set_cursor(account.id, "mail", page.cursor)
        say(f"mail: page {number}, {report.mail['added']} new")


def _pull_calendar(store: Store, account: Account, connector: Connector, report: SyncReport, allow_empty: bool,
                   say: Say) -> None:
    scope = store.scope(account.principal_id)
    cursor = store.get_cursor(account.id, "calendar")
    seen: set[str] | None = None
    for number, (page, last) in enumerate(_pages(connector.calendar_changes(cursor)), 1):
        report.warnings.extend(page.errors)
        with store.transaction():
            if page.full:
                seen = (seen or set()) | set(page.seen)
            _guard_removals(_provider_ids(calendar_store.event_remote_ids(scope, account.id)), page, "events", allow_empty, seen, last)
            for event in page.upserted:
                if seen is not None:
                    seen.add(event.remote_id)
                _, outcome = calendar_store.upsert_event(scope, event)
                if outcome != "unchanged":
                    report.events[outcome] += 1
            report.events["removed"] += calendar_store.remove_events(scope, account.id, page.removed)
            if last and seen is not None:
                stale = _provider_ids(calendar_store.event_remote_ids(scope, account.id)) - seen
                report.events["removed"] += calendar_store.remove_events(scope, account.id, stale)
            if page.cursor is not None:
                store.set_cursor(account.id, "calendar", page.cursor)
        say(f"calendar: page {number}, {report.events['added']} new")


def _pull_contacts(store: Store, account: Account, connector: Connector, report: SyncReport, allow_empty: bool,
                   say: Say) -> None:
    from assistant.store import contacts as contact_store

    scope = store.scope(account.principal_id)
    region = scope.principal.region
    cursor = store.get_cursor(account.id, "contacts")
    seen: set[str] | None = None
    for number, (page, last) in enumerate(_pages(connector.contacts_changes(cursor)), 1):
        with store.transaction():
            if page.full:
                seen = (seen or set()) | set(page.seen)
            _guard_removals(contact_store.contact_remote_ids(scope, account.id), page, "contacts", allow_empty, seen,
                            last)
            for contact in page.upserted:
                if seen is not None:
                    seen.add(contact.remote_id)
                outcome = contact_store.upsert_contact(scope, account.id, contact, region=region)
                if outcome != "unchanged":
                    report.contacts[outcome] += 1
            report.contacts["removed"] += contact_store.remove_contacts(scope, account.id, page.removed)
            if last and seen is not None:
                stale = contact_store.contact_remote_ids(scope, account.id) - seen
                report.contacts["removed"] += contact_store.remove_contacts(scope, account.id, stale)
            if page.cursor is not None:
                store.set_cursor(account.id, "contacts", page.cursor)
        say(f"contacts: page {number}, {report.contacts['added']} new")


def _provider_ids(remote_ids: set[str]) -> set[str]:
    """Ids a provider listing can vouch for: a queued send's local copy is not on the server yet, and must stay."""
    return {r for r in remote_ids if not r.startswith(STAND_IN_PREFIX)}


def _guard_removals(held: set[str], page: Any, what: str, allow_empty: bool, seen: set[str] | None,
                    last: bool) -> None:
    """vdirsyncer's StorageEmpty: a source that suddenly shows nothing stops the run instead of wiping our copy."""
    if allow_empty or not held or page.upserted:
        return
    if seen is not None:
        looks_empty = last and not seen
    else:
        looks_empty = bool(page.removed) and held <= set(page.removed)
    if looks_empty:
        raise SourceLooksEmpty(
            f"the source now shows no {what} but the workspace holds {len(held)}; nothing was removed "
            "(check the path, or sync with allow-empty to accept an empty source)"
        )


__all__ = ["SyncReport", "sync_account", "sync_all", "backoff_delay", "make_connector"]
