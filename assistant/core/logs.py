"""The app's log: one rotating file in the platform's log folder, scrubbed of secrets and message text.

What goes in: unhandled exceptions in the window (``ui/crash.py``), bugs and refused changes in sync and send
(``sync/engine.py``), anything else logged at WARNING or above, and in the app the ``assistant`` loggers' INFO. What never goes
in: tokens, passwords, authorisation headers (replaced by ``[scrubbed]``) and message bodies — no code logs a body,
and a line longer than ``MAX_LINE`` (where quoted text would show up in an exception's message) is cut.

``ASSISTANT_LOG_DIR`` puts the log elsewhere (the tests; a support person who wants it beside a report).
"""
from __future__ import annotations

import logging
import logging.handlers
import os
import re
from pathlib import Path

LOG_NAME = "assistant.log"
MAX_BYTES = 1_000_000
BACKUPS = 3  # assistant.log.1 … .3: at most 4 MB on disk
MAX_LINE = 400
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d %(threadName)s]: %(message)s"

_SECRETS = [
    # Authorization: Bearer …, Basic …
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
    # access_token=…, "refresh_token": "…", password: …, client_secret …
    re.compile(r"""(?ix)\b(access_token|refresh_token|id_token|token|password|passwd|secret|client_secret|api_key|
                   apikey|assertion)\b(["']?\s*[:=]\s*["']?)[^\s"'&,;}]+"""),
    # an OAuth redirect's ?code=…
    re.compile(r"([?&]code)(=)[^&\s\"']+"),
    # JWTs and other long opaque strings (Google's ya29.…, Microsoft's eyJ…)
    re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9._-]+"),
    re.compile(r"\bya29\.[A-Za-z0-9._-]+"),
    re.compile(r"\b1//[A-Za-z0-9._-]{20,}"),
    re.compile(r"(?<![A-Za-z0-9+_-])[A-Za-z0-9+_-]{40,}={0,2}(?![A-Za-z0-9+_-])"),
]
SCRUBBED = "[scrubbed]"


def log_dir() -> Path:
    override = os.environ.get("ASSISTANT_LOG_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_log_dir("assistant", appauthor=False))


def log_path() -> Path:
    return log_dir() / LOG_NAME


def scrub(text: str) -> str:
    """``text`` with secrets replaced and every line cut to ``MAX_LINE`` characters."""
    for pattern in _SECRETS:
        if pattern.groups >= 2:
            text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{SCRUBBED}", text)
        elif pattern.groups == 1:
            text = pattern.sub(lambda m: f"{m.group(1)} {SCRUBBED}", text)
        else:
            text = pattern.sub(SCRUBBED, text)
    return "\n".join(line if len(line) <= MAX_LINE else line[:MAX_LINE] + " […]" for line in text.split("\n"))


class ScrubbingFormatter(logging.Formatter):
    """Scrubs the whole record as written: the message, its arguments and the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class _Handler(logging.handlers.RotatingFileHandler):
    """Ours, so setting up again replaces it instead of adding a second."""


def setup_logging(*, app: bool = False) -> Path:
    """Send warnings to the rotating log — and with ``app`` (the desktop app's start) the ``assistant`` loggers' INFO
    too: what another launch asked, when the window first painted. The file is made at its first line. Idempotent;
    called by the command line and the app at start. Returns the log's path."""
    path = log_path()
    root = logging.getLogger()
    ours = logging.getLogger("assistant")
    if app and (ours.level == logging.NOTSET or ours.level > logging.INFO):
        ours.setLevel(logging.INFO)
    for handler in [h for h in root.handlers if isinstance(h, _Handler)]:
        if Path(handler.baseFilename) == path.resolve():
            return path
        root.removeHandler(handler)
        handler.close()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return path  # a read-only home: the app runs on, and `assistant doctor` shows where the log would be
    handler = _Handler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True)
    handler.setFormatter(ScrubbingFormatter(FORMAT))
    handler.setLevel(logging.INFO)
    root.addHandler(handler)
    if root.level > logging.WARNING or root.level == logging.NOTSET:
        root.setLevel(logging.WARNING)
    return path
