"""A message's source on demand: connectors that sync without the attachments (Outlook's JSON, Gmail's ``format=full``)
fetch it the first time it is needed.

Called off the GUI thread and off the serial store worker (the UI runs it on the task manager's network pool, with a
store of that thread's own); the only write is one short transaction once the source has arrived.
"""
from __future__ import annotations

from assistant import connectors
from assistant.connectors.base import ON_DEMAND_SUFFIX, Connector
from assistant.core.errors import NeedsSignIn, TransientError, UserError
from assistant.domain import Attachment
from assistant.mail.mime import parse_message
from assistant.store import Store
from assistant.store import mail as mail_store


def is_placeholder(attachment: Attachment) -> bool:
    return attachment.part_id.endswith(ON_DEMAND_SUFFIX)


def downloaded_match(placeholder: Attachment, index: int, placeholders: list[Attachment],
                     downloaded: list[Attachment]) -> int | None:
    """Which of the ``downloaded`` attachments the user asked for by clicking ``placeholder`` (the ``index``-th of
    ``placeholders``): the same MIME part (Gmail's placeholders carry it, ``gmail:2:on-demand``), else the one file of
    that name, else the same place in a list as long; a nameless placeholder (Outlook's one for all) is the only one
    downloaded or none, and then the user chooses."""
    if not downloaded:
        return None
    if placeholder.filename:
        part = placeholder.part_id[:-len(ON_DEMAND_SUFFIX)].partition(":")[2] if is_placeholder(placeholder) else ""
        for position, attachment in enumerate(downloaded):
            if part and attachment.part_id == part:
                return position
        named = [position for position, a in enumerate(downloaded) if a.filename == placeholder.filename]
        if len(named) == 1:
            return named[0]
        if len(placeholders) == len(downloaded) and 0 <= index < len(downloaded):
            return index
    return 0 if len(downloaded) == 1 else None


def needs_download(store: Store, principal_id: int, message_id: int) -> bool:
    """Whether saving this message's attachments has to reach the network first (no source stored)."""
    return not mail_store.raw_message(store.scope(principal_id), message_id)


def fetch_message_source(store: Store, principal_id: int, message_id: int, connector: Connector | None = None) -> bytes:
    """The message's raw source: the stored one, or fetched through its account's connector, stored (with the real
    attachment list in place of the placeholder) and returned. Any failure is one ``UserError`` and changes nothing."""
    scope = store.scope(principal_id)
    message = mail_store.message(scope, message_id, with_body=False)
    raw = mail_store.raw_message(scope, message_id)
    if not raw:
        own = connector is None
        try:
            if connector is None:
                connector = connectors.connect(store.account(message.account_id))
            raw = connector.fetch_raw(message.remote_id)
        except NotImplementedError:
            raise UserError(f"could not download the message: {connector.display_name if connector else 'its account'}"
                            " cannot fetch a message's source") from None
        except (TransientError, NeedsSignIn, UserError) as exc:
            raise UserError(f"could not download the message: {' '.join(str(exc).split())}") from exc
        finally:
            if own and connector is not None:
                connector.close()
        if not raw:
            raise UserError("could not download the message: the server sent an empty source")
    elif not any(is_placeholder(a) for a in message.attachments):
        return raw
    parsed = parse_message(raw, principal_id=principal_id, account_id=message.account_id, remote_id=message.remote_id)
    mail_store.store_raw_message(scope, message_id, raw, parsed.attachments)
    return raw
