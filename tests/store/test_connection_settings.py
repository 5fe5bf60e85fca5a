"""What SQLCipher costs a workspace's connections (docs/PERFORMANCE.md, section 7, finding 15): its memory wiping is
off, and an encrypted workspace is keyed with the raw 256-bit key, so no key derivation runs at each open."""
from __future__ import annotations

import pytest

from assistant.store import Store
from assistant.store.db import apply_key, sqlite


def test_sqlcipher_does_not_wipe_every_freed_allocation(tmp_path):
    """``cipher_memory_security`` zeroes each allocation SQLCipher frees, a plain database's too; it has been off by
    default since SQLCipher 4.5 and, once on, stays on for the process. A driver whose default turned it on would
    cost every query: this says so."""
    store = Store(tmp_path / "ws", encrypt=False)
    try:
        assert store.db.execute("PRAGMA cipher_memory_security").fetchone()[0] in (0, "0")
    finally:
        store.close()


def test_the_key_is_the_raw_key_not_a_passphrase(tmp_path):
    """``x'…'`` hands SQLCipher the key itself; a passphrase would be stretched by PBKDF2 (256,000 rounds) at every
    connection. The file opens with the raw key and not with the same digits as a passphrase."""
    key = "0123456789abcdef" * 4
    path = tmp_path / "db.sqlite3"
    connection = sqlite.connect(path)
    apply_key(connection, key)
    connection.execute("CREATE TABLE t(x)")
    connection.commit()
    connection.close()

    raw = sqlite.connect(path)
    raw.execute(f"PRAGMA key = \"x'{key}'\"")
    assert raw.execute("SELECT count(*) FROM t").fetchone()[0] == 0
    raw.close()
    passphrase = sqlite.connect(path)
    passphrase.execute(f"PRAGMA key = '{key}'")
    with pytest.raises(sqlite.DatabaseError):
        passphrase.execute("SELECT count(*) FROM t").fetchone()
    passphrase.close()
