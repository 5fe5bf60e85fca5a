"""Compose data of one principal: snippets, the reply signature, senders whose remote images are always loaded.

Every statement filters on the scope's principal.
"""
from __future__ import annotations

from dataclasses import dataclass

from assistant.core.errors import InvalidInput, NotFound
from assistant.domain import ApprovalPolicy
from assistant.store import PrincipalScope
from assistant.store.changes import Area


@dataclass
class Snippet:
    principal_id: int
    name: str
    body: str
    id: int | None = None
    approval: str = ""  # given to the draft it is inserted into; "" = the principal's policy


def approval_value(approval: str | ApprovalPolicy | None) -> str:
    """A stored approval override: '' (the principal's policy) or an ``ApprovalPolicy`` value."""
    if approval in (None, ""):
        return ""
    try:
        return ApprovalPolicy(approval).value
    except ValueError:
        choices = ", ".join(p.value for p in ApprovalPolicy)
        message = f"approval {approval!r} is not one of {choices}, or empty for the principal's policy"
        raise InvalidInput(message) from None


def snippets(scope: PrincipalScope) -> list[Snippet]:
    rows = scope.db.execute(
        "SELECT id, name, body, approval FROM snippets WHERE principal_id=? ORDER BY name COLLATE NOCASE",
        (scope.principal_id,),
    )
    return [Snippet(scope.principal_id, r["name"], r["body"], r["id"], r["approval"]) for r in rows]


def save_snippet(scope: PrincipalScope, name: str, body: str, approval: str | ApprovalPolicy = "") -> Snippet:
    """Add a snippet, or replace the body and approval override of the one with this name."""
    name = name.strip()
    if not name:
        raise InvalidInput("a snippet needs a name")
    approval = approval_value(approval)
    with scope.store.transaction():
        scope.store.changed(Area.SNIPPETS, scope.principal_id)
        scope.db.execute(
            "INSERT INTO snippets(principal_id, name, body, approval) VALUES (?,?,?,?)"
            " ON CONFLICT(principal_id, name) DO UPDATE SET body=excluded.body, approval=excluded.approval",
            (scope.principal_id, name, body, approval),
        )
    row = scope.db.execute(
        "SELECT id FROM snippets WHERE principal_id=? AND name=?", (scope.principal_id, name)
    ).fetchone()
    return Snippet(scope.principal_id, name, body, row["id"], approval)


def delete_snippet(scope: PrincipalScope, name: str) -> None:
    with scope.store.transaction():
        scope.store.changed(Area.SNIPPETS, scope.principal_id)
        cursor = scope.db.execute("DELETE FROM snippets WHERE principal_id=? AND name=?", (scope.principal_id, name))
    if cursor.rowcount == 0:
        raise NotFound(f"no snippet {name!r} for this principal")


def reply_signature(scope: PrincipalScope) -> str | None:
    """The signature for replies, or None when the principal's one signature serves both."""
    row = scope.db.execute(
        "SELECT reply_signature FROM compose_settings WHERE principal_id=?", (scope.principal_id,)
    ).fetchone()
    return row["reply_signature"] if row else None


def set_reply_signature(scope: PrincipalScope, text: str | None) -> None:
    with scope.store.transaction():
        scope.store.changed(Area.SNIPPETS, scope.principal_id)
        scope.db.execute(
            "INSERT INTO compose_settings(principal_id, reply_signature) VALUES (?,?)"
            " ON CONFLICT(principal_id) DO UPDATE SET reply_signature=excluded.reply_signature",
            (scope.principal_id, text),
        )


def loads_remote_images_from(scope: PrincipalScope, sender_email: str) -> bool:
    return scope.db.execute(
        "SELECT 1 FROM remote_image_senders WHERE principal_id=? AND sender_email=?",
        (scope.principal_id, sender_email.strip().lower()),
    ).fetchone() is not None


def always_load_remote_images(scope: PrincipalScope, sender_email: str, allow: bool = True) -> None:
    email = sender_email.strip().lower()
    if "@" not in email:
        raise InvalidInput(f"{sender_email!r} is not an e-mail address")
    with scope.store.transaction():
        scope.store.changed(Area.SNIPPETS, scope.principal_id)
        if allow:
            scope.db.execute(
                "INSERT OR IGNORE INTO remote_image_senders(principal_id, sender_email) VALUES (?,?)",
                (scope.principal_id, email),
            )
        else:
            scope.db.execute(
                "DELETE FROM remote_image_senders WHERE principal_id=? AND sender_email=?", (scope.principal_id, email)
            )
