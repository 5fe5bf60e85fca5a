"""The app's log: where it is, that it rotates, and that secrets and message text never reach it."""
from __future__ import annotations

import logging

import pytest

from assistant.core import logs


@pytest.fixture
def log_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_LOG_DIR", str(tmp_path / "logs"))
    yield tmp_path / "logs"
    for handler in [h for h in logging.getLogger().handlers if isinstance(h, logs._Handler)]:
        logging.getLogger().removeHandler(handler)
        handler.close()


def test_the_log_is_made_at_its_first_line_and_scrubbed(log_dir):
    path = logs.setup_logging()
    assert path == log_dir / "assistant.log"
    assert not path.exists()  # nothing logged, nothing written
    assert logs.setup_logging() == path
    assert sum(isinstance(h, logs._Handler) for h in logging.getLogger().handlers) == 1  # set up twice: one handler
    try:
        raise RuntimeError('token refresh failed: {"access_token": "ya29.A0ARrdaM-secret", '
                           '"refresh_token": "1//0gSECRETSECRETSECRETSECRET"} Authorization: Bearer abc.def.ghi12345')
    except RuntimeError:
        logging.getLogger("assistant.sync.engine").exception("sync of account %s failed", 7)
    text = path.read_text(encoding="utf-8")
    assert "sync of account 7 failed" in text and "Traceback (most recent call last)" in text
    assert "RuntimeError: token refresh failed" in text
    for secret in ("ya29.A0ARrdaM-secret", "1//0gSECRET", "abc.def.ghi12345"):
        assert secret not in text
    assert text.count("[scrubbed]") >= 3


def test_a_long_line_such_as_quoted_message_text_is_cut():
    body = "Dear Dana, the deed of assignment is attached. " * 40
    scrubbed = logs.scrub(f"ValueError: cannot parse {body}")
    assert len(scrubbed) <= logs.MAX_LINE + 10 and scrubbed.endswith("[…]")
    assert logs.scrub("exit code 1, line 42, /usr/lib/python3/dist-packages/x.py") == \
        "exit code 1, line 42, /usr/lib/python3/dist-packages/x.py"


def test_the_log_rotates(log_dir, monkeypatch):
    monkeypatch.setattr(logs, "MAX_BYTES", 2_000)
    path = logs.setup_logging()
    log = logging.getLogger("assistant.test")
    for n in range(200):
        log.warning("line %s %s", n, "x" * 30)
    files = sorted(p.name for p in log_dir.iterdir())
    assert files == ["assistant.log", "assistant.log.1", "assistant.log.2", "assistant.log.3"]
    assert all(p.stat().st_size <= 2_000 for p in log_dir.iterdir())
    assert "line 199" in path.read_text(encoding="utf-8")
