"""A message's source on demand: connectors that sync without MIME (Outlook) fetch it the first time it is needed.

Called off the GUI thread and off the serial store worker (the UI runs it on the task manager's network pool, with a
store of that thread's own); the only write is one short transaction once the source has arrived.
"""
from __future__ import annotations

from assistant.connectors.base import Connector
from assistant.domain import Attachment
from assistant.errors import NeedsSignIn, TransientError, UserError
from assistant.mail.mime import parse_message
from assistant.store import Store

ON_DEMAND_SUFFIX = ":on-demand"  # the part id of a connector's placeholder ("it has attachments, not fetched yet")


def is_placeholder(attachment: Attachment) -> bool:
    return attachment.part_id.endswith(ON_DEMAND_SUFFIX)


def needs_download(store: Store, principal_id: int, message_id: int) -> bool:
    """Whether saving this message's attachments has to reach the network first (no source stored)."""
    return not store.scope(principal_id).raw_message(message_id)


def fetch_message_source(store: Store, principal_id: int, message_id: int, connector: Connector | None = None) -> bytes:
    """The message's raw source: the stored one, or fetched through its account's connector, stored (with the real
    attachment list in place of the placeholder) and returned. Any failure is one ``UserError`` and changes nothing."""
    scope = store.scope(principal_id)
    message = scope.message(message_id, with_body=False)
    raw = scope.raw_message(message_id)
    if not raw:
        own = connector is None
        try:
            if connector is None:
                from assistant.sync.engine import make_connector

                connector = make_connector(store.account(message.account_id))
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
    scope.store_raw_message(message_id, raw, parsed.attachments)
    return raw
