"""The tests' credential store: in memory, and also in a JSON file a child process opens.

A test that starts ``assistant`` (or a script) in a child process needs the keys of the workspaces it made, as a user's
second process finds them in the OS credential store. The fixture in ``conftest.py`` names the file in
``ASSISTANT_TEST_KEYRING`` and this class in ``PYTHON_KEYRING_BACKEND`` (read by ``keyring`` itself); the file is in
the test's own temporary folder, so no test touches the developer's real keyring.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.errors import PasswordDeleteError

FILE_VARIABLE = "ASSISTANT_TEST_KEYRING"


class InMemoryKeyring(KeyringBackend):
    """A keyring that forgets everything when the test ends (``secrets`` is what it holds)."""

    @properties.classproperty
    def priority(cls) -> float:
        return 1

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        super().__init__()
        name = path if path is not None else os.environ.get(FILE_VARIABLE)
        self.path = Path(name) if name else None
        self.secrets: dict[tuple[str, str], str] = {}
        self._load()

    def _load(self) -> None:
        """What a child process stored since (a ``workspace encrypt`` run by the test) is seen here too."""
        if self.path is not None and self.path.exists():
            self.secrets = {(s, u): p for s, u, p in json.loads(self.path.read_text(encoding="utf-8"))}

    def _save(self) -> None:
        if self.path is not None:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps([[s, u, p] for (s, u), p in self.secrets.items()]), encoding="utf-8")
            tmp.replace(self.path)

    def get_password(self, service: str, username: str) -> str | None:
        self._load()
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password
        self._save()

    def delete_password(self, service: str, username: str) -> None:
        if self.secrets.pop((service, username), None) is None:
            raise PasswordDeleteError(f"no secret for {username!r}")
        self._save()
