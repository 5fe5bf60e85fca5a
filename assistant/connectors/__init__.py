"""Connector registry: every connector, built-in or third-party, registers in the ``assistant.connectors`` entry-point
group (``kind = "package.module:ConnectorClass"``). Picard-style: the extension point is typed, loading is lazy, and a
plugin that fails to import is reported, not fatal.
"""
from __future__ import annotations

from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from assistant.connectors.base import CalendarPage, Capability, Connector, MailPage
from assistant.core.errors import UserError
from assistant.domain import Account

GROUP = "assistant.connectors"


@lru_cache(maxsize=1)
def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def available() -> list[str]:
    return sorted(_entry_points())


def load(kind: str) -> type[Connector]:
    ep = _entry_points().get(kind)
    if ep is None:
        raise UserError(f"no connector for {kind!r} (installed: {', '.join(available()) or 'none'})")
    try:
        cls = ep.load()
    except Exception as exc:  # a broken third-party plugin must not take the app down
        raise UserError(f"the {kind!r} connector failed to load: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise UserError(f"the {kind!r} entry point does not name a Connector subclass")
    return cls


def connect(account: Account, credentials: Any = None, **options: Any) -> Connector:
    """A connector for ``account``, of the class its kind registers."""
    return load(account.kind)(account, credentials=credentials, **options)


__all__ = ["Capability", "CalendarPage", "Connector", "MailPage", "available", "connect", "load", "GROUP"]
