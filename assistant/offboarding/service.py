"""A principal's offboarding, in five steps, each recorded in the export folder once done so a run that stopped half-way
(closed, killed, offline) is finished by running it again:

1. export everything of theirs in open formats (:mod:`assistant.offboarding.export`);
2. verify the export against the workspace (read back, counts and SHA-256s);
3. revoke the grants at each provider and delete the saved sign-ins from the credential store;
4. delete every row, body and index entry of theirs (``Store.delete_principal``: one transaction, after checking
   once more that the workspace still matches the export) and the files the app keeps for them inside the workspace
   folder (a demo's sources, copies of draft attachments);
5. compact the database (``Store.compact``: full-text indexes merged, VACUUM, the log truncated) so nothing remains
   in free pages; then write and return the receipt.

Nothing of another principal is read for writing or touched. The record is ``offboarding.json`` in the export folder;
after step 4 the principal is gone from the workspace, and the record is what lets a second run finish.
"""
from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.connectors.gmail import auth as gmail_auth
from assistant.connectors.outlook import auth as outlook_auth
from assistant.core import timezones
from assistant.core.credentials import CredentialStore
from assistant.core.errors import InvalidInput, NotFound, UserError
from assistant.domain import Account
from assistant.offboarding.export import (
    MANIFEST,
    ExportMismatch,
    Manifest,
    Progress,
    export_principal,
    receipt_lines,
    verify,
)
from assistant.store import Store, ensure_private_dir
from assistant.store import drafts as draft_store

RECORD = "offboarding.json"
RECEIPT = "receipt.txt"
STEPS = ("exported", "verified", "revoked", "deleted", "compacted")


