"""What the principal approves, as one hash: an edit after approval changes it, and the approval no longer holds."""
from __future__ import annotations

import hashlib
from pathlib import Path

from assistant.domain import Draft
from assistant.store import content_hash
from assistant.store import drafts as sql


def _attachment_digest(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "unreadable"


def draft_hash(d: Draft) -> str:
    """What the principal approves: recipients, subject, body, thread, and the attachments' names and bytes."""
    content = sql.draft_content(d)
    content["attachments"] = [[Path(a).name, _attachment_digest(a)] for a in d.attachments]
    return content_hash(content)
