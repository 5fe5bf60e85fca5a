"""vdirsyncer-style: random changes on both sides, random crashes mid-sync, and after one clean sync the workspace
matches the maildir exactly — nothing lost, nothing doubled, every queued action carried out once."""
from __future__ import annotations

import mailbox
import shutil
import tempfile
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from assistant.connectors.local import LocalConnector
from assistant.domain import Account, Principal
from assistant.store import Store
from assistant.sync import actions
from assistant.sync.engine import sync_account
from tests.connectors.contract import make_raw


class Crash(BaseException):
    """Stands in for the process dying: not an Exception, so nothing in the engine handles it."""


class CrashingConnector(LocalConnector):
    def __init__(self, account, *, crash_page: int | None, crash_apply: int | None):
        super().__init__(account, page_size=2)
        self.crash_page, self.crash_apply, self.applied = crash_page, crash_apply, 0

    def mail_changes(self, cursor):
        for n, page in enumerate(super().mail_changes(cursor)):
            if n == self.crash_page:
                raise Crash()
            yield page

    def apply(self, entry):
        result = super().apply(entry)
        self.applied += 1
        if self.applied == self.crash_apply:
            raise Crash()  # performed, not yet recorded
        return result


class SyncMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="sync-machine-"))
        self.maildir = self.dir / "Maildir"
        self.box = mailbox.Maildir(self.maildir, create=True)
        self.store = Store(self.dir / "ws")
        principal = self.store.add_principal(Principal("Mia", "Pacific/Apia", ["mia@example.com"]))
        self.account = self.store.add_account(Account(principal.id, "local", "mia@example.com",
                                                      {"maildir": str(self.maildir)}))
        self.scope = self.store.scope(principal.id)
        self.next_n = 0
        self.sent: set[str] = set()

    def teardown(self):
        self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _server(self) -> dict[str, tuple[str, str]]:
        """Message-ID -> (folder, flags) of everything in the maildir."""
        out = {}
        root = mailbox.Maildir(self.maildir, create=False)
        boxes = [("INBOX", root)] + [(name, root.get_folder(name)) for name in root.list_folders()]
        for folder, box in boxes:
            for msg in box:
                out[msg["Message-ID"]] = (folder, "".join(sorted(set(msg.get_flags()) & {"S", "F"})))
        return out

    @rule(count=st.integers(1, 4))
    def deliver(self, count):
        for _ in range(count):
            self.box.add(make_raw(self.next_n))
            self.next_n += 1

    @precondition(lambda self: len(self.box) > 0)
    @rule(data=st.data())
    def server_removes(self, data):
        key = data.draw(st.sampled_from(sorted(self.box.keys())))
        # A sent message the user moved into the inbox can be deleted on the server like any other: it is then
        # legitimately gone, and the model must stop expecting it.
        self.sent.discard(self.box.get_message(key)["Message-ID"])
        self.box.remove(key)

    @precondition(lambda self: len(self.box) > 0)
    @rule(data=st.data(), flag=st.sampled_from("SF"))
    def server_flags(self, data, flag):
        key = data.draw(st.sampled_from(sorted(self.box.keys())))
        msg = self.box[key]
        msg.set_subdir("cur")
        msg.add_flag(flag)
        self.box[key] = msg

    def _local_message(self, data):
        rows = self.store.db.execute(
            "SELECT id FROM messages WHERE account_id=? AND remote_id NOT LIKE 'outbox:%' ORDER BY id",
            (self.account.id,),
        ).fetchall()
        return data.draw(st.sampled_from([r[0] for r in rows])) if rows else None

    @rule(data=st.data(), read=st.booleans())
    def user_marks(self, data, read):
        message_id = self._local_message(data)
        if message_id is not None and message_id in {m for m in self._server_ids()}:
            actions.mark_read(self.store, message_id, self.account.principal_id, read)

    @rule(data=st.data(), to=st.sampled_from(["archive", "trash", "inbox"]))
    def user_moves(self, data, to):
        message_id = self._local_message(data)
        if message_id is not None and message_id in self._server_ids():
            actions.move_message(self.store, message_id, self.account.principal_id, to)

    def _server_ids(self) -> set[int]:
        """Local messages still on the server and not touched by an unfinished action (whose target may be gone)."""
        server = self._server()
        return {
            r[0] for r in self.store.db.execute("SELECT id, message_id_header FROM messages WHERE account_id=?",
                                                (self.account.id,))
            if r[1] in server
        }

    @rule()
    def user_sends(self):
        entry = actions.send_message(self.store, self.account.principal_id, self.account.id, to="x@example.org",
                                     subject=f"note {len(self.sent)}", body_text="hello")
        self.sent.add(entry.payload["message_id_header"])

    @rule(crash_page=st.one_of(st.none(), st.integers(0, 3)), crash_apply=st.one_of(st.none(), st.integers(1, 3)))
    def sync_that_may_crash(self, crash_page, crash_apply):
        account = self.store.account(self.account.id)
        try:
            sync_account(self.store, account.id, CrashingConnector(account, crash_page=crash_page,
                                                                   crash_apply=crash_apply))
        except Crash:
            pass

    @invariant()
    def store_is_consistent(self):
        assert self.store.db.execute(
            "SELECT COUNT(*) FROM messages m LEFT JOIN threads t ON t.id=m.thread_id WHERE t.id IS NULL"
        ).fetchone()[0] == 0

    def check_model(self):
        # Entries whose message the server deleted meanwhile fail for good; everything else must go through.
        for _ in range(3):
            # A mailbox the server emptied is a wipe the engine refuses until the user accepts it (its own tests:
            # tests/sync/test_engine.py); the model accepts it, as the user would.
            report = sync_account(self.store, self.account.id, allow_empty=not self._server())
            assert not [e for e in report.errors if "no longer in this mailbox" not in e]
        server = self._server()
        rows = self.store.db.execute(
            "SELECT message_id_header, folders, is_read, is_flagged FROM messages WHERE account_id=?",
            (self.account.id,),
        ).fetchall()
        local = {r[0]: (r[1], r[2], r[3]) for r in rows}
        assert len(local) == len(rows)  # no duplicates
        assert set(local) == set(server)
        for mid, (folder, flags) in server.items():
            assert local[mid] == (f'["{folder}"]', int("S" in flags), int("F" in flags)), mid
        sent = [m for m, (folder, _) in server.items() if m in self.sent]
        assert sorted(sent) == sorted(self.sent)  # every send arrived, once (Message-IDs are unique keys above)
        assert not self.store.outbox(self.account.id, states=("pending", "in-flight"))


class CheckedSyncMachine(SyncMachine):
    def teardown(self):
        try:
            self.check_model()
        finally:
            super().teardown()


TestSyncMachine = CheckedSyncMachine.TestCase
TestSyncMachine.settings = settings(max_examples=30, stateful_step_count=12, deadline=None,
                                    suppress_health_check=[HealthCheck.too_slow])
