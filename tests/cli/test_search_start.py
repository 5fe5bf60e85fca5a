"""`assistant search` imports only what a search needs (issue 17: scripts call it in loops, and beside `notmuch search`
its start is most of its time). Checked in a child process run as `python -m assistant` runs, from the modules it holds
when it exits (`-X importtime` would miss those imported through `importlib.import_module`)."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

import assistant
from assistant.cli.main import _plain_search, build_parser
from assistant.domain import Account, Address, Message, Principal
from assistant.store import Store
from assistant.store import mail as mail_store

CHECKOUT = Path(assistant.__file__).resolve().parents[1]

# What a search of a plain workspace never needs: the desktop app, the connectors (their registry reads every installed
# package's metadata), the credential store, the sync engine, and the dataclasses of the areas other than mail.
NOT_NEEDED = (
    "PySide6", "imapclient", "keyring", "email.message", "multiprocessing",
    "assistant.ui", "assistant.connectors", "assistant.sync", "assistant.cli.imap_account", "assistant.core.credentials",
    "assistant.domain.board", "assistant.domain.calendar", "assistant.domain.calls", "assistant.domain.drafts",
    "assistant.domain.time", "assistant.domain.reports",
    # argparse and what it brings (gettext, locale; shutil for its help formatter, with bz2 and lzma): a plain search's
    # arguments are read without it
    "argparse", "gettext", "locale", "shutil", "bz2", "lzma",
)


# `python -m assistant ARGV`, which prints the names of the modules it imported when it exits
_RUN = ("import atexit, runpy, sys; atexit.register(lambda: print(*sys.modules, sep='\\n', file=sys.stderr));"
        " runpy.run_module('assistant', run_name='__main__', alter_sys=True)")


def _imported(argv: list[str]) -> tuple[str, set[str]]:
    env = dict(os.environ, PYTHONPATH=str(CHECKOUT))
    done = subprocess.run([sys.executable, "-c", _RUN, *argv], env=env, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, set(done.stderr.split())


def test_assistant_search_imports_only_what_a_search_needs(tmp_path):
    store = Store(tmp_path / "ws", encrypt=False)
    try:
        principal = store.add_principal(Principal(name="Ada", timezone="Europe/London", addresses=("ada@example.com",)))
        account = store.add_account(Account(principal_id=principal.id, kind="local", address="ada@example.com"))
        mail_store.upsert_message(store.scope(principal.id), Message(
            principal_id=principal.id, account_id=account.id, remote_id="1", subject="Quarterly budget review",
            sender=Address("Grace", "grace@example.org"), date_utc=datetime(2026, 3, 1, 23, 30, tzinfo=UTC),
            message_id_header="<1@x>", body_text="the budget",
        ))
    finally:
        store.close()

    out, modules = _imported(["--workspace", str(tmp_path / "ws"), "search", "budget"])
    assert "Quarterly budget review" in out
    assert {"assistant.store", "assistant.store.mail", "assistant.store.search"} <= modules  # the list is real
    unwanted = sorted(m for m in modules if any(m == name or m.startswith(name + ".") for name in NOT_NEEDED))
    assert unwanted == []

    # The other commands still have theirs: the same process with `task list` builds the whole parser.
    _, modules = _imported(["--workspace", str(tmp_path / "ws"), "task", "list", "--principal", "Ada"])
    assert "assistant.cli.imap_account" in modules and "assistant.domain.board" in modules


def test_the_app_starts_without_the_other_commands_modules(tmp_path):
    """`assistant` without a command opens the app: parsing its global options imports none of the commands' modules
    (with --help they are all there)."""
    run = ("import sys; import assistant.cli.main as cli; cli.cmd_app = lambda args, out: print('app', args.workspace)"
           " or 0; code = cli.main(sys.argv[1:]); print(*sys.modules, sep='\\n', file=sys.stderr); sys.exit(code)")
    env = dict(os.environ, PYTHONPATH=str(CHECKOUT))

    def child(*argv: str) -> tuple[str, set[str]]:
        done = subprocess.run([sys.executable, "-c", run, *argv], env=env, capture_output=True, text=True, timeout=60,
                              check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout, set(done.stderr.split())

    out, modules = child("--workspace", str(tmp_path / "ws"))
    assert out == f"app {tmp_path / 'ws'}\n"
    assert not {"assistant.cli.drafts", "assistant.cli.calls", "assistant.cli.imap_account"} & modules
    out, modules = child("--help")
    assert "COMMAND" in out and "assistant.cli.drafts" in modules


# A plain search, read without argparse: the same values argparse gives.
PLAIN = (
    ["search", "budget"],
    ["--workspace", "/tmp/ws", "search", "budget review"],
    ["--workspace=/tmp/ws", "--json", "search", "--count", "from:grace@example.org"],
    ["--debug", "search", "--principal", "Ada", "--limit", "5", "budget"],
    ["search", "budget", "--principal=Ada", "--limit=7", "--in=tasks"],
    ["search", "--in", "all", "budget", "--limit", "+3"],
    ["--workspace", "search", "search", "search"],  # a workspace folder named like the command, a query too
    ["search", ""],  # an empty query: the command says so, as before
    ["search", "budget", "--limit", "0"],  # out of range: the command says so, as before
)
# Anything else is argparse's to read (or to refuse, with its usual message).
NOT_PLAIN = (
    ["search"],  # no query
    ["search", "budget", "coffee"],  # a second query
    ["search", "-h"], ["--help", "search", "x"], ["--version", "search", "x"],
    ["search", "budget", "--json"],  # a global option after the command
    ["search", "budget", "--lim", "5"],  # abbreviated
    ["search", "budget", "--limit", "five"], ["search", "budget", "--limit", "-5"], ["search", "budget", "--limit"],
    ["search", "budget", "--in", "notes"],
    ["search", "budget", "--principal", "Ada", "--principal", "Bo"], ["search", "--count", "--count", "x"],
    ["--json", "--json", "search", "x"], ["--tray", "search", "x"], ["--quit-after", "1", "search", "x"],
    ["search", "--", "-budget"], ["search", "-budget"], ["search", "budget", "--count=yes"],
    ["--workspace", "--json", "search", "x"],
)


@pytest.mark.parametrize("argv", PLAIN)
def test_a_plain_search_is_read_as_argparse_reads_it(argv):
    plain = _plain_search(argv)
    assert plain is not None
    assert vars(plain) == vars(build_parser(extensions=False).parse_args(argv))


@pytest.mark.parametrize("argv", NOT_PLAIN)
def test_anything_else_is_left_to_argparse(argv):
    assert _plain_search(argv) is None


def test_the_parser_is_the_one_format_hands_out():
    from assistant.cli import format as fmt
    from assistant.cli import parser

    assert fmt.Parser is parser.Parser and parser.PROG == fmt.PROG
