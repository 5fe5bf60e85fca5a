"""The one place a connection to a workspace's database is made, and its key.

The driver is ``sqlcipher3``: CPython's ``sqlite3`` module built against SQLCipher 4 (with FTS5), so a plain workspace
and an encrypted one are read by the same code and raise the same exceptions. Whether a workspace is encrypted is read
from its file, not from a setting: a plain SQLite file starts with ``SQLite format 3``, a SQLCipher file with random
salt. The key of an encrypted workspace is a random 256-bit secret kept only in the OS credential store, beside the
sign-in tokens (``core.credentials``); the workspace folder holds only the name of its entry there
(``encryption.json``), so a copy of the folder without the credential store is unreadable. A process reads the key
once and keeps it in memory (every thread's ``Store``, the network pool's, a sync's) — as SQLCipher itself does for an
open connection.
"""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.core import processes
from assistant.core.errors import CredentialStoreUnavailable, WorkspaceLocked

if TYPE_CHECKING:
    import sqlite3 as sqlite  # sqlcipher3.dbapi2 is this API built against SQLCipher; it ships no types

    from assistant.core.credentials import CredentialStore
else:
    from sqlcipher3 import dbapi2 as sqlite

DB_NAME = "workspace.sqlite3"
KEY_FILE = "encryption.json"
PLAIN_HEADER = b"SQLite format 3\x00"
KEY_ENTRY_PREFIX = "workspace:"

__all__ = ["sqlite", "connect", "DB_NAME", "KEY_FILE", "is_encrypted", "key_entry", "workspace_key", "new_key",
           "forget_key", "has_key", "apply_key", "remove_stale_copies", "secure_store_available", "db_path"]

_keys: dict[str, str] = {}  # credential-store entry -> the key in hex, read once per process


def _credentials() -> CredentialStore:
    """The OS credential store. Imported here, not at the top: keyring and its backends cost a command that opens a
    plain workspace (``assistant search``) a fifth of its start."""
    from assistant.core.credentials import CredentialStore

    return CredentialStore()


def db_path(workspace_dir: str | os.PathLike[str]) -> Path:
    return Path(workspace_dir) / DB_NAME


def is_encrypted(path: str | os.PathLike[str]) -> bool:
    """Whether the database file at ``path`` is a SQLCipher one (a missing or empty file is not: it is new)."""
    try:
        with open(path, "rb") as f:
            header = f.read(len(PLAIN_HEADER))
    except FileNotFoundError:
        return False
    return len(header) > 0 and header != PLAIN_HEADER


def secure_store_available() -> bool:
    """Whether a key could be kept safely here: the credential store is one :class:`CredentialStore` accepts."""
    from assistant.core.credentials import backend_description  # keyring: only where a key is asked for

    return backend_description()[1]


