"""``assistant import PATH``: what a path holds is read from its content, and the importer for that kind runs."""
from __future__ import annotations

import os
from pathlib import Path

from assistant.core.errors import InvalidInput, NotFound
from assistant.importing import board as board_io
from assistant.importing.base import ImportReport, read_head
from assistant.importing.calls import detect_for_import, import_calls
from assistant.importing.contacts import import_vcards, is_vcard
from assistant.importing.mail import MailImporter
from assistant.importing.time import import_time, is_time_csv
from assistant.store import Store


def import_path(store: Store, principal_id: int, path: str | os.PathLike[str]) -> ImportReport:
    """Import everything readable under ``path`` into the principal's "import" account."""
    path = Path(path).expanduser()
    try:
        exists = path.exists()
    except OSError:
        exists = False
    if not exists:
        raise NotFound(f"{path} does not exist")
    if not os.access(path, os.R_OK) or (path.is_dir() and not os.access(path, os.X_OK)):
        raise InvalidInput(f"cannot read {path}: permission denied")
    if path.is_file():
        head = read_head(path)
        if is_vcard(head):
            return import_vcards(store, principal_id, path)
        if is_time_csv(head):
            return import_time(store, principal_id, path)
    board_kind = board_io.detect(path)  # a Trello board export (JSON) or a board CSV (a header with a title column)
    if board_kind:
        return board_io.import_board(store, principal_id, path, board_kind)
    call_log = detect_for_import(store, path)  # call-log exports (Google Voice, Android, Twilio, RingCentral, mapped CSV)
    if call_log:
        return import_calls(store, principal_id, path, kind=call_log)
    return MailImporter(store, principal_id, path).run(path)