@dataclass
class Offboarding:
    """What has been done so far (``offboarding.json``)."""

    principal_id: int
    principal: str
    addresses: list[str]
    workspace: str
    done: dict[str, str] = field(default_factory=dict)  # step -> when (UTC, ISO 8601)
    revoked: list[str] = field(default_factory=list)  # one line per account
    deleted: dict[str, int] = field(default_factory=dict)  # rows per table
    files: list[str] = field(default_factory=list)  # files and folders inside the workspace to delete
    files_deleted: list[str] = field(default_factory=list)
    left_in_place: list[str] = field(default_factory=list)  # sources outside the workspace, not the app's to delete

    def save(self, root: Path) -> None:
        tmp = root / (RECORD + ".tmp")
        tmp.write_text(json.dumps(self.__dict__, indent=1, ensure_ascii=False), encoding="utf-8")
        tmp.replace(root / RECORD)

    def mark(self, root: Path, step: str) -> None:
        self.done[step] = timezones.iso_utc(timezones.now_utc()) or ""
        self.save(root)

    @classmethod
    def load(cls, root: Path) -> Offboarding | None:
        try:
            return cls(**json.loads((root / RECORD).read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:
            raise InvalidInput(f"{root / RECORD} is not an offboarding record: {exc}") from exc


def _start(store: Store, name: str, root: Path) -> Offboarding:
    """The offboarding to continue in ``root``, or a new one for the principal ``name``."""
    record = Offboarding.load(root) if root.is_dir() else None
    if record is not None:
        if record.principal.casefold() != name.strip().casefold():
            raise InvalidInput(f"{root} holds the offboarding of {record.principal}, not {name}: choose another folder")
        if record.workspace != str(store.path):
            raise InvalidInput(f"{root} holds an offboarding of another workspace ({record.workspace})")
        return record
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise InvalidInput(f"{root} is not empty: export to a new or empty folder")
    principal = store.principal_by_name(name)  # NotFound names the principals there are
    ensure_private_dir(root)
    record = Offboarding(principal.id, principal.name, list(principal.addresses), str(store.path))
    record.save(root)
    return record


def _revoke(account: Account, credentials: CredentialStore | None) -> str:
    """Revoke one account's grant at its provider and delete its saved sign-in; says what was done."""
    if account.kind == gmail_auth.KIND:
        return gmail_auth.revoke_sign_in(account, credentials)
    if account.kind == outlook_auth.KIND:
        return outlook_auth.forget_sign_in(account, credentials)
    if account.kind == "imap":
        shared = (account.settings.get("oauth") or {}).get("provider")
        if shared:
            return f"no password: it signed in with the {shared} account's sign-in (revoked with that account)"
        key = account.settings.get("credential_key")
        if not key:
            return "no saved password"
        (credentials or CredentialStore()).delete(str(key))
        return "saved password deleted"
    return "no sign-in (local files)" if account.kind in ("local", "import") else "no sign-in known for this kind"


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _files_of(store: Store, principal_id: int) -> tuple[list[str], list[str]]:
    """The principal's files inside the workspace folder (to delete) and their sources outside it (left alone: the
    user's own maildir or calendar folder is not the app's to delete)."""
    inside: list[str] = []
    outside: list[str] = []
    for account in store.accounts(principal_id):
        for key in ("maildir", "mbox", "calendar"):
            value = account.settings.get(key)
            if value:
                (inside if _inside(Path(value), store.dir) else outside).append(str(value))
    for d in draft_store.list_drafts(store.scope(principal_id)):
        for attachment in d.attachments:
            path = Path(attachment)
            if _inside(path, store.dir):
                # the copy folder ui/mail/actions.py makes per draft: outgoing-attachments/<id>/name
                inside.append(str(path.parent if path.parent.parent.name == "outgoing-attachments" else path))
    # a demo principal's generated sources live in one folder per principal: take the folder, not just its parts
    parents = {str(Path(p).parent) for p in inside if Path(p).parent.parent.name == "demo-sources"}
    inside = sorted(parents | {p for p in inside if str(Path(p).parent) not in parents})
    return inside, sorted(set(outside))


def _delete_files(store: Store, paths: list[str]) -> list[str]:
    gone = []
    for value in paths:
        path = Path(value)
        if not _inside(path, store.dir) or path.resolve() == store.dir.resolve():
            continue
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        gone.append(value)
    return gone


class Cancelled(UserError):
    """Stopped by the assistant while exporting or verifying: nothing was revoked or deleted."""


def offboard(store: Store, name: str, export_dir: str | Path, *, progress: Progress | None = None,
             credentials: CredentialStore | None = None, after_step: Callable[[str], None] | None = None,
             cancelled: Callable[[], bool] | None = None) -> Offboarding:
    """Offboard the principal ``name`` into ``export_dir`` (new or empty, or holding this offboarding to finish).
    ``after_step`` is called with each step's name once it is recorded. ``cancelled()`` is asked at every progress
    report while exporting and verifying (where stopping is safe; from revoking on, the run goes to its end). Returns
    the record; the receipt is :func:`receipt` of it (also written to ``receipt.txt``)."""
    told = progress or (lambda _what, _done, _total: None)
    safe_to_stop = True

    def report(what: str, done: int, total: int) -> None:
        if safe_to_stop and cancelled is not None and cancelled():
            raise Cancelled(f"offboarding cancelled: nothing was revoked or deleted ({name} is as before)")
        told(what, done, total)

    root = Path(export_dir).expanduser()
    record = _start(store, name, root)
    try:
        store.principal(record.principal_id)
        present = True
    except NotFound:
        present = False
    if not present and "deleted" not in record.done:
        raise NotFound(f"{record.principal} is no longer in this workspace, but {root} does not record deleting them")
    safe_to_stop = not ({"revoked", "deleted"} & set(record.done))

    def step(name: str, total: int = 1) -> None:
        report(name, 0, total)

    if "deleted" not in record.done:
        if "verified" not in record.done:  # an export not verified yet is made again, from the workspace as it is now
            step("Exporting")
            export_principal(store, record.principal_id, root, report)
            record.mark(root, "exported")
            _after(after_step, "exported")
        if "verified" not in record.done:
            step("Verifying the export")
            verify(store, record.principal_id, root)
            record.mark(root, "verified")
            _after(after_step, "verified")
        report("Revoking access", 0, 1)
        safe_to_stop = False
        if "revoked" not in record.done:
            accounts = store.accounts(record.principal_id)
            record.revoked = []
            for i, account in enumerate(accounts):
                report("Revoking access", i, len(accounts))
                record.revoked.append(f"{account.kind} {account.address}: {_revoke(account, credentials)}")
                record.save(root)
            record.mark(root, "revoked")
            _after(after_step, "revoked")
        step("Deleting")
        try:
            verify(store, record.principal_id, root)  # nothing arrived since the export (a sync between two runs)
        except ExportMismatch:
            step("Exporting again: the workspace changed since the export")
            export_principal(store, record.principal_id, root, report)
            record.mark(root, "exported")
            verify(store, record.principal_id, root)
            record.mark(root, "verified")
        record.files, record.left_in_place = _files_of(store, record.principal_id)
        record.save(root)
        record.deleted = store.delete_principal(record.principal_id)
        record.mark(root, "deleted")
        _after(after_step, "deleted")
    if record.files and set(record.files_deleted) != set(record.files):
        record.files_deleted = _delete_files(store, record.files)
        record.save(root)
    if "compacted" not in record.done:
        step("Compacting the workspace")
        store.compact()
        record.mark(root, "compacted")
        _after(after_step, "compacted")
    (root / RECEIPT).write_text(receipt(record, root), encoding="utf-8")
    report("Done", 1, 1)
    return record


def _after(callback: Callable[[str], None] | None, step: str) -> None:
    if callback is not None:
        callback(step)


def receipt(record: Offboarding, root: Path) -> str:
    """The receipt, as plain text that can be sent to the principal."""
    manifest = Manifest.from_json(json.loads((root / MANIFEST).read_text(encoding="utf-8")))
    lines = [f"Offboarding receipt for {record.principal} ({', '.join(record.addresses)})", ""]
    lines.append(f"Exported on {record.done.get('exported', '?')} and verified on {record.done.get('verified', '?')}"
                 f" into {root}:")
    lines += [f"  {area}: {n}" for area, n in manifest.counts.items()]
    lines.append("Files (open formats; SHA-256 of each, to check the copy you receive):")
    lines += receipt_lines(manifest)
    lines += ["", "Access revoked and sign-ins deleted:"]
    lines += [f"  {line}" for line in record.revoked] or ["  no accounts"]
    lines += ["", f"Deleted from the workspace on {record.done.get('deleted', '?')}:"]
    lines += [f"  {table}: {n} rows" for table, n in sorted(record.deleted.items())]
    if record.files_deleted:
        lines += ["Files deleted from the workspace folder:"] + [f"  {p}" for p in record.files_deleted]
    if record.left_in_place:
        lines += ["Sources outside the workspace, not deleted (the files you or the assistant pointed the app at):"]
        lines += [f"  {p}" for p in record.left_in_place]
    lines.append(f"Workspace compacted on {record.done.get('compacted', '?')}: nothing of yours remains in its files.")
    return "\n".join(lines) + "\n"


def describe(record: Offboarding) -> dict[str, Any]:
    """The record as the command line's JSON prints it."""
    return {"principal": record.principal, "done": record.done, "revoked": record.revoked, "deleted": record.deleted,
            "files_deleted": record.files_deleted, "left_in_place": record.left_in_place}


__all__ = ["Cancelled", "offboard", "receipt", "describe", "Offboarding", "STEPS", "RECORD", "RECEIPT", "UserError"]
