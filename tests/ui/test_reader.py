import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QTextDocument
from PySide6.QtTest import QAbstractItemModelTester

from assistant.domain import Address, Attachment, Message
from assistant.store import Store
from assistant.store import mail as mail_store
from assistant.ui.mail.reader import (
    Reader,
    SafeTextBrowser,
    ThreadMessagesModel,
    remote_image_urls,
    safe_attachment_name,
    sanitise_html,
)
from assistant.ui.workers import TaskManager
from tests.ui.conftest import BASE, add_principal, add_thread

TRACKER = "https://tracker.example/open.gif?u=1&amp;m=2"
HOSTILE_HTML = f"""
<html><head><title>t</title><style>body {{ background: url(https://css.example/bg.png) }}</style>
<script>document.write('pwned')</script></head>
<body onload="steal()"><p style="color: red; background-image: url(https://css.example/x.png)">Quarterly <b>numbers</b></p>
<img src="{TRACKER}" width="1" height="1">
<a href="javascript:alert(1)">click</a> <a href="https://example.org/report">report</a>
<iframe src="https://frame.example/"></iframe><form action="https://phish.example/"><input name="pw"></form>
</body></html>
"""


@pytest.fixture
def reader(qtbot, tmp_path):
    tasks = TaskManager(tmp_path / "ws")
    widget = Reader(tasks)
    qtbot.addWidget(widget)
    widget.resize(700, 600)
    widget.show()
    yield widget
    tasks.shutdown()


def message(**kw) -> Message:
    defaults = dict(principal_id=1, account_id=1, remote_id="m1", subject="Numbers", sender=Address("Bob", "bob@x.org"),
                    to=[Address("Ann", "ann@a.example")], date_utc=BASE, id=7)
    defaults.update(kw)
    return Message(**defaults)


def test_sanitiser_strips_scripts_handlers_and_urls_in_css():
    clean = sanitise_html(HOSTILE_HTML)
    for gone in ("<script", "pwned", "onload", "javascript:", "<iframe", "<form", "<input", "url(", "<style"):
        assert gone not in clean
    assert "Quarterly <b>numbers</b>" in clean
    assert "color:red" in clean.replace(" ", "")
    assert remote_image_urls(clean) == ["https://tracker.example/open.gif?u=1&m=2"]


def test_browser_refuses_remote_and_local_files_but_reads_data_urls(qtbot):
    browser = SafeTextBrowser()
    qtbot.addWidget(browser)
    image = QTextDocument.ResourceType.ImageResource.value
    for refused in ("https://tracker.example/p.gif", "http://x.example/a.png", "file:///etc/hostname", "cid:part1@x",
                    "data:text/html,<b>x</b>"):
        assert browser.loadResource(image, QUrl(refused)).isNull(), refused
    pixel = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
    assert browser.loadResource(image, QUrl(pixel)).size().width() == 1


def test_reader_blocks_remote_images_and_offers_to_load_them(reader, qtbot):
    reader.show_message(message(body_html=HOSTILE_HTML, body_text="fallback"), "America/New_York")
    assert reader.remote_bar.isVisible()
    assert reader.remote_bar.button.text() == "Load for this message"
    shown = reader.browser.toHtml()
    assert "pwned" not in shown and "steal" not in shown
    assert "Quarterly" in reader.browser.toPlainText()
    reader.browser.grab()  # lay out and paint: any image load goes through loadResource now
    assert any(url.startswith("https://tracker.example/") for url in reader.browser.blocked_requests)
    assert all(reader.browser.document().resource(QTextDocument.ResourceType.ImageResource.value, QUrl(u)).isNull()
               for u in reader.remote_urls)
    assert "10:00" in reader.header.text()  # 15:00 UTC in New York


def test_plain_text_fallback_and_no_bar_without_remote_content(reader):
    reader.show_message(message(body_text="Just text\nsecond line"), "UTC")
    assert reader.browser.toPlainText() == "Just text\nsecond line"
    assert not reader.remote_bar.isVisible()


def test_attachment_names_are_shown_sanitised(reader):
    reader.show_message(message(body_text="see attached", attachments=[
        Attachment("../../etc/passwd", "text/plain", 10), Attachment("C:\\Users\\x\\evil<>.exe", "x", 2048),
    ]), "UTC")
    text = reader.attachments.text()
    assert "passwd" in text and "../" not in text and "etc" not in text
    assert "evil__.exe" in text and "Users" not in text


@pytest.mark.parametrize("raw, safe", [
    ("../../etc/passwd", "passwd"), ("..", "attachment"), (".bashrc", "bashrc"), ("a\x00b\nc.txt", "a_b_c.txt"),
    ("Résumé 2026.pdf", "Résumé 2026.pdf"), ("", "attachment"),
])
def test_safe_attachment_name(raw, safe):
    assert safe_attachment_name(raw) == safe


def test_reader_loads_a_thread_through_the_task_manager(qtbot, tmp_path):
    store = Store(tmp_path / "ws")
    p, a = add_principal(store, "Ann", "America/New_York")
    add_thread(store, p, a, "t", "Budget", replies=2, unread=False, html="<p>Budget <img src='http://x.example/a.png'></p>")
    thread = mail_store.threads(store.scope(p.id))[0]
    tasks = TaskManager(store.dir)
    try:
        widget = Reader(tasks)
        qtbot.addWidget(widget)
        tester = QAbstractItemModelTester(widget.messages, QAbstractItemModelTester.FailureReportingMode.Warning)
        with qtbot.waitSignal(widget.message_shown, timeout=5000):
            widget.show_thread(p, thread)
        assert widget.messages.rowCount() == 3
        assert widget.open_row == 2  # all read: the newest is open, the two before it are lines above it
        assert not widget.message_list.isRowHidden(1) and widget.message_list.isRowHidden(2)
        assert widget.subject.text() == "Budget"
        assert widget.remote_urls == ["http://x.example/a.png"]
        del tester
    finally:
        tasks.shutdown()
        store.close()


def test_thread_messages_model(qtbot):
    model = ThreadMessagesModel()
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    model.set_messages([message(), message(id=8, is_read=True, attachments=[Attachment("a", "b", 1)])], "Asia/Tokyo")
    assert model.rowCount() == 2
    assert "Bob" in model.index(0).data() and "Tue 03 Mar 2026 00:00" in model.index(0).data()
    model.set_messages([], "UTC")
    assert model.rowCount() == 0
    del tester
