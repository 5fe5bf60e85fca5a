"""What the principal approves, as one hash: an edit after approval changes it, and the approval no longer holds."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from assistant.domain import Draft
from assistant.store import Store, content_hash
from assistant.store import drafts as sql


def attachment_data(store: Store, principal_id: int, attachment: str) -> bytes | None:
    """A draft's attachment's bytes: a file kept in the workspace (a forwarded message's, ``store/drafts.add_file``)
    or a file on disk; None when it cannot be read."""
    if sql.is_file_ref(attachment):
        return sql.file_data(store.scope(principal_id), attachment)
    try:
        return Path(attachment).read_bytes()
    except OSError:
        return None


def attachment_files(store: Store, principal_id: int, attachments: Iterable[str]) -> list[str | tuple[str, bytes]]:
    """What ``mail.compose.build_message`` attaches: paths as they are, workspace files as (name, bytes); one that is
    gone stays a path, so the send fails with its one-line reason instead of going out without it."""
    out: list[str | tuple[str, bytes]] = []
    for a in attachments:
        data = sql.file_data(store.scope(principal_id), a) if sql.is_file_ref(a) else None
        out.append((Path(a).name, data) if data is not None else a)
    return out


def _attachment_digest(store: Store, principal_id: int, attachment: str) -> str:
    data = attachment_data(store, principal_id, attachment)
    return "unreadable" if data is None else hashlib.sha256(data).hexdigest()


def draft_hash(store: Store, d: Draft) -> str:
    """What the principal approves: recipients, subject, body, thread, and the attachments' names and bytes."""
    content = sql.draft_content(d)
    content["attachments"] = [[Path(a).name, _attachment_digest(store, d.principal_id, a)] for a in d.attachments]
    return content_hash(content)
