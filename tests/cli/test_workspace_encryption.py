"""Encryption at rest: a stolen copy of the workspace folder yields no message text; with the key everything opens as
before; ``assistant workspace encrypt|decrypt`` converts in place and a kill at any step leaves one good workspace."""
from __future__ import annotations

import json
import mailbox
import os
import shutil
import signal
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest

from assistant.core.errors import WorkspaceLocked
from assistant.store import Store, db
from assistant.store import mail as mail_store
from assistant.store.convert import CRASH_VARIABLE, STEPS
from tests.keyring_backend import InMemoryKeyring

REPO = Path(__file__).resolve().parents[2]
WORD = "quetzalcoatlus"  # in every message's body, and in one subject
ADDRESS = "marguerite.okonkwo@example.org"


def _mailbox(root: Path, count: int = 40) -> Path:
    box = mailbox.Maildir(root / "Maildir", create=True)
    for n in range(count):
        msg = EmailMessage()
        msg["From"] = f"Marguerite Okonkwo <{ADDRESS}>"
        msg["To"] = "ada@example.com"
        msg["Subject"] = f"The {WORD} fossil, part {n}" if n == 0 else f"Museum loan, part {n}"
        msg["Message-ID"] = f"<enc-{n}@example.org>"
        msg["Date"] = f"Mon, 02 Mar 2026 10:{n % 60:02d}:00 +0000"
        msg.set_content(f"Dear Ada,\n\nThe {WORD} wing bones arrive on Tuesday ({n}).\n\nMarguerite\n" * 3)
        box.add(msg)
    return root / "Maildir"


