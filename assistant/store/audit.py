"""The audit trail a principal's drafts, approvals and sends leave (written by :meth:`Store.audit`), read per principal."""
from __future__ import annotations

import json

from assistant.core.timezones import from_epoch_required
from assistant.domain import (
    AuditEntry,
)
from assistant.store import PrincipalScope


def entries(scope: PrincipalScope) -> list[AuditEntry]:
    rows = scope.db.execute(
        "SELECT * FROM audit WHERE principal_id=? ORDER BY at_utc, id", (scope.principal_id,)
    )
    return [
        AuditEntry(id=r["id"], principal_id=r["principal_id"], at_utc=from_epoch_required(r["at_utc"]),
                   actor=r["actor"], action=r["action"], subject=r["subject"], detail=json.loads(r["detail"]))
        for r in rows
    ]
