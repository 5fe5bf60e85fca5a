"""What other features do when a sync pass has pulled an account's mail.

The sync engine knows no feature (vdirsyncer's rule). A feature that reacts to new mail — approval answers and the
principal's Drafts folder, follow-ups that a reply cancels — registers a hook in the ``assistant.after_mail_pull``
entry-point group (see pyproject.toml), as connectors register in ``assistant.connectors``. A hook is called with the
store and the account before the mail is pulled (to note where the mail stood) and returns what to call after it,
with what the pull brought; that returns one line per thing the assistant should look at.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from importlib.metadata import entry_points

from assistant.domain import Account
from assistant.store import Store

GROUP = "assistant.after_mail_pull"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MailPulled:
    store: Store
    account: Account
    now: datetime
    new_message_ids: tuple[int, ...]  # messages this pass added, in every folder
    push: Callable[[], None]  # pushes the account's outbox again (what an approval released goes out in this pass)
    # a message's RFC 5322 source: the stored one, or fetched through this pass's connector (its headers as received)
    source: Callable[[int], bytes]


AfterMailPull = Callable[[MailPulled], list[str]]
MailPullHook = Callable[[Store, Account], AfterMailPull]


@lru_cache(maxsize=1)
def mail_pull_hooks() -> tuple[tuple[str, MailPullHook], ...]:
    """The registered hooks by name, in name order; one that fails to load is logged and left out."""
    hooks: list[tuple[str, MailPullHook]] = []
    for ep in sorted(entry_points(group=GROUP), key=lambda ep: ep.name):
        try:
            hooks.append((ep.name, ep.load()))
        except Exception:  # a broken plugin must not stop the mail from syncing
            log.exception("the %r sync hook failed to load", ep.name)
    return tuple(hooks)
