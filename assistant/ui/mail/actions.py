"""What the inbox's keys and menus do: compose (c, r, a, f), archive (e), delete (#, Delete), read (u), flag (s, !).

Every change goes through ``assistant.sync.actions`` on the TaskManager (local effect + outbox entry in one
transaction), so it works offline, as the principal whose thread it is (the All-principals list holds several: each
thread is changed, read and answered as its own principal, never the one the window showed before); the threads it
touched show a pending mark until a sync has pushed their entries.
Each change also goes on the window's undo stack (``ui/undo.py``): Ctrl+Z moves the messages back to the folder they
came from, or sets their flags back, through the same outbox actions.

The keys are commands in the window's registry (``ui/shortcuts.py``): the single keys work only in the thread list and
the reader, never while a text field has the focus; Ctrl+N, Ctrl+R, Ctrl+Shift+R and Ctrl+L anywhere in the window.
"""
from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, QSettings, Qt, Signal
from PySide6.QtWidgets import QMenu

from assistant.domain import Account, Draft, DraftState, Message, OutboxEntry, Principal, Thread
from assistant.store import Store
from assistant.store import mail as mail_store
from assistant.sync.fetch import fetch_message_source, is_placeholder
from assistant.ui import style
from assistant.ui.mail.compose import ComposeStart, ComposeWindow, start_for, start_from_draft
from assistant.ui.undo import UndoStack
from assistant.ui.workers import TaskManager, describe_error

# The Message menu, in order (None: a separator): name, menu text, keys anywhere in the window, single keys (the
# thread list and the reader only). The command palette and the shortcut sheet list the same, from the registry.
MAIL_COMMANDS: list[tuple[str, str, list[str], list[str]] | None] = [
    ("new", "&New message", ["Ctrl+N"], ["C"]),
    ("reply", "&Reply", ["Ctrl+R"], ["R"]),
    ("reply-all", "Reply to &all", ["Ctrl+Shift+R"], ["A"]),
    ("forward", "&Forward", ["Ctrl+L"], ["F"]),
    None,
    ("archive", "Ar&chive", [], ["E"]),
    ("delete", "&Delete", [], ["Del", "#"]),
    ("toggle-read", "Toggle &read", [], ["U"]),
    ("toggle-flag", "Toggle f&lag", [], ["S", "!"]),
]

Reverse = Callable[[Store], OutboxEntry]  # on the worker: puts one message back as it was
Change = tuple[int, Reverse]  # the outbox entry an action made, and how to take it back


def assistant_name() -> str:
    """The assistant's own name for ``{{my_name}}``: the setting, else the account's full name, else the login."""
    name = QSettings().value("compose/my_name", "")
    if name:
        return str(name)
    try:
        import pwd  # POSIX only

        gecos = pwd.getpwuid(os.getuid()).pw_gecos.split(",")[0].strip()
    except (ImportError, KeyError, OSError):
        gecos = ""
    return gecos or getpass.getuser()


def _reply_target(messages: list[Message], principal: Principal) -> Message | None:
    """The newest message not written by the principal (else the newest): what "reply" answers."""
    own = {a.lower() for a in principal.addresses}
    others = [m for m in messages if not (m.sender and m.sender.email.lower() in own)]
    candidates = others or messages
    return candidates[-1] if candidates else None


def forwarded_attachments(store: Store, principal_id: int, original: Message) -> list[str]:
    """Worker side: the original's attachments kept for the draft inside the workspace database (``draft_files``: a
    draft must still find them after a restart, and an encrypted workspace keeps them encrypted), under their
    sanitised names; the references go in ``Draft.attachments``."""
    from assistant.mail.mime import attachment_bytes, safe_filename
    from assistant.store import drafts as draft_store

    if not original.attachments or not original.id:
        return []
    scope = store.scope(principal_id)
    raw = mail_store.raw_message(scope, original.id)
    refs = []
    with store.transaction():
        for a in original.attachments:
            data = attachment_bytes(raw, a.part_id) if raw else b""
            if data:
                refs.append(draft_store.add_file(scope, safe_filename(a.filename), data))
    return refs


