"""Encrypting or decrypting an existing workspace in place, so that a crash at any moment leaves one good workspace.

The steps (``assistant workspace encrypt|decrypt``):

1. take the database for this process alone (SQLite's exclusive locking mode: refused while the app, a sync or any
   other command has it open) — and, to encrypt, make the key (credential store first, then ``encryption.json``);
2. copy it with SQLCipher's ``sqlcipher_export`` into ``workspace.sqlite3.encrypting-PID`` (``decrypting-PID``);
3. verify the copy from a connection of its own: ``integrity_check``, the schema version, and the row count of every
   table (the full-text index's tables included) equal to the original's;
4. checkpoint and close the original (its write-ahead log is folded in and deleted), then ``os.replace`` the copy over
   it — one atomic rename — and sync the folder;
5. to decrypt, forget the key (credential store and ``encryption.json``).

Until step 4's rename the original is the workspace, untouched; after it, the verified copy is. Which of the two
states a folder is in is read from the database file's first bytes (``db.is_encrypted``), never from a setting, so
the key file written in step 1 is harmless beside a plain database. A copy left by a killed conversion is removed
when the workspace is next opened (its process is gone). ``ASSISTANT_TEST_CONVERT_CRASH_AT`` kills the process at a
named step; only the test that proves the above sets it.
"""
from __future__ import annotations

import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assistant.core.errors import NotFound, UserError
from assistant.store import db
from assistant.store.db import DB_NAME, sqlite

CRASH_VARIABLE = "ASSISTANT_TEST_CONVERT_CRASH_AT"
STEPS = ("locked", "copied", "verified", "closed", "swapped", "done")


@dataclass
class Conversion:
    encrypted: bool  # the workspace's state now
    changed: bool  # False: it already was
    tables: int = 0
    rows: int = 0
    key_entry: str | None = None


def _step(name: str) -> None:
    if os.environ.get(CRASH_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def table_counts(connection: sqlite.Connection, schema: str = "main") -> dict[str, int]:
    """Rows per table (the full-text index's shadow tables too; virtual tables are counted through those)."""
    names = [r[0] for r in connection.execute(
        f"SELECT name FROM {schema}.sqlite_master WHERE type='table' AND sql NOT LIKE 'CREATE VIRTUAL TABLE%'"
        " AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {name: int(connection.execute(f'SELECT count(*) FROM {schema}."{name}"').fetchone()[0]) for name in names}


def _lock(workspace_dir: Path) -> sqlite.Connection:
    connection = db.connect(workspace_dir, timeout=1.0)
    try:
        connection.execute("PRAGMA locking_mode=EXCLUSIVE")
        connection.execute("BEGIN EXCLUSIVE")
        connection.execute("COMMIT")  # the lock stays: exclusive locking mode keeps it until the connection closes
    except sqlite.OperationalError as exc:
        connection.close()
        if "locked" in str(exc) or "busy" in str(exc):
            raise UserError("the workspace is in use: quit Assistant and any running 'assistant' command (a sync, an"
                            " import), then run this again") from None
        raise
    return connection


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def convert(workspace_dir: str | os.PathLike[str], *, encrypt: bool,
            progress: Callable[[str], None] | None = None) -> Conversion:
    """Make the workspace encrypted (``encrypt=True``) or plain, as the module says; nothing changes if it already is."""
    folder = Path(workspace_dir)
    path = db.db_path(folder)
    if not path.exists() or path.stat().st_size == 0:
        raise NotFound(f"no workspace at {folder}")
    say = progress or (lambda _text: None)
    if db.is_encrypted(path) == encrypt:
        if not encrypt and db.key_entry(folder) is not None:
            db.forget_key(folder)  # a decryption killed after its rename: finish it
        return Conversion(encrypted=encrypt, changed=False, key_entry=db.key_entry(folder))
    db.remove_stale_copies(folder)
    source = _lock(folder)
    copy = folder / f"{DB_NAME}{'.encrypting-' if encrypt else '.decrypting-'}{os.getpid()}"
    try:
        key = ""
        if encrypt:
            entry = db.key_entry(folder)
            key = db.workspace_key(folder) if entry is not None and db.has_key(entry) else db.new_key(folder)
        _step("locked")
        version = int(source.execute("PRAGMA user_version").fetchone()[0])
        counts = table_counts(source)
        say(f"copying {sum(counts.values()):,} rows in {len(counts)} tables")
        copy.unlink(missing_ok=True)
        old_umask = os.umask(0o077)
        try:
            source.execute(f"ATTACH DATABASE ? AS copy KEY \"{_key_literal(key)}\"", (str(copy),))
        finally:
            os.umask(old_umask)
        source.execute("SELECT sqlcipher_export('copy')")
        source.execute(f"PRAGMA copy.user_version={version}")
        source.execute("DETACH DATABASE copy")
        _step("copied")
        say("verifying the copy")
        _verify(copy, key, version, counts)
        _fsync(copy)
        _step("verified")
        source.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        source.close()
        _step("closed")
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                if side.stat().st_size:
                    raise UserError(f"{side} still holds changes: run this again once nothing has the workspace open")
                side.unlink()
        os.replace(copy, path)
        _fsync(folder)
        _step("swapped")
        if not encrypt:
            db.forget_key(folder)
        _step("done")
        return Conversion(encrypted=encrypt, changed=True, tables=len(counts), rows=sum(counts.values()),
                          key_entry=db.key_entry(folder))
    except BaseException:
        try:
            source.close()
        except sqlite.Error:
            pass
        copy.unlink(missing_ok=True)
        copy.with_name(copy.name + "-journal").unlink(missing_ok=True)
        raise


def _key_literal(key: str) -> str:
    if not key:
        return ""
    if len(key) != 64 or any(c not in "0123456789abcdef" for c in key.lower()):
        raise UserError("the workspace key in the credential store is not 64 hexadecimal digits")
    return f"x'{key}'"


def _verify(copy: Path, key: str, version: int, counts: dict[str, int]) -> None:
    if db.is_encrypted(copy) != bool(key):
        raise UserError(f"the copy {copy.name} came out {'plain' if key else 'encrypted'}: the workspace is unchanged")
    connection = sqlite.connect(copy, isolation_level=None)
    try:
        if key:
            db.apply_key(connection, key)
        integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
        if integrity != "ok":
            raise UserError(f"the copy failed its integrity check ({integrity}): the workspace is unchanged")
        if int(connection.execute("PRAGMA user_version").fetchone()[0]) != version:
            raise UserError("the copy's schema version differs: the workspace is unchanged")
        copied = table_counts(connection)
        if copied != counts:
            differ = sorted(name for name in set(copied) | set(counts) if copied.get(name) != counts.get(name))
            raise UserError(f"the copy's row counts differ in {', '.join(differ)}: the workspace is unchanged")
    finally:
        connection.close()
