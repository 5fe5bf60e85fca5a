"""A big first sync of a maildir parses in other processes; the engine gets the same messages, in the same order, as
parsing in the app gives. The sync cursor's JSON is the same whether written at once or a slice at a time."""
from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path

from assistant.connectors import local
from assistant.connectors.local import LocalConnector, _dump_state
from assistant.domain import Account


def write_maildir(root: Path, count: int) -> None:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for n in range(count):
        msg = EmailMessage()
        msg["From"] = f"Zoë {n % 7} <sender{n % 7}@example.org>"
        msg["To"] = "principal@example.com"
        msg["Subject"] = f"Quarterly figures {n}"
        msg["Date"] = "Mon, 02 Mar 2026 15:00:00 +0000"
        msg["Message-ID"] = f"<m{n}@example.org>"
        msg.set_content(f"Body {n} — naïve café.\n")
        if n % 50 == 0:
            msg.add_attachment(b"%PDF-1.4 " + bytes(range(256)) * 40, maintype="application", subtype="pdf",
                               filename=f"report-{n}.pdf")
        flags = "S" if n % 3 else ""
        (root / "cur" / f"{1_700_000_000 + n}.M{n}P1.host:2,{flags}").write_bytes(msg.as_bytes())
    (root / "cur" / "1800000000.broken.host:2,").write_bytes(b"\xff\xfe not a message at all\r\n\r\n\x00")


REAL_START = local._ParsingProcesses.start


def first_sync(root: Path, monkeypatch, processes: bool) -> tuple[list, list[int]]:
    started = []
    real_start = REAL_START

    def start(items, account):
        made = real_start(items, account) if processes else None
        started.append(made is not None)
        return made

    monkeypatch.setattr(local._ParsingProcesses, "start", start)
    connector = LocalConnector(Account(1, "local", "principal@example.com", {"maildir": str(root)}, id=1),
                               page_size=60)
    pages = list(connector.mail_changes(None))
    assert started == [processes]
    return [(m, raw) for p in pages for m, raw in p.upserted], [len(p.upserted) for p in pages]


def test_a_big_first_sync_parses_in_processes_and_gives_what_parsing_here_gives(tmp_path, monkeypatch):
    root = tmp_path / "Maildir"
    count = local.PARSE_IN_PROCESSES_FROM + 30
    write_maildir(root, count)
    here, here_pages = first_sync(root, monkeypatch, processes=False)
    there, there_pages = first_sync(root, monkeypatch, processes=True)
    assert len(here) == count + 1 and there_pages == here_pages
    assert [m for m, _ in there] == [m for m, _ in here]  # every field: subject, flags, attachments, parse errors…
    assert [raw for _, raw in there] == [raw for _, raw in here]
    assert any(m.parse_error for m, _ in there) and any(m.attachments for m, _ in there)


def test_a_small_sync_parses_here(tmp_path, monkeypatch):
    root = tmp_path / "Maildir"
    write_maildir(root, 20)
    made = []
    real_start = REAL_START
    monkeypatch.setattr(local._ParsingProcesses, "start",
                        lambda items, account: made.append(real_start(items, account)) or made[-1])
    connector = LocalConnector(Account(1, "local", "principal@example.com", {"maildir": str(root)}, id=1))
    assert sum(len(p.upserted) for p in connector.mail_changes(None)) == 21
    assert made == [None]


def test_the_state_written_a_slice_at_a_time_is_the_same_json():
    items = {f"{1_700_000_000 + n}.M{n}P1.hôst\"q": [f"INBOX/cur/{n}:2,S:123:456", f"{n:064x}"]
             for n in range(local.STATE_SLICE * 3 + 7)}
    for full in (True, False):
        once = json.dumps({"v": local.STATE_VERSION, "full": full, "items": items}, separators=(",", ":"))
        assert _dump_state(items, full=full) == once
        assert json.loads(_dump_state(items, full=full))["items"] == items
    assert _dump_state({}, full=True) == json.dumps({"v": local.STATE_VERSION, "full": True, "items": {}},
                                                    separators=(",", ":"))


def test_when_the_parsing_processes_fail_the_rest_is_parsed_here(tmp_path, monkeypatch):
    import concurrent.futures

    class DeadPool:  # every task fails, as when a parsing process is killed
        def __init__(self, *args, **kwargs):
            self.tasks = 0

        def submit(self, *args, **kwargs):
            self.tasks += 1
            future = concurrent.futures.Future()
            future.set_exception(concurrent.futures.process.BrokenProcessPool("a parsing process died"))
            return future

        def shutdown(self, **kwargs):
            pass

    root = tmp_path / "Maildir"
    count = local.PARSE_IN_PROCESSES_FROM + 30
    write_maildir(root, count)
    here, _ = first_sync(root, monkeypatch, processes=False)
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", DeadPool)
    there, _ = first_sync(root, monkeypatch, processes=True)
    assert [m for m, _ in there] == [m for m, _ in here]