class InboxActions(QObject):
    """Runs the inbox's actions, each as the principal of the thread it acts on (a new message: the current
    principal); owns the open compose windows."""

    status_message = Signal(str)
    changed = Signal()  # the list needs re-reading (an action's local effect is stored)
    compose_opened = Signal(object)  # the ComposeWindow
    message_submitted = Signal(int, str)  # draft id, state

    def __init__(self, tasks: TaskManager, store: Store, inbox, principal: Callable[[], Principal | None],
                 parent: QObject | None = None, compose_extensions: Sequence[Callable[[Any], Any]] = (),
                 undo: UndoStack | None = None):
        super().__init__(parent)
        self.compose_extensions = compose_extensions  # the main window's list: features add to it after this is made
        self.thread_menu: QMenu | None = None  # the thread list's context menu, while it is open
        self._tasks = tasks
        self._store = store
        self._inbox = inbox
        self._principal = principal
        self.undo_stack = undo
        self.windows: list[ComposeWindow] = []
        self.pending: dict[int, set[int]] = {}  # thread id -> outbox entry ids not yet pushed

    # -- commands ------------------------------------------------------------------------------------------------
    def trigger(self, action: str) -> None:
        if action in ("new", "reply", "reply-all", "forward"):
            self.compose(action)
        elif action == "archive":
            self.archive()
        elif action == "delete":
            self.delete()
        elif action == "toggle-read":
            self.toggle_read()
        elif action == "toggle-flag":
            self.toggle_flag()

    # -- selection -----------------------------------------------------------------------------------------------
    def selected_threads(self) -> list[Thread]:
        view, model = self._inbox.threads, self._inbox.model
        rows = sorted({i.row() for i in view.selectionModel().selectedRows()})
        if not rows and view.currentIndex().isValid():
            rows = [view.currentIndex().row()]
        return [t for t in (model.thread_at(r) for r in rows) if t is not None]

    # -- mail actions --------------------------------------------------------------------------------------------
    def thread_principal(self, thread: Thread) -> Principal | None:
        """The principal a thread is acted on as: its own (the list knows each row's)."""
        principal = self._inbox.model.principal_of(thread)
        return principal if principal is not None and principal.id == thread.principal_id else None

    def _run_on_threads(self, verb: str, per_thread: Callable[[Store, int, Thread, list[Message]], list[Change]],
                        moves_to: str = "") -> None:
        """Apply ``per_thread`` to each selected thread on the worker, as the thread's own principal; mark what waits
        for the sync and put the changes on the undo stack as one entry. ``moves_to``: the role of the folder the
        threads are moved to; when that takes them out of the list shown they leave it at once and the next thread
        opens, before the worker writes (the list is read again when it has; a failed move brings them back)."""
        owned = [(t, p) for t in self.selected_threads() if (p := self.thread_principal(t)) is not None]
        if not owned:
            return
        taken_out = bool(moves_to) and self._inbox.leaves_list_when_moved_to(moves_to)
        if taken_out:
            self._inbox.take_out({t.id for t, _p in owned if t.id is not None})
        names = list(dict.fromkeys(p.name for _t, p in owned))  # whose threads, in list order

        def work(store: Store) -> dict[int, list[Change]]:
            return {t.id: per_thread(store, t.principal_id, t,
                                     mail_store.thread_messages(store.scope(t.principal_id), t.id))
                    for t, _p in owned}

        def done(changes: dict[int, list[Change]]) -> None:
            self._mark_pending({thread_id: [entry for entry, _ in made] for thread_id, made in changes.items()})
            count = sum(1 for made in changes.values() if made)
            if not count:
                self.status_message.emit("Nothing to change")
                self.changed.emit()
                return
            text = f"{verb} {count} thread{'s' if count != 1 else ''} · {', '.join(names)}"
            reverses = [(thread_id, reverse) for thread_id, made in changes.items() for _, reverse in made]
            if self.undo_stack is not None:  # the window shows the entry as a notice with Undo
                self.undo_stack.push(text, lambda: self._take_back(text, reverses))
            else:
                self.status_message.emit(f"{text} — waiting to sync")
            self.changed.emit()

        def failed(error: BaseException) -> None:
            self.status_message.emit(describe_error(error))
            if taken_out:  # back in the list, as the store still has them
                self.changed.emit()

        self._tasks.run(work, on_done=done, on_error=failed)

    def _mark_pending(self, entries: dict[int, list[int]]) -> None:
        for thread_id, ids in entries.items():
            if ids:
                self.pending.setdefault(thread_id, set()).update(ids)
        self._inbox.model.pending_thread_ids = set(self.pending)

    def _take_back(self, text: str, reverses: list[tuple[int, Reverse]]) -> None:
        """The undo of one action: each message back as it was (as its own principal's), through the outbox like the
        action itself."""
        def work(store: Store) -> dict[int, list[int]]:
            made: dict[int, list[int]] = {}
            with store.transaction():
                for thread_id, reverse in reverses:
                    made.setdefault(thread_id, []).append(reverse(store).id)
            return made

        def done(entries: dict[int, list[int]]) -> None:
            self._mark_pending(entries)
            self.status_message.emit(f"Undone: {text}")
            self.changed.emit()

        self._tasks.run(work, on_done=done, on_error=lambda e: self.status_message.emit(describe_error(e)))

    def on_thread_read(self, principal: Principal, thread: Thread, message_ids: list[int]) -> None:
        """The reader marked a thread read because the user read it: Ctrl+Z (no notice: reading is not an action the
        user announces) marks those messages unread again, as the user's own ``u`` would, and keeps them so."""
        if self.undo_stack is None or not message_ids or principal.id is None:
            return
        principal_id, thread_id = principal.id, thread.id
        text = f"Marked read “{thread.subject or '(no subject)'}” · {principal.name}"

        def unread(message_id: int) -> Reverse:
            from assistant.sync.actions import mark_read

            return lambda store: mark_read(store, message_id, principal_id, False)

        def take_back() -> None:
            self._inbox.reader.keep_read_state({thread_id})  # the reader must not read it again at once
            self._take_back(text, [(thread_id, unread(message_id)) for message_id in message_ids])

        self.undo_stack.push(text, take_back, quiet=True)

    def archive(self) -> None:
        folder = self._inbox.model.folder

        def archive(store: Store, principal_id: int, _t: Thread, messages: list[Message]) -> list[Change]:
            scope = store.scope(principal_id)
            inboxes = {f.remote_id for f in mail_store.folders(scope) if f.role == "inbox"}
            here = {folder} if folder else inboxes
            return [_move(store, principal_id, m, "archive", came_from[0])
                    for m in messages if (came_from := [f for f in m.folders if f in here])]

        self._run_on_threads("Archived", archive, moves_to="archive")

    def delete(self) -> None:
        folder = self._inbox.model.folder

        def delete(store: Store, principal_id: int, _t: Thread, messages: list[Message]) -> list[Change]:
            trash = {f.remote_id for f in mail_store.folders(store.scope(principal_id)) if f.role == "trash"}
            return [_move(store, principal_id, m, "trash", folder if folder in m.folders else m.folders[0])
                    for m in messages if m.folders and not (trash & set(m.folders))]

        self._run_on_threads("Moved to trash", delete, moves_to="trash")

    def toggle_read(self) -> None:
        def toggle(store: Store, principal_id: int, _t: Thread, messages: list[Message]) -> list[Change]:
            any_unread = any(not m.is_read for m in messages)
            return [_set_flag(store, principal_id, m, "is_read", any_unread)
                    for m in messages if m.is_read != any_unread]

        self._inbox.reader.keep_read_state({t.id for t in self.selected_threads()})  # the reader must not undo it
        self._run_on_threads("Marked", toggle)

    def toggle_flag(self) -> None:
        def toggle(store: Store, principal_id: int, _t: Thread, messages: list[Message]) -> list[Change]:
            flagged = [m for m in messages if m.is_flagged]
            if flagged:
                return [_set_flag(store, principal_id, m, "is_flagged", False) for m in flagged]
            return [_set_flag(store, principal_id, messages[-1], "is_flagged", True)] if messages else []

        self._run_on_threads("Flagged or unflagged", toggle)

    def on_sync_finished(self) -> None:
        """Drop the pending marks of entries the sync has pushed."""
        self.refresh_pending()

    def refresh_pending(self) -> None:
        """Mark the threads whose changes still wait in the outbox, as the store has them (also those queued before a
        restart, or by the command line), for every principal the list shows."""
        principal_ids = [p.id for p in self._inbox.model.listed_principals()]
        if not principal_ids:
            return

        def waiting(store: Store) -> dict[int, set[int]]:
            out: dict[int, set[int]] = {}
            for principal_id in principal_ids:  # thread ids are the workspace's: no two principals share one
                out.update(mail_store.threads_waiting_to_sync(store.scope(principal_id)))
            return out

        def apply(waiting: dict[int, set[int]]) -> None:
            if [p.id for p in self._inbox.model.listed_principals()] != principal_ids:
                return  # another list by now
            changed = waiting != self.pending
            self.pending = waiting
            self._inbox.model.pending_thread_ids = set(waiting)
            if changed:
                self.changed.emit()

        self._tasks.run(waiting, on_done=apply, on_error=lambda e: self.status_message.emit(describe_error(e)))

    # -- compose -------------------------------------------------------------------------------------------------
    def compose(self, mode: str, message_id: int | None = None) -> None:
        """Open a compose window; a reply/forward answers ``message_id``, else the message being read, else the
        newest message of the current thread, and writes as that message's principal (a new message: as the current
        principal). A saved draft of the same reply is restored (with "Start over")."""
        principal = self._principal()  # a new message, or the current principal's ``message_id``
        thread_id = None
        if mode != "new" and message_id is None:
            reader = self._inbox.reader
            shown, threads = reader._message, self.selected_threads()
            if shown is not None and reader.principal is not None and (not threads or shown.thread_id == threads[0].id):
                message_id, principal = shown.id, reader.principal
            elif threads:
                thread_id, principal = threads[0].id, self.thread_principal(threads[0])
            else:
                return
        if principal is None:
            return
        principal_id = principal.id

        open_ids = {w.draft_id for w in self.windows if w.draft_id is not None}

        def load(store: Store):
            from assistant.approvals.drafts import list_drafts
            from assistant.store import snippets as snippet_store

            scope = store.scope(principal_id)
            p = scope.principal
            original = None
            if message_id is not None:
                original = mail_store.message(scope, message_id)
            elif thread_id is not None:
                original = _reply_target(mail_store.thread_messages(scope, thread_id), p)
            reply_signature = snippet_store.reply_signature(scope)
            saved = unsent_new = None
            if mode in ("reply", "reply-all") and original is not None and original.message_id_header:
                saved = next((d for d in list_drafts(store, principal_id,
                                                     [DraftState.DRAFT, DraftState.REVISED, DraftState.REJECTED])
                              if d.in_reply_to == original.message_id_header), None)
            elif mode == "new":
                unsent_new = max((d for d in list_drafts(store, principal_id, [DraftState.DRAFT])
                                  if not d.in_reply_to and d.id not in open_ids),
                                 key=lambda d: (d.updated_utc is not None, d.updated_utc or 0, d.id), default=None)
            forwarded = forwarded_attachments(store, principal_id, original) if mode == "forward" and original else []
            return p, store.accounts(principal_id), original, reply_signature, saved, forwarded, unsent_new

        def open_window(result) -> None:
            p, accounts, original, reply_signature, saved, forwarded, unsent_new = result
            fresh = start_for(mode, p, original, new_signature=p.signature,
                              reply_signature=p.signature if reply_signature is None else reply_signature)
            fresh.attachments = forwarded
            window = self.open_compose(p, accounts, fresh, saved)
            if unsent_new is not None:
                window.offer_saved_draft(unsent_new)
            if mode == "forward" and original is not None and any(is_placeholder(a) for a in original.attachments):
                self._download_forwarded(window, principal_id, original.id)

        self._tasks.run(load, on_done=open_window, on_error=lambda e: self.status_message.emit(describe_error(e)))

    def _download_forwarded(self, window: ComposeWindow, principal_id: int, message_id: int) -> None:
        """The original's attachments were not downloaded at sync (Outlook): fetch its source on the network pool,
        then add them to the open forward; if that fails the user is told the forward has none."""
        self.status_message.emit("Downloading the forwarded message's attachments…")

        def fetch(store: Store) -> list[str]:
            fetch_message_source(store, principal_id, message_id)
            return forwarded_attachments(store, principal_id, mail_store.message(store.scope(principal_id), message_id))

        def arrived(paths: list[str]) -> None:
            if window not in self.windows:  # closed meanwhile: the files stay in the workspace, unused
                return
            window.add_attachments(paths, typed=False)
            self.status_message.emit(f"{len(paths)} attachment(s) added to the forward.")

        def failed(error: BaseException) -> None:
            self.status_message.emit(f"{describe_error(error)} — the forward has no attachments yet")

        self._tasks.run_network(fetch, on_done=arrived, on_error=failed)

    def open_draft(self, principal_id: int, draft_id: int) -> None:
        def load(store: Store):
            from assistant.approvals.drafts import get_draft

            return store.principal(principal_id), store.accounts(principal_id), get_draft(store, principal_id, draft_id)

        # a draft opened for itself (Revise, Edit) has no fresh start to offer: "Start over" would delete it and the
        # history it carries
        self._tasks.run(load, on_done=lambda r: self.open_compose(r[0], r[1], start_from_draft(r[2]), r[2],
                                                                  offer_fresh=False),
                        on_error=lambda e: self.status_message.emit(describe_error(e)))

    def open_compose(self, principal: Principal, accounts: list[Account], fresh: ComposeStart,
                     saved: Draft | None = None, *, offer_fresh: bool = True) -> ComposeWindow:
        start = start_from_draft(saved) if saved is not None else fresh
        window = ComposeWindow(self._tasks, self._store, principal, accounts, start, draft=saved,
                               my_name=assistant_name(), extensions=self.compose_extensions)
        if saved is not None and offer_fresh:
            window.offer_fresh_start(fresh)
        window.submitted.connect(lambda draft_id, state: self.on_submitted(draft_id, state, window.principal))
        window.closed.connect(lambda: self._forget(window))
        self.windows.append(window)
        window.show()
        self.compose_opened.emit(window)
        return window

    def _undo_send(self, principal_id: int, draft_id: int) -> None:
        """Take a queued send back while its undo window lasts (the draft stays, approved, in the Outgoing tab)."""
        from assistant.approvals import lifecycle

        def said(undone: bool) -> None:
            self.status_message.emit("Send undone: the draft is back in the Outgoing tab" if undone else
                                     "Too late to undo: the message has gone, or is going")
            self.changed.emit()

        self._tasks.run(lambda store: lifecycle.undo_send(store, principal_id, draft_id), on_done=said,
                        on_error=lambda e: self.status_message.emit(describe_error(e)))

    def _forget(self, window: ComposeWindow) -> None:
        # A save still on its way keeps the window object alive through its callback until it is delivered.
        if window in self.windows:
            self.windows.remove(window)

    def on_submitted(self, draft_id: int, state: str, principal: Principal | None = None) -> None:
        """A compose window sent or submitted its draft; ``principal``: whose it is (the window's), else the current."""
        texts: dict[str, str] = {  # by the state the draft is in now
            DraftState.SENDING: "Message queued — it goes out with the next sync (Undo send in the Outgoing tab)",
            DraftState.AWAITING_APPROVAL: "Waiting for the principal's approval",
            DraftState.SCHEDULED: "Message scheduled (see the Outgoing tab)",
            DraftState.NEEDS_CONFIRMATION: "The send time has passed: Send now from the Outgoing tab",
        }
        text = texts.get(state, f"Draft is now {state}")
        principal = principal or self._principal()
        if state == DraftState.SENDING and self.undo_stack is not None and principal is not None:
            sender_id = principal.id
            assert sender_id is not None
            self.undo_stack.push(f"Message queued · {principal.name} — it goes out with the next sync (Outgoing tab)",
                                 lambda: self._undo_send(sender_id, draft_id))
        else:
            self.status_message.emit(text)
        self.message_submitted.emit(draft_id, state)
        if principal is None:
            self.changed.emit()
            return
        principal_id = principal.id
        assert principal_id is not None  # principals come from the store

        def queued_send(store: Store) -> tuple[int, int] | None:
            """The outbox entry carrying this draft, and the thread its local copy joined."""
            from assistant.store import drafts as draft_sql

            scope = store.scope(principal_id)
            key = draft_sql.send_key(scope, draft_id)
            entry = next((e for e in store.outbox(states=["pending", "in-flight"])
                          if key and e.idempotency_key == key and e.principal_id == principal_id), None)
            if entry is None:
                return None
            local = mail_store.message_by_header_id(scope, entry.payload.get("message_id_header", ""))
            return (local.thread_id, entry.id) if local is not None and local.thread_id else None

        def mark(found: tuple[int, int] | None) -> None:
            if found is not None:
                self.pending.setdefault(found[0], set()).add(found[1])
                self._inbox.model.pending_thread_ids = set(self.pending)
            self.changed.emit()

        self._tasks.run(queued_send, on_done=mark, on_error=lambda _e: self.changed.emit())


