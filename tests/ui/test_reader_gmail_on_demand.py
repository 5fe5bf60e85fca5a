"""Gmail attachments in the reader: their real names before any download; Save or Open on one fetches the message's
source once (through the real connector against the fake Google, off the GUI thread) and acts on the one clicked."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QPushButton

from assistant.approvals.content import attachment_data
from assistant.store import Store
from assistant.store import mail as mail_store
from assistant.ui.mail import reader as reader_module
from tests.connectors.test_gmail import account, clock, google, server, sync  # noqa: F401 - fixtures
from tests.connectors.test_gmail_on_demand import CSV, PDF, raw_gets, report_with_attachments

PDF_NAME = "Bericht Q3 – Köln.pdf"


@pytest.fixture
def workspace(tmp_path) -> Store:
    """An empty workspace store (the UI conftest's ``workspace`` is a demo-like one)."""
    store = Store(tmp_path / "workspace")
    yield store
    store.close()


@pytest.fixture
def downloads(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "downloads"
    folder.mkdir()
    monkeypatch.setattr(reader_module.QStandardPaths, "writableLocation", lambda _where: str(folder))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda _p, _t, suggested: (suggested, ""))
    return folder


@pytest.fixture
def synced(workspace, google, server, account):  # noqa: F811
    server.add_message(report_with_attachments())
    assert sync(workspace, server, account).errors == []
    return account


def open_in_reader(qtbot, make_window, workspace, account):  # noqa: F811
    window = make_window(workspace.dir)
    window.select_principal(account.principal_id)
    qtbot.waitUntil(lambda: window.inbox.model.rowCount() == 1)
    window.inbox.threads.select_row(0)
    reader = window.inbox.reader
    qtbot.waitUntil(lambda: reader.attachment_actions.isVisible() and len(buttons(reader, "Save")) == 2)
    return window, reader


def buttons(reader, verb: str) -> list[QPushButton]:
    return [b for b in reader.attachment_actions.findChildren(QPushButton) if b.text().startswith(verb)]


def test_names_show_before_the_download_and_save_writes_the_one_clicked(qtbot, make_window, workspace, google,  # noqa: F811
                                                                       synced, downloads):
    window, reader = open_in_reader(qtbot, make_window, workspace, synced)
    text = reader.attachments.text()
    assert PDF_NAME in text and "zahlen.csv" in text and "downloaded when you save or open it" in text
    assert "Attachments (downloaded when you save or open them)" not in text
    assert [b.text() for b in buttons(reader, "Save")] == [f"Save {PDF_NAME}…", "Save zahlen.csv…"]
    assert raw_gets(google) == []

    with qtbot.wait_signal(reader.attachment_saved, timeout=10000) as saved:
        qtbot.mouseClick(buttons(reader, "Save")[1], Qt.MouseButton.LeftButton)
    assert Path(saved.args[0]) == downloads / "zahlen.csv"
    assert (downloads / "zahlen.csv").read_bytes() == CSV
    assert not (downloads / PDF_NAME).exists()
    assert len(raw_gets(google)) == 1
    assert "downloaded when" not in reader.attachments.text()
    assert not reader.attachment_status.isVisible()

    with qtbot.wait_signal(reader.attachment_saved, timeout=5000):
        qtbot.mouseClick(buttons(reader, "Save")[0], Qt.MouseButton.LeftButton)
    assert (downloads / PDF_NAME).read_bytes() == PDF
    assert len(raw_gets(google)) == 1


def test_open_downloads_then_opens_the_one_clicked(qtbot, make_window, workspace, google, synced, monkeypatch,  # noqa: F811
                                                   private_folder):
    opened: list[str] = []
    monkeypatch.setattr(reader_module.QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()))
    window, reader = open_in_reader(qtbot, make_window, workspace, synced)
    with qtbot.wait_signal(reader.attachment_saved, timeout=10000):
        qtbot.mouseClick(buttons(reader, "Open")[0], Qt.MouseButton.LeftButton)
    assert [Path(p).name for p in opened] == [PDF_NAME]
    assert Path(opened[0]).read_bytes() == PDF
    assert Path(opened[0]).parent == private_folder / str(os.getpid()) / "attachments"  # emptied when the app quits
    assert len(raw_gets(google)) == 1


def test_a_failed_download_is_one_line_and_the_names_stay(qtbot, make_window, workspace, google, synced):  # noqa: F811
    window, reader = open_in_reader(qtbot, make_window, workspace, synced)
    google.inject(404, r"^GET /gmail/v1/users/me/messages/[0-9a-f]+$")
    with qtbot.wait_signal(reader.attachment_failed, timeout=10000) as failed:
        qtbot.mouseClick(buttons(reader, "Save")[0], Qt.MouseButton.LeftButton)
    line = failed.args[0]
    assert line.startswith("could not download the message: ") and "404" in line and "\n" not in line
    assert reader.attachment_status.text() == line and reader.attachment_status.isVisible()
    assert all(b.isEnabled() for b in buttons(reader, "Save"))
    assert [b.text() for b in buttons(reader, "Save")] == [f"Save {PDF_NAME}…", "Save zahlen.csv…"]
    assert mail_store.raw_message(workspace.scope(synced.principal_id), window.inbox.reader._message.id) == b""


def test_forwarding_downloads_the_attachments_into_the_forward(qtbot, make_window, workspace, google, synced):  # noqa: F811
    window, reader = open_in_reader(qtbot, make_window, workspace, synced)
    actions = window.inbox_actions
    with qtbot.wait_signal(actions.compose_opened, timeout=5000) as opened:
        actions.compose("forward")
    compose = opened.args[0]
    qtbot.waitUntil(lambda: len(compose.attachments) == 2, timeout=10000)
    assert sorted(Path(p).name for p in compose.attachments) == sorted([PDF_NAME, "zahlen.csv"])
    pdf = next(p for p in compose.attachments if p.endswith(".pdf"))
    assert attachment_data(workspace, synced.principal_id, pdf) == PDF  # kept in the workspace, for the draft
    assert len(raw_gets(google)) == 1
    compose.close()
