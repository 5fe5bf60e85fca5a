"""The command line as a user types it: ``assistant --workspace WS …`` run in-process on a workspace in tmp_path, and
the workspaces the command tests start from, each built through the command line too."""
from __future__ import annotations

import json
import mailbox
from pathlib import Path
from typing import Any

import pytest

from assistant.cli.main import main


class Cli:
    """``assistant`` on one workspace: each call is one command, its output read back from the captured streams."""

    def __init__(self, workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.workspace = workspace
        self.capsys = capsys

    def bare(self, *argv: str) -> tuple[int, str, str]:
        """``assistant ARGV…`` exactly as given (no ``--workspace``): exit status, stdout, stderr."""
        code = main(list(argv))
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def run(self, *argv: str) -> tuple[int, str, str]:
        """``assistant --workspace WS ARGV…``: exit status, stdout, stderr."""
        return self.bare("--workspace", str(self.workspace), *argv)

    def json(self, *argv: str) -> Any:
        """``assistant --workspace WS --json ARGV…``, which must succeed and say nothing on stderr: its one JSON
        object."""
        code, out, err = self.run("--json", *argv)
        assert code == 0, err
        assert err == ""
        return json.loads(out)

    def add_principal(self, name: str, zone: str, *emails: str, region: str | None = None) -> dict[str, Any]:
        """``assistant principal add``, which must succeed: the principal as JSON."""
        argv = ["principal", "add", name, "--timezone", zone]
        for email in emails:
            argv += ["--email", email]
        if region is not None:
            argv += ["--region", region]
        principal: dict[str, Any] = self.json(*argv)["principal"]
        return principal


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """The workspace folder the commands name; the first command that writes creates it."""
    return tmp_path / "ws"


@pytest.fixture
def cli(ws: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(ws, capsys)


@pytest.fixture
def ann_and_ken(cli: Cli) -> None:
    """Two principals half a world apart: Ann in New York and Ken in Tokyo (phone region JP)."""
    cli.add_principal("Ann", "America/New_York", "ann@example.org")
    cli.add_principal("Ken", "Asia/Tokyo", "ken@example.jp", region="JP")


@pytest.fixture
def ada(cli: Cli) -> None:
    """One principal: Ada in London."""
    cli.add_principal("Ada", "Europe/London", "ada@example.com")


@pytest.fixture
def maildir(tmp_path: Path) -> Path:
    """An empty maildir, for a local account."""
    path = tmp_path / "Maildir"
    mailbox.Maildir(path, create=True)
    return path
