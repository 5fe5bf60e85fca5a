"""Saving an Outlook attachment from the reader: the source is downloaded on first use, through the real connector
against the fake Graph server, off the GUI thread; a failure is one line in the reader and nothing is lost."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QPushButton

from assistant.approvals.content import attachment_data
from assistant.store import Store
from assistant.ui.mail import reader as reader_module
from tests.connectors.test_outlook import account, clock, connector, fake, principal, run_sync, sleeps  # noqa: F401
from tests.sync.test_fetch import CSV, PDF, deliver_with_source, mime_with_attachments


@pytest.fixture
def workspace(tmp_path) -> Store:
    """An empty workspace store (the UI conftest's ``workspace`` is a demo-like one)."""
    store = Store(tmp_path / "workspace")
    yield store
    store.close()


def one_attachment() -> bytes:
    from email import message_from_bytes, policy

    msg = message_from_bytes(mime_with_attachments(), policy=policy.default)
    parts = list(msg.iter_attachments())
    msg.get_payload().remove(parts[1])  # keep the PDF only
    return msg.as_bytes()


def open_in_reader(qtbot, make_window, workspace, account):  # noqa: F811
    window = make_window(workspace.dir)
    window.select_principal(account.principal_id)
    qtbot.waitUntil(lambda: window.inbox.model.rowCount() == 1)
    window.inbox.threads.select_row(0)
    reader = window.inbox.reader
    qtbot.waitUntil(lambda: reader.attachment_actions.isVisible())
    return window, reader


def save_buttons(reader) -> list[QPushButton]:
    return [b for b in reader.attachment_actions.findChildren(QPushButton) if b.text().startswith("Save")]


def test_save_downloads_the_source_then_saves_the_one_attachment(qtbot, make_window, workspace, account, connector,  # noqa: F811
                                                                 fake, monkeypatch, tmp_path):
    deliver_with_source(fake, one_attachment(), monkeypatch)
    run_sync(workspace, account, connector)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    monkeypatch.setattr(reader_module.QStandardPaths, "writableLocation", lambda _where: str(downloads))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda _p, _t, suggested: (suggested, ""))

    window, reader = open_in_reader(qtbot, make_window, workspace, account)
    assert "downloaded when you save or open them" in reader.attachments.text()
    assert not fake.requests_to("$value")
    with qtbot.wait_signal(reader.attachment_saved, timeout=10000) as saved:
        qtbot.mouseClick(save_buttons(reader)[0], Qt.MouseButton.LeftButton)
    assert Path(saved.args[0]) == downloads / "contract.pdf"
    assert (downloads / "contract.pdf").read_bytes() == PDF
    assert len(fake.requests_to("$value")) == 1
    assert "contract.pdf" in reader.attachments.text()
    assert [b.text() for b in save_buttons(reader)] == ["Save contract.pdf…"]
    assert not reader.attachment_status.isVisible()


def test_with_several_attachments_the_user_picks_one_after_the_download(qtbot, make_window, workspace, account,  # noqa: F811
                                                                         connector, fake, monkeypatch, tmp_path):  # noqa: F811
    deliver_with_source(fake, mime_with_attachments(), monkeypatch)
    run_sync(workspace, account, connector)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    monkeypatch.setattr(reader_module.QStandardPaths, "writableLocation", lambda _where: str(downloads))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda _p, _t, suggested: (suggested, ""))

    window, reader = open_in_reader(qtbot, make_window, workspace, account)
    qtbot.mouseClick(save_buttons(reader)[0], Qt.MouseButton.LeftButton)
    # Buttons of an earlier render linger until their deleteLater runs: wait for the download's answer itself.
    qtbot.waitUntil(lambda: reader.attachment_status.text() != "Downloading…" and len(save_buttons(reader)) == 2,
                    timeout=10000)
    assert reader.attachment_status.text() == "2 attachments downloaded: choose one."
    assert [b.text() for b in save_buttons(reader)] == ["Save contract.pdf…", "Save figures.csv…"]
    with qtbot.wait_signal(reader.attachment_saved, timeout=5000):
        qtbot.mouseClick(save_buttons(reader)[1], Qt.MouseButton.LeftButton)
    assert (downloads / "figures.csv").read_bytes() == CSV
    assert len(fake.requests_to("$value")) == 1


def test_a_failed_download_is_one_line_and_the_buttons_come_back(qtbot, make_window, workspace, account, connector,  # noqa: F811
                                                                 fake, monkeypatch):
    deliver_with_source(fake, one_attachment(), monkeypatch)
    run_sync(workspace, account, connector)
    window, reader = open_in_reader(qtbot, make_window, workspace, account)
    fake.fail_next(404, body={"error": {"code": "ErrorItemNotFound", "message": "The message was moved or deleted."}},
                   path_contains="$value")
    with qtbot.wait_signal(reader.attachment_failed, timeout=10000) as failed:
        qtbot.mouseClick(save_buttons(reader)[0], Qt.MouseButton.LeftButton)
    line = failed.args[0]
    assert line.startswith("could not download the message: ") and "moved or deleted" in line and "\n" not in line
    assert reader.attachment_status.text() == line and reader.attachment_status.isVisible()
    assert all(b.isEnabled() for b in save_buttons(reader))
    assert "downloaded when you save or open them" in reader.attachments.text()


def test_forwarding_downloads_the_attachments_into_the_forward(qtbot, make_window, workspace, account, connector,  # noqa: F811
                                                              fake, monkeypatch):
    deliver_with_source(fake, mime_with_attachments(), monkeypatch)
    run_sync(workspace, account, connector)
    window, reader = open_in_reader(qtbot, make_window, workspace, account)
    actions = window.inbox_actions
    with qtbot.wait_signal(actions.compose_opened, timeout=5000) as opened:
        actions.compose("forward")
    compose = opened.args[0]
    qtbot.waitUntil(lambda: len(compose.attachments) == 2, timeout=10000)
    assert sorted(Path(p).name for p in compose.attachments) == ["contract.pdf", "figures.csv"]
    pdf = next(p for p in compose.attachments if p.endswith(".pdf"))
    assert attachment_data(workspace, account.principal_id, pdf) == PDF  # kept in the workspace, for the draft
    assert len(fake.requests_to("$value")) == 1
    compose.close()