def key_entry(workspace_dir: str | os.PathLike[str]) -> str | None:
    """The credential-store entry that holds this workspace's key, as its ``encryption.json`` names it."""
    try:
        data = json.loads((Path(workspace_dir) / KEY_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise WorkspaceLocked(f"{Path(workspace_dir) / KEY_FILE} cannot be read: {exc}") from None
    entry = data.get("key") if isinstance(data, dict) else None
    if not isinstance(entry, str) or not entry.startswith(KEY_ENTRY_PREFIX):
        raise WorkspaceLocked(f"{Path(workspace_dir) / KEY_FILE} does not name a key")
    return entry


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def workspace_key(workspace_dir: str | os.PathLike[str]) -> str:
    """The key (64 hex digits) of an encrypted workspace, from the credential store (once per process)."""
    entry = key_entry(workspace_dir)
    if entry is None:
        raise WorkspaceLocked(
            f"{db_path(workspace_dir)} cannot be read: it is not a plain SQLite database, and no {KEY_FILE} beside it"
            " names the key of an encrypted one"
        )
    key = _keys.get(entry)
    if key is None:
        try:
            key = _credentials().get(entry)
        except CredentialStoreUnavailable as exc:
            raise WorkspaceLocked(f"the workspace at {workspace_dir} is encrypted and its key cannot be read: {exc}") from None
        if key is None:
            raise WorkspaceLocked(
                f"the workspace at {workspace_dir} is encrypted and this computer's credential store has no key for it"
                f" ({entry}): it opens only where its key is"
            )
        _keys[entry] = key
    return key


def new_key(workspace_dir: str | os.PathLike[str]) -> str:
    """A fresh random 256-bit key for this workspace: in the credential store first, then named in ``encryption.json``
    (raises :class:`CredentialStoreUnavailable` when there is no secure store)."""
    import secrets  # here, not at the top: with uuid (platform) they cost every command's start ~10 ms
    import uuid

    entry = f"{KEY_ENTRY_PREFIX}{uuid.uuid4()}"
    key = secrets.token_hex(32)
    _credentials().set(entry, key)
    _keys[entry] = key
    _write_private(Path(workspace_dir) / KEY_FILE, json.dumps({"key": entry, "cipher": "SQLCipher 4"}) + "\n")
    return key


def forget_key(workspace_dir: str | os.PathLike[str]) -> None:
    """Delete a (now plain) workspace's key from the credential store and its ``encryption.json``."""
    entry = key_entry(workspace_dir)
    if entry is not None:
        _credentials().delete(entry)
        _keys.pop(entry, None)
    (Path(workspace_dir) / KEY_FILE).unlink(missing_ok=True)


def remove_stale_copies(workspace_dir: str | os.PathLike[str]) -> None:
    """Delete the copies (and their journals) that a conversion killed midway left (``store/convert.py``); a live
    conversion's copy stays."""
    for path in Path(workspace_dir).glob(f"{DB_NAME}.*crypting-*"):
        name = path.name.removesuffix("-journal")
        kind, _, pid_text = name[len(DB_NAME) + 1:].partition("-")
        if kind not in ("encrypting", "decrypting") or not pid_text.isdigit():
            continue
        if int(pid_text) != os.getpid() and not processes.alive(int(pid_text)):
            path.unlink(missing_ok=True)


def apply_key(connection: sqlite.Connection, key: str, schema: str = "main") -> None:
    """Key a fresh connection (the first statement it runs) and check the key opens the file."""
    connection.execute(f"PRAGMA {schema}.key = \"x'{key}'\"")
    try:
        connection.execute(f"SELECT count(*) FROM {schema}.sqlite_master").fetchone()
    except sqlite.DatabaseError as exc:
        connection.close()
        raise WorkspaceLocked(f"the workspace's key does not open it ({exc}): the key in the credential store is not"
                              " this workspace's") from None


def connect(workspace_dir: str | os.PathLike[str], *, read_only: bool = False, timeout: float = 30.0,
            encrypt_new: bool | None = None) -> sqlite.Connection:
    """A connection to the workspace's database, keyed when it is encrypted.

    A new (missing or empty) database is made encrypted when a secure credential store exists, unless ``encrypt_new``
    says otherwise. ``read_only`` opens an existing file without writing anything (``doctor``).
    """
    path = db_path(workspace_dir)
    key: str | None = None
    if is_encrypted(path):
        key = workspace_key(workspace_dir)
    elif not read_only and (not path.exists() or path.stat().st_size == 0):
        wanted = secure_store_available() if encrypt_new is None else encrypt_new
        if wanted:
            entry = key_entry(workspace_dir)
            key = workspace_key(workspace_dir) if entry is not None and has_key(entry) else new_key(workspace_dir)
    if read_only:
        connection = sqlite.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout)
    else:
        connection = sqlite.connect(path, isolation_level=None, timeout=timeout)
    if key is not None:
        apply_key(connection, key)
    return connection


def has_key(entry: str) -> bool:
    if entry in _keys:
        return True
    try:
        return _credentials().get(entry) is not None
    except CredentialStoreUnavailable:
        return False
