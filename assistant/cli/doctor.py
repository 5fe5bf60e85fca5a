"""``assistant doctor``: what a support person asks first, answered without a display and without changing anything."""
from __future__ import annotations

import os
import subprocess
import sys
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

from assistant.core import timezones
from assistant.core.errors import UserError

# Run in a child process: a missing display or platform plugin makes Qt abort the whole process, not raise.
_QT_PROBE = """
import PySide6
from PySide6.QtGui import QGuiApplication
app = QGuiApplication([])
print(QGuiApplication.platformName(), PySide6.__version__)
"""


@dataclass
class Check:
    name: str
    ok: bool
    detail: str

    def to_json(self) -> dict:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


def check_qt() -> Check:
    requested = os.environ.get("QT_QPA_PLATFORM", "")
    try:
        done = subprocess.run(
            [sys.executable, "-c", _QT_PROBE], capture_output=True, text=True, timeout=60,
        )
    except subprocess.TimeoutExpired:
        return Check("Qt platform", False, "starting Qt took more than 60 s")
    if done.returncode == 0 and done.stdout.strip():
        platform, _, version = done.stdout.strip().partition(" ")
        detail = f"platform plugin {platform!r}, PySide6 {version}"
        if requested:
            detail += f" (QT_QPA_PLATFORM={requested})"
        return Check("Qt platform", True, detail)
    lines = [line.strip() for line in (done.stderr or "").splitlines() if line.strip()]
    reason = next((line for line in lines if "platform plugin" in line or "display" in line.lower()), "")
    reason = reason or (lines[-1] if lines else f"exit status {done.returncode}")
    hint = " (headless: set QT_QPA_PLATFORM=offscreen; for a window: ./dev setup installs the xcb libraries)"
    return Check("Qt platform", False, f"Qt cannot start: {reason.rstrip('.')}{hint}")


def check_credentials() -> Check:
    from assistant.core.credentials import backend_description

    name, secure = backend_description()
    if secure:
        return Check("credential store", True, f"{name} (secure)")
    return Check(
        "credential store", False,
        f"{name} is not a secure store: install and unlock gnome-keyring or KWallet before adding Gmail or Outlook accounts",
    )


def check_encryption(workspace_dir: Path) -> Check:
    from assistant.store import db

    if db.is_encrypted(db.db_path(workspace_dir)):
        return Check("encryption", True, f"encrypted with SQLCipher 4, its key in the credential store ({db.key_entry(workspace_dir)})")
    if db.secure_store_available():
        # decrypted on purpose, or made before encryption: the user's choice, not a fault
        return Check("encryption", True, "not encrypted: 'assistant workspace encrypt' encrypts it (the credential store"
                     " can keep its key)")
    return Check("encryption", False, "not encrypted: there is no secure credential store to keep a key in;"
                 " install and unlock gnome-keyring or KWallet, then run 'assistant workspace encrypt'")


def check_time_zones() -> Check:
    timezones.configure()
    source = "the tzdata package" if timezones.uses_tzdata_package() else "the system database (" + ", ".join(zoneinfo.TZPATH) + ")"
    return Check("time zones", True, f"tzdata {timezones.tzdata_version()}, read from {source}")


def _schema_version_read_only(workspace_dir: Path) -> tuple[int, str]:
    from assistant.store import db

    connection = db.connect(workspace_dir, read_only=True)
    try:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        connection.close()
    return version, integrity


def check_workspace(workspace_dir: Path) -> list[Check]:
    from assistant.cli.format import open_workspace
    from assistant.connectors import load
    from assistant.domain import AccountStatus
    from assistant.importing.mail import IMPORT_ACCOUNT_KIND
    from assistant.store import DB_NAME, db
    from assistant.store.schema import SCHEMA_VERSION

    db_path = Path(workspace_dir) / DB_NAME
    if not db_path.exists():
        return [Check("database", False, f"no workspace at {workspace_dir}: run 'assistant demo' or 'assistant principal add'")]
    try:
        version, integrity = _schema_version_read_only(Path(workspace_dir))
    except UserError as exc:
        return [Check("database", False, str(exc))]
    except db.sqlite.Error as exc:
        return [Check("database", False, f"{db_path} cannot be read: {exc}")]
    if integrity != "ok":
        return [Check("database", False, f"integrity check failed: {integrity}")]
    if version > SCHEMA_VERSION:
        return [Check(
            "database", False,
            f"schema version {version} is newer than this Assistant understands ({SCHEMA_VERSION}): update Assistant",
        )]
    detail = f"integrity ok, schema version {version}"
    if version < SCHEMA_VERSION:
        detail += f" (upgraded to {SCHEMA_VERSION} when next opened)"
    checks = [Check("database", True, f"{detail}, {db_path}"), check_encryption(Path(workspace_dir))]
    if version < SCHEMA_VERSION:
        return checks

    with open_workspace(workspace_dir, create=False) as store:
        principals = {p.id: p for p in store.principals()}
        for account in store.accounts():
            principal = principals[account.principal_id]
            parts = [f"status {account.status.value}"]
            ok = account.status in (AccountStatus.OK, AccountStatus.SYNCING)
            if account.last_sync_utc:
                local = timezones.in_zone(account.last_sync_utc, principal.timezone)
                parts.append(f"last sync {local:%Y-%m-%d %H:%M %Z}")
            else:
                parts.append("never synced")
            if account.last_error:
                parts.append(f"last error: {account.last_error}")
            if account.kind == IMPORT_ACCOUNT_KIND:  # mail brought in by `assistant import`: nothing to sync
                parts = [f"status {account.status.value}", "holds imported mail; nothing to sync"]
            else:
                try:
                    load(account.kind)
                except UserError as exc:
                    ok = False
                    parts.append(str(exc))
            name = f"account {account.id} ({principal.name}, {account.kind} {account.address})"
            checks.append(Check(name, ok, ", ".join(parts)))
    return checks


def check_log() -> Check:
    """Where the app's log is (what a support person asks for next), and whether it can be written."""
    from assistant.core.logs import log_path

    path = log_path()
    folder = next((p for p in (path.parent, *path.parent.parents) if p.exists()), None)
    if folder is None or not os.access(folder, os.W_OK):
        return Check("log", False, f"{path} (its folder cannot be written: nothing can be logged)")
    if path.exists():
        return Check("log", True, f"{path} ({path.stat().st_size / 1024:.0f} KB)")
    return Check("log", True, f"{path} (nothing logged yet)")


def run_checks(workspace_dir: Path) -> list[Check]:
    return [check_qt(), check_credentials(), check_time_zones(), check_log(), *check_workspace(Path(workspace_dir))]