def _assistant(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``assistant ARGV`` as its own process: it finds the key through the credential store, as a user's would."""
    return subprocess.run([sys.executable, "-m", "assistant", *argv], cwd=REPO, env=env or dict(os.environ),
                          capture_output=True, text=True, timeout=120)


def _raw_hits(folder: Path, *needles: str) -> dict[str, list[str]]:
    """Which files under ``folder`` hold any of ``needles`` in their raw bytes (as UTF-8 or UTF-16)."""
    hits: dict[str, list[str]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes().lower()
        for needle in needles:
            forms = (needle.lower().encode(), needle.lower().encode("utf-16-le"))
            if any(form in data for form in forms):
                hits.setdefault(needle, []).append(path.name)
    return hits


@pytest.fixture
def imported(cli, ada, tmp_path) -> Path:
    """A workspace made with a secure credential store (so encrypted), 40 messages imported into Ada."""
    code, _, err = cli.run("import", str(_mailbox(tmp_path)), "--principal", "Ada")
    assert code == 0, err
    return cli.workspace


def test_a_new_workspace_is_encrypted_and_a_stolen_copy_yields_no_mail(imported, tmp_path, cli):
    ws = imported
    assert db.is_encrypted(ws / db.DB_NAME)
    entry = db.key_entry(ws)
    assert entry and entry.startswith("workspace:")
    # While a store has it open (the write-ahead log and its index beside it) and after it is closed.
    store = Store(ws)
    try:
        scope = store.scope(store.principal_by_name("Ada").id)
        assert len(mail_store.search_messages(scope, WORD, limit=100)) == 40
        assert {p.name for p in ws.iterdir()} >= {db.DB_NAME, f"{db.DB_NAME}-wal", db.KEY_FILE}
        assert _raw_hits(ws, WORD, ADDRESS, "Marguerite", "Museum loan") == {}
    finally:
        store.close()
    assert _raw_hits(ws, WORD, ADDRESS, "Marguerite", "Museum loan") == {}

    # The thief's copy: the folder without the credential store. The same code, with no key, reads nothing.
    stolen = tmp_path / "stolen"
    shutil.copytree(ws, stolen)
    db._keys.clear()  # a fresh process: nothing remembered
    keyring.set_keyring(InMemoryKeyring(tmp_path / "thief-keyring.json"))
    with pytest.raises(WorkspaceLocked, match="has no key for it"):
        Store(stolen)
    code, _, err = cli.bare("--workspace", str(stolen), "search", WORD)
    assert code == 1 and len(err.splitlines()) == 1 and "encrypted" in err
    with pytest.raises(db.sqlite.DatabaseError):  # plain SQLite (and SQLCipher without the key) see no database
        db.sqlite.connect(stolen / db.DB_NAME).execute("SELECT count(*) FROM sqlite_master").fetchone()


def test_with_the_key_the_command_line_opens_it_as_before(imported, memory_keyring):
    """Another process (the sync, a second command) gets the key from the credential store, not from this one."""
    assert any(u.startswith("workspace:") for (_, u) in memory_keyring.secrets)
    done = _assistant("--workspace", str(imported), "--json", "search", WORD, "--limit", "100")
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["results"]) == 40
    doctor = _assistant("--workspace", str(imported), "--json", "doctor")
    checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["database"]["ok"] and checks["encryption"]["ok"]
    assert checks["encryption"]["detail"].startswith("encrypted with SQLCipher 4")


def test_without_a_secure_credential_store_a_new_workspace_is_plain_and_doctor_says_so(cli, tmp_path):
    keyring.set_keyring(keyring.backends.fail.Keyring())
    cli.add_principal("Ada", "Europe/London", "ada@example.com")
    assert not db.is_encrypted(cli.workspace / db.DB_NAME)
    assert not (cli.workspace / db.KEY_FILE).exists()
    code, out, _ = cli.run("--json", "doctor")
    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    assert not checks["encryption"]["ok"]
    assert checks["encryption"]["detail"].startswith("not encrypted: there is no secure credential store")


def _plain_workspace(cli, tmp_path) -> Path:
    backend = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    cli.add_principal("Ada", "Europe/London", "ada@example.com")
    keyring.set_keyring(backend)
    code, _, err = cli.run("import", str(_mailbox(tmp_path)), "--principal", "Ada")
    assert code == 0, err
    assert not db.is_encrypted(cli.workspace / db.DB_NAME)
    return cli.workspace


def _contents(ws: Path) -> tuple[int, int, str]:
    db._keys.clear()  # read the key as a new process would
    store = Store(ws, create=False)
    try:
        scope = store.scope(store.principal_by_name("Ada").id)
        found = len(mail_store.search_messages(scope, WORD, limit=100))
        messages = store.db.execute("SELECT count(*) FROM messages").fetchone()[0]
        return found, messages, store.integrity_check()
    finally:
        store.close()


def test_encrypt_and_decrypt_in_place(cli, tmp_path, memory_keyring):
    ws = _plain_workspace(cli, tmp_path)
    assert _raw_hits(ws, WORD)  # the plain file holds the words: the test can see them
    data = cli.json("workspace", "encrypt")
    assert data["encrypted"] and data["changed"] and data["rows"] > 40 and data["key"].startswith("workspace:")
    assert db.is_encrypted(ws / db.DB_NAME)
    assert _contents(ws) == (40, 40, "ok")
    assert _raw_hits(ws, WORD, ADDRESS) == {}
    assert sorted(p.name for p in ws.iterdir()) == [db.KEY_FILE, db.DB_NAME]
    assert cli.json("workspace", "encrypt")["changed"] is False

    data = cli.json("workspace", "decrypt")
    assert data["encrypted"] is False and data["changed"]
    assert not db.is_encrypted(ws / db.DB_NAME)
    assert _contents(ws) == (40, 40, "ok")
    assert not (ws / db.KEY_FILE).exists()
    assert not [u for (_, u) in memory_keyring.secrets if u.startswith("workspace:")]  # the key is forgotten


def test_a_workspace_in_use_is_not_converted(cli, tmp_path):
    ws = _plain_workspace(cli, tmp_path)
    store = Store(ws)  # the app has it open
    try:
        code, _, err = cli.run("workspace", "encrypt")
        assert code == 1 and "in use" in err and len(err.splitlines()) == 1
    finally:
        store.close()
    assert not db.is_encrypted(ws / db.DB_NAME)
    assert _contents(ws) == (40, 40, "ok")
    assert [p.name for p in ws.iterdir() if "crypting" in p.name] == []


@pytest.mark.parametrize("step", STEPS)
def test_a_conversion_killed_at_any_step_leaves_one_good_workspace(cli, tmp_path, step):
    ws = _plain_workspace(cli, tmp_path)
    for action, encrypted_after_swap in (("encrypt", True), ("decrypt", False)):
        done = _assistant("--workspace", str(ws), "workspace", action, env={**os.environ, CRASH_VARIABLE: step})
        assert done.returncode == -signal.SIGKILL, done.stderr
        swapped = STEPS.index(step) >= STEPS.index("swapped")
        assert db.is_encrypted(ws / db.DB_NAME) is (encrypted_after_swap if swapped else not encrypted_after_swap)
        assert _contents(ws) == (40, 40, "ok"), (action, step)
        assert [p.name for p in ws.iterdir() if "crypting" in p.name] == []  # the killed run's copy is gone
        # Run again to the end: it finishes (or says it already is), and nothing is lost.
        data = cli.json("workspace", action)
        assert data["encrypted"] is encrypted_after_swap
        assert _contents(ws) == (40, 40, "ok")
    assert not (ws / db.KEY_FILE).exists()


def test_replacing_the_demo_forgets_the_old_demo_key(tmp_path, memory_keyring):
    """Every `assistant demo` replaces the demo workspace: the old one's key must not stay behind in the keyring."""
    from assistant.demo.build import MARKER, _clear_previous_demo

    demo = tmp_path / "demo"
    demo.mkdir()
    (demo / MARKER).write_text("a demo\n")
    Store(demo).close()
    assert db.is_encrypted(demo / db.DB_NAME)
    assert [u for (_, u) in memory_keyring.secrets if u.startswith("workspace:")]
    _clear_previous_demo(demo)
    assert list(demo.iterdir()) == []
    assert [u for (_, u) in memory_keyring.secrets if u.startswith("workspace:")] == []
