"""Shared fixtures: no test touches the developer's real keyring or needs a display."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# the app's log (assistant/core/logs.py) in a folder of the test run's, never the developer's own
os.environ.setdefault("ASSISTANT_LOG_DIR", __import__("tempfile").mkdtemp(prefix="assistant-test-logs-"))

import keyring  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from keyring.backend import KeyringBackend  # noqa: E402
from keyring.compat import properties  # noqa: E402

from assistant.core import timezones  # noqa: E402
from assistant.store import Store  # noqa: E402

timezones.configure()

# CI must be reproducible on a loaded two-core machine: the same examples every run (a failure there can be replayed
# here), no per-example time limit. Locally, Hypothesis explores new examples on every run.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
if os.environ.get("CI"):
    settings.load_profile("ci")


class InMemoryKeyring(KeyringBackend):
    """A keyring that forgets everything when the test ends."""

    @properties.classproperty
    def priority(cls) -> float:
        return 1

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if self.secrets.pop((service, username), None) is None:
            raise PasswordDeleteError(f"no secret for {username!r}")


@pytest.fixture(autouse=True)
def memory_keyring() -> InMemoryKeyring:
    backend = InMemoryKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def workspace(tmp_path) -> Store:
    """A fresh, empty workspace store in a temporary directory."""
    store = Store(tmp_path / "workspace")
    yield store
    store.close()
