"""The guard against writing as the wrong principal.

One workspace holds several principals' correspondents, so a message can be written from the wrong account: a
recipient who has only ever corresponded with another principal, or a reply to a thread that came in on another
principal's account. :func:`wrong_principal` says so in one line, naming both principals; the compose window's Send,
Outgoing's and Approvals' *Send now*, Outgoing's *Send later*, Approvals' *Approved in person* and ``assistant draft
submit`` all call it before a send, and the assistant must confirm (Send anyway, ``--confirm-principal``) to go on. It
reads only; it changes nothing.
"""
from __future__ import annotations

from assistant.core.errors import UserError
from assistant.domain import Draft
from assistant.store import Store
from assistant.store import drafts as sql
from assistant.store import mail as mail_store


class WrongPrincipal(UserError):
    """A send that looks meant for another principal, refused until the assistant confirms it."""


def _names(store: Store, principal_ids: set[int]) -> str:
    names = sorted(store.principal(pid).name for pid in principal_ids)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def wrong_principal(store: Store, principal_id: int, draft: Draft) -> str | None:
    """One line when ``draft`` looks meant for another principal than ``principal_id``, else ``None``.

    It does when the thread it replies to is only another principal's, or when a recipient has corresponded (mail either
    way, or the address book) only with other principals. An address nobody in the workspace knows is a new
    correspondent, not a wrong principal.
    """
    me = store.principal(principal_id).name
    if draft.in_reply_to:
        holders = mail_store.principals_with_message(store, draft.in_reply_to)
        if holders and principal_id not in holders:
            return (f"This reply's thread came in for {_names(store, holders)}, not {me}: "
                    f"it would go from {me}'s account.")
    for address in [*draft.to, *draft.cc]:
        knowing = mail_store.principals_corresponding_with(store, address.email)
        if knowing and principal_id not in knowing:
            return (f"{address.email} has corresponded only with {_names(store, knowing)}, never with {me}: "
                    f"it would go from {me}'s account.")
    return None


def check_draft(store: Store, principal_id: int, draft_id: int) -> str | None:
    """:func:`wrong_principal` for a stored draft."""
    return wrong_principal(store, principal_id, sql.get_draft(store.scope(principal_id), draft_id))


__all__ = ["WrongPrincipal", "wrong_principal", "check_draft"]