def _move(store: Store, principal_id: int, message: Message, to: str, came_from: str) -> Change:
    """Worker side: move ``message`` to ``to`` (a role or a folder), and how to move it back where it came from."""
    from assistant.sync.actions import move_message

    message_id = message.id
    entry = move_message(store, message_id, principal_id, to)
    return entry.id, lambda s: move_message(s, message_id, principal_id, came_from)


def _set_flag(store: Store, principal_id: int, message: Message, flag: str, on: bool) -> Change:
    """Worker side: set ``is_read`` or ``is_flagged`` on ``message``, and how to set it back."""
    from assistant.sync.actions import mark_read, set_flagged

    setter = mark_read if flag == "is_read" else set_flagged
    message_id, was = message.id, bool(getattr(message, flag))
    entry = setter(store, message_id, principal_id, on)
    return entry.id, lambda s: setter(s, message_id, principal_id, was)


class _SaveComposeOnClose(QObject):
    """Before the main window shuts its worker down: compose windows close (their last typing is saved) and the
    reader stops its timer."""

    def __init__(self, actions: InboxActions, parent: QObject):
        super().__init__(parent)
        self._actions = actions

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Close:
            for window in list(self._actions.windows):
                window.close()
            self._actions._inbox.reader.clear()  # its mark-read timer must not fire once the worker is gone
        return False


