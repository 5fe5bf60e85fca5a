"""Shared fixtures: no test touches the developer's real keyring or needs a display."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# the app's log (assistant/core/logs.py) in a folder of the test run's, never the developer's own
os.environ.setdefault("ASSISTANT_LOG_DIR", __import__("tempfile").mkdtemp(prefix="assistant-test-logs-"))

from pathlib import Path  # noqa: E402

import keyring  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

from assistant.core import timezones  # noqa: E402
from assistant.store import Store  # noqa: E402
from tests.keyring_backend import FILE_VARIABLE, InMemoryKeyring  # noqa: E402

REPO = Path(__file__).resolve().parent.parent

timezones.configure()

# CI must be reproducible on a loaded two-core machine: the same examples every run (a failure there can be replayed
# here), no per-example time limit. Locally, Hypothesis explores new examples on every run.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(autouse=True, scope="session")
def session_keyring(tmp_path_factory) -> InMemoryKeyring:
    """The credential store of fixtures wider than a test (a module's demo workspace): never the developer's own."""
    backend = InMemoryKeyring(tmp_path_factory.mktemp("keyring") / "keyring.json")
    keyring.set_keyring(backend)
    return backend


@pytest.fixture(autouse=True)
def memory_keyring(tmp_path_factory, monkeypatch) -> InMemoryKeyring:
    """A fresh credential store for each test, which the test's child processes share (tests/keyring_backend.py)."""
    path = tmp_path_factory.mktemp("keyring") / "keyring.json"
    backend = InMemoryKeyring(path)
    keyring.set_keyring(backend)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", f"{InMemoryKeyring.__module__}.{InMemoryKeyring.__qualname__}")
    monkeypatch.setenv(FILE_VARIABLE, str(path))
    paths = [str(REPO), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(dict.fromkeys(paths)))  # a child imports this backend from tests/
    return backend


@pytest.fixture(autouse=True)
def private_folder(tmp_path_factory, monkeypatch) -> Path:
    """The app's private folder for files outside the database (core/private_files.py), one per test."""
    from assistant.core import private_files

    base = tmp_path_factory.mktemp("private")
    monkeypatch.setattr(private_files, "BASE", base)
    monkeypatch.setattr(private_files, "_mine", None)
    return base


@pytest.fixture
def workspace(tmp_path) -> Store:
    """A fresh, empty workspace store in a temporary directory."""
    store = Store(tmp_path / "workspace")
    yield store
    store.close()
