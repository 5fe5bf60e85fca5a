"""Files outside the database live in a private folder that is emptied when the app quits, or on the next start."""
from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from assistant.core import private_files


def test_the_folder_is_private_and_cleared(private_folder):
    mine = private_files.folder()
    assert mine == private_folder / str(os.getpid())
    assert stat.S_IMODE(mine.stat().st_mode) == 0o700
    assert stat.S_IMODE(private_folder.stat().st_mode) == 0o700
    opened = private_files.subfolder("attachments") / "contract.pdf"
    opened.write_bytes(b"%PDF-1.7 secret")
    private_files.clear()
    assert not mine.exists()
    assert private_files.folder().is_dir()  # asked for again, it is there again, empty
    assert list(private_files.folder().iterdir()) == []


def test_a_crashed_process_folder_is_removed_on_the_next_start(private_folder):
    code = ("import os; from pathlib import Path; from assistant.core import private_files as p; "
            f"p.BASE = Path({str(private_folder)!r}); (p.folder() / 'open.eml').write_text('Dear Ada'); "
            "print(os.getpid(), flush=True); os._exit(9)")  # no atexit: as a crash
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    crashed = private_folder / done.stdout.strip()
    assert (crashed / "open.eml").exists()
    private_files.folder()
    assert not crashed.exists()


def test_a_process_that_ends_removes_its_folder(private_folder):
    code = ("import os; from pathlib import Path; from assistant.core import private_files as p; "
            f"p.BASE = Path({str(private_folder)!r}); (p.folder() / 'export.csv').write_text('x'); print(os.getpid())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert not (private_folder / done.stdout.strip()).exists()


def test_an_export_appears_only_when_complete(tmp_path):
    target = tmp_path / "calls.csv"
    with private_files.exporting(target) as scratch:
        assert scratch.parent == private_files.folder()
        scratch.write_text("a,b\n")
        assert not target.exists()
    assert target.read_text() == "a,b\n"
    assert list(private_files.folder().iterdir()) == []
    with pytest.raises(RuntimeError), private_files.exporting(tmp_path / "broken.csv") as scratch:
        scratch.write_text("half")
        raise RuntimeError("the disk went away")
    assert not (tmp_path / "broken.csv").exists()
    assert list(private_files.folder().iterdir()) == []