def install(window: Any) -> InboxActions:
    """Wire the inbox actions into the main window: keys, the Message menu, the thread menu, status messages."""
    actions = InboxActions(window.tasks, window.store, window.inbox, lambda: window.current_principal, window,
                           compose_extensions=window.compose_extensions, undo=window.undo)
    window.principal_changed.connect(lambda _pid: actions.refresh_pending())
    actions.status_message.connect(window.show_status)
    window.inbox.reader.attachment_saved.connect(lambda path: window.show_status(f"Saved {path}"))
    window.inbox.reader.attachment_failed.connect(window.show_error)
    window.inbox.reader.thread_marked_read.connect(actions.on_thread_read)

    def reload() -> None:
        window.inbox.reload_list(folders=True)  # on the worker, as every view's read after a change
        window.refresh_counts()

    actions.changed.connect(reload)
    window.sync_finished.connect(lambda _reports: actions.on_sync_finished())
    separator = False
    for item in MAIL_COMMANDS:
        if item is None:
            separator = True
            continue
        name, text, keys, single_keys = item
        action = window.commands.add(name, text, lambda name=name: actions.trigger(name), keys=keys, area="mail",
                                     area_keys=single_keys, group="Message")
        window.add_message_action(name, action, thread_menu=name != "new", separator=separator)
        separator = False
    threads = window.inbox.threads

    def open_current() -> None:
        if threads.currentIndex().isValid():
            threads.open_requested.emit(threads.currentIndex())

    # Moving through the list (from the reader too): listed in the palette and the sheet, not in the menus.
    window.commands.add("next-thread", "Next thread", lambda: threads.move_current(1), area="mail", area_keys=["J"],
                        group="Message")
    window.commands.add("previous-thread", "Previous thread", lambda: threads.move_current(-1), area="mail",
                        area_keys=["K"], group="Message")
    window.commands.add("open-thread", "Open thread", open_current, area="list", area_keys=["O", "Return", "Enter"],
                        group="Message")
    new_action = window.message_actions["new"]
    new_action.setStatusTip("Write a new message for the current principal")
    new_action.setIcon(style.icon("compose", window.palette()))
    toolbar_actions = window.toolbar.actions()
    if len(toolbar_actions) > 1:
        window.toolbar.insertAction(toolbar_actions[1], new_action)
    else:
        window.toolbar.addAction(new_action)

    def thread_menu(pos: QPoint) -> None:
        if not window.inbox.threads.indexAt(pos).isValid():
            return
        menu = QMenu(window.inbox.threads)
        for name in window.thread_menu_names:  # the inbox's own actions, then what other features registered
            if name is None:
                menu.addSeparator()
            else:
                menu.addAction(window.message_actions[name])
        actions.thread_menu = menu
        menu.popup(window.inbox.threads.viewport().mapToGlobal(pos))

    window.inbox.threads.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    window.inbox.threads.customContextMenuRequested.connect(thread_menu)
    window.installEventFilter(_SaveComposeOnClose(actions, window))
    return actions
