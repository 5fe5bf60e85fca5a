"""The reader: a thread's messages, HTML sanitised with nh3 and shown without scripts or remote content.

Remote images (tracking pixels) stay blocked until the user allows them for one message; then they are fetched
asynchronously with ``QNetworkAccessManager`` (never on the GUI thread's time) and added to the document.
"""
from __future__ import annotations

import base64
import html
import re
import tempfile
import unicodedata
import urllib.parse
from pathlib import Path

import nh3
from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QStandardPaths,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import QDesktopServices, QFont, QImage, QTextDocument
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QSizePolicy,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from assistant.core import timezones
from assistant.core.errors import InvalidInput, NotFound
from assistant.domain import Attachment, Message, Principal, Thread
from assistant.mail.mime import attachment_bytes, safe_filename
from assistant.store import mail as mail_store
from assistant.sync.fetch import downloaded_match, fetch_message_source, is_placeholder
from assistant.ui.workers import TaskManager, describe_error

AnyIndex = QModelIndex | QPersistentModelIndex
REMOTE_SCHEMES = {"http", "https"}
MAX_REMOTE_IMAGE_BYTES = 5 * 1024 * 1024

_ALLOWED_TAGS = set(nh3.ALLOWED_TAGS) | {"font", "center", "span", "div"}
_ALLOWED_ATTRIBUTES = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
for _tag in ("table", "td", "th", "tr", "tbody", "body", "div", "p", "span", "font"):
    _ALLOWED_ATTRIBUTES.setdefault(_tag, set()).update({"bgcolor", "align", "valign", "width", "color", "style"})
_ALLOWED_ATTRIBUTES["font"].update({"face", "size"})
_ALLOWED_ATTRIBUTES.setdefault("*", set()).add("style")
# Presentational CSS only: nothing that can name a URL (background-image, content, @import) survives.
_STYLE_PROPERTIES = {
    "color", "background-color", "font-family", "font-size", "font-style", "font-weight", "text-align",
    "text-decoration", "margin", "margin-left", "margin-right", "margin-top", "margin-bottom", "padding",
    "padding-left", "padding-right", "padding-top", "padding-bottom", "width", "border", "border-collapse",
    "line-height", "white-space", "vertical-align",
}
_REMOTE_SRC = re.compile(r'\bsrc="(https?://[^"]+)"', re.IGNORECASE)


def sanitise_html(source: str) -> str:
    """Mail HTML reduced to markup that cannot run code, post forms or reach the network by itself."""
    return nh3.clean(
        source,
        tags=_ALLOWED_TAGS,
        clean_content_tags={"script", "style", "title", "head"},
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "cid", "data"},
        filter_style_properties=_STYLE_PROPERTIES,
        link_rel="noopener noreferrer",
    )


def remote_image_urls(sanitised: str) -> list[str]:
    """Remote image sources in nh3's normalised output (it always writes ``src="..."`` with double quotes)."""
    return list(dict.fromkeys(html.unescape(u) for u in _REMOTE_SRC.findall(sanitised)))


_UNSAFE_NAME_CHARS = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


def safe_attachment_name(name: str, fallback: str = "attachment") -> str:
    """A file name to show or save under: no directories, no control or reserved characters, no leading dots."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME_CHARS.sub("_", name).strip().lstrip(".").strip()
    if len(name) > 150:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 150 - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else name[:150]
    return name or fallback


def _human_size(size: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


def _image_from_data_url(url: str) -> QImage | None:
    """An image embedded in the message itself (``data:image/png;base64,...``); anything else is refused."""
    header, comma, payload = url[len("data:"):].partition(",")
    if not comma or not header.lower().startswith("image/") or len(payload) > MAX_REMOTE_IMAGE_BYTES * 2:
        return None
    try:
        if header.lower().endswith(";base64"):
            data = base64.b64decode(urllib.parse.unquote(payload), validate=False)
        else:
            data = urllib.parse.unquote_to_bytes(payload)
    except ValueError:
        return None
    image = QImage.fromData(data)
    return None if image.isNull() else image


def attachment_target(folder: Path, filename: str) -> Path:
    """Where an attachment named ``filename`` goes inside ``folder``: its sanitised name, never outside it."""
    folder = folder.resolve()
    target = (folder / safe_filename(filename)).resolve()
    if target.parent != folder:
        raise InvalidInput(f"refusing to save {filename!r} outside {folder}")
    return target


def unique_target(folder: Path, filename: str) -> Path:
    """Like :func:`attachment_target`, with " (2)", " (3)"… added when the name is taken: nothing is overwritten."""
    target = attachment_target(folder, filename)
    stem, suffix, n = target.stem, target.suffix, 2
    while target.exists():
        target = target.with_name(f"{stem} ({n}){suffix}")
        n += 1
    return target


_open_folder: Path | None = None


def open_folder() -> Path:
    """A folder readable by the user alone, for attachments opened in this session."""
    global _open_folder
    if _open_folder is None:
        _open_folder = Path(tempfile.mkdtemp(prefix="assistant-attachments-"))
    return _open_folder


def write_attachment(store, principal_id: int, message_id: int, attachment: Attachment, path: Path, *,
                     overwrite: bool = False) -> Path:
    """Worker side: the attachment's bytes from the stored message, written to ``path`` (exclusively unless told)."""
    raw = mail_store.raw_message(store.scope(principal_id), message_id)
    data = attachment_bytes(raw, attachment.part_id) if raw else b""
    if not data and attachment.size:
        raise NotFound(f"the content of {safe_filename(attachment.filename)} is not stored in this workspace")
    try:
        with open(path, "wb" if overwrite else "xb") as f:
            f.write(data)
    except FileExistsError:
        raise InvalidInput(f"{path.name} exists already in {path.parent}: not replaced") from None
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def download_attachments(store, principal_id: int, message_id: int) -> list[Attachment]:
    """Network pool side: the message's source fetched (if not stored yet), and its real attachment list."""
    fetch_message_source(store, principal_id, message_id)
    return mail_store.message(store.scope(principal_id), message_id, with_body=False).attachments


def allowed_remote_senders(store, principal_id: int, thread_id: int) -> set[str]:
    """Worker side: which senders of this thread the principal always loads remote images from."""
    from assistant.store import snippets as compose_store

    scope = store.scope(principal_id)
    senders = {m.sender.email.lower() for m in mail_store.thread_messages(scope, thread_id) if m.sender}
    return {s for s in senders if compose_store.loads_remote_images_from(scope, s)}


class SafeTextBrowser(QTextBrowser):
    """A QTextBrowser that loads no resource from outside the message unless told to for this message."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.blocked_requests: list[str] = []
        self.anchorClicked.connect(self.on_anchor_clicked)

    def loadResource(self, type: int, name: QUrl | str):
        name = QUrl(name)  # Qt passes a QUrl; a caller may pass the text of one
        # A refused image is a null QImage: it draws nothing (None would show a "broken image" icon).
        if name.scheme().lower() == "data":
            image = _image_from_data_url(name.toString(QUrl.ComponentFormattingOption.FullyEncoded))
            return image if image is not None else QImage()
        # Remote (tracking pixels), file: (local files) and relative names: all refused. Allowed remote images
        # reach the document through addResource() after an asynchronous fetch, so they never come here.
        self.blocked_requests.append(name.toString())
        return QImage()

    def on_anchor_clicked(self, url: QUrl) -> None:
        if url.scheme().lower() in REMOTE_SCHEMES | {"mailto"}:
            QDesktopServices.openUrl(url)


class ThreadMessagesModel(QAbstractListModel):
    """The messages of one thread, oldest first, one line each: sender and date in the principal's zone."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._messages: list[Message] = []
        self._zone = "UTC"
        self._bold = QFont()
        self._bold.setBold(True)

    def set_messages(self, messages: list[Message], zone: str) -> None:
        self.beginResetModel()
        self._messages = list(messages)
        self._zone = zone
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._messages)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._messages):
            return None
        m = self._messages[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            sender = (m.sender.name or m.sender.email) if m.sender else "(unknown sender)"
            when = f"{timezones.in_zone(m.date_utc, self._zone):%a %d %b %Y %H:%M}" if m.date_utc else ""
            clip = "  \U0001F4CE" if m.attachments else ""
            return f"{sender}  ·  {when}{clip}"
        if role == Qt.ItemDataRole.FontRole:
            return None if m.is_read else self._bold
        if role == Qt.ItemDataRole.ToolTipRole:
            return m.snippet or None
        return None

    def message_at(self, row: int) -> Message | None:
        return self._messages[row] if 0 <= row < len(self._messages) else None

    def message_changed(self, message: Message) -> None:
        for row, m in enumerate(self._messages):
            if m is message:
                index = self.index(row)
                self.dataChanged.emit(index, index)


class RemoteContentBar(QFrame):
    load_requested = Signal()
    always_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("remote-content-bar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.label = QLabel("Remote images blocked", self)
        self.button = QPushButton("Load for this message", self)
        self.button.setAccessibleName("Load remote images for this message")
        self.button.clicked.connect(self.load_requested)
        self.always_button = QPushButton("Always load from this sender", self)
        self.always_button.setAccessibleName("Always load remote images from this sender")
        self.always_button.clicked.connect(self.always_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)
        layout.addWidget(self.always_button)


class Reader(QWidget):
    """Shows one thread: its subject, a list of its messages, and the selected message."""

    message_shown = Signal(int)  # message id, once its body is in the browser
    message_marked_read = Signal(int, int)  # thread id, message id: the read flag is stored and queued for the server
    attachment_saved = Signal(str)  # the path written
    attachment_failed = Signal(str)  # one line for the user

    MARK_READ_AFTER_MS = 800  # shown this long counts as read; skimming past with j/k does not

    def __init__(self, tasks: TaskManager, parent=None):
        super().__init__(parent)
        self.setObjectName("reader")
        self._tasks = tasks
        self._request = 0
        self._principal: Principal | None = None
        self._message: Message | None = None
        self._network: QNetworkAccessManager | None = None
        self._replies: list[QNetworkReply] = []
        self.remote_urls: list[str] = []
        self._mark_read_timer = QTimer(self)
        self._mark_read_timer.setSingleShot(True)
        self._mark_read_timer.setInterval(self.MARK_READ_AFTER_MS)
        self._mark_read_timer.timeout.connect(self.on_mark_read_due)

        self.subject = QLabel(self)
        self.subject.setObjectName("reader-subject")
        self.subject.setWordWrap(True)
        self.subject.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.subject.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.subject.setFont(font)

        self.messages = ThreadMessagesModel(self)
        self.message_list = QListView(self)
        self.message_list.setModel(self.messages)
        self.message_list.setAccessibleName("Messages in this thread")
        self.message_list.setUniformItemSizes(True)
        self.message_list.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        self.message_list.selectionModel().currentRowChanged.connect(self.on_message_row_changed)

        self.header = QLabel(self)
        self.header.setObjectName("reader-header")
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.remote_bar = RemoteContentBar(self)
        self.remote_bar.load_requested.connect(self.on_load_remote_requested)
        self.remote_bar.always_requested.connect(self.on_always_load_requested)
        self.remote_bar.hide()

        self.browser = SafeTextBrowser(self)
        self.browser.setAccessibleName("Message body")

        self.attachments = QLabel(self)
        self.attachments.setObjectName("reader-attachments")
        self.attachments.setWordWrap(True)
        self.attachments.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.attachments.hide()
        self.attachment_actions = QWidget(self)
        self.attachment_actions.setObjectName("reader-attachment-actions")
        self._attachment_layout = QHBoxLayout(self.attachment_actions)
        self._attachment_layout.setContentsMargins(0, 0, 0, 0)
        self.attachment_actions.hide()
        self.attachment_status = QLabel(self)  # "Downloading…", or why it could not be
        self.attachment_status.setObjectName("reader-attachment-status")
        self.attachment_status.hide()
        self.allowed_senders: set[str] = set()  # senders whose remote images this principal always loads

        self.placeholder = QLabel("Select a thread to read it.", self)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.subject)
        layout.addWidget(self.message_list)
        layout.addWidget(self.header)
        layout.addWidget(self.remote_bar)
        layout.addWidget(self.browser, 1)
        layout.addWidget(self.attachments)
        layout.addWidget(self.attachment_actions)
        layout.addWidget(self.attachment_status)
        layout.addWidget(self.placeholder, 1)
        self.clear()

    # -- thread --------------------------------------------------------------------------------------------------
    def clear(self) -> None:
        self._request += 1  # results still on their way are for a thread no longer shown
        self._mark_read_timer.stop()
        self._message = None
        self.messages.set_messages([], "UTC")
        for w in (self.subject, self.message_list, self.header, self.remote_bar, self.browser, self.attachments,
                  self.attachment_actions, self.attachment_status):
            w.hide()
        self.browser.clear()
        self.placeholder.show()

    def show_thread(self, principal: Principal, thread: Thread) -> None:
        self._request += 1
        request, principal_id, thread_id = self._request, principal.id, thread.id
        assert principal_id is not None and thread_id is not None  # both read from the store
        self._principal = principal
        self._tasks.run(lambda store: allowed_remote_senders(store, principal_id, thread_id),
                        on_done=lambda senders: self._on_allowed_senders(request, senders))
        self._tasks.run(
            lambda store: mail_store.thread_messages(store.scope(principal_id), thread_id),
            on_done=lambda messages: self._on_thread_loaded(request, thread, messages),
        )

    def _on_thread_loaded(self, request: int, thread: Thread, messages: list[Message]) -> None:
        if request != self._request or self._principal is None:
            return
        self.placeholder.hide()
        self.subject.setText(thread.subject or "(no subject)")
        self.subject.show()
        self.messages.set_messages(messages, self._principal.timezone)
        rows = min(len(messages), 6)
        self.message_list.setFixedHeight(self.message_list.sizeHintForRow(0) * rows + 2 * self.message_list.frameWidth()
                                         if rows else 0)
        self.message_list.setVisible(len(messages) > 1)
        if messages:
            unread = [i for i, m in enumerate(messages) if not m.is_read]
            row = unread[0] if unread else len(messages) - 1
            self.message_list.setCurrentIndex(self.messages.index(row))

    def on_message_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        message = self.messages.message_at(current.row()) if current.isValid() else None
        if message is not None:
            self.show_message(message)

    # -- message -------------------------------------------------------------------------------------------------
    def show_message(self, message: Message, zone: str | None = None) -> None:
        self._abort_remote_fetches()
        self._message = message
        zone = zone or (self._principal.timezone if self._principal else "UTC")
        self.placeholder.hide()
        self.header.setText(self._header_html(message, zone))
        self.header.show()
        self.browser.blocked_requests.clear()
        self.browser.document().clear()
        if message.body_html.strip():
            clean = sanitise_html(message.body_html)
            self.remote_urls = remote_image_urls(clean)
            self.browser.setHtml(clean)
        else:
            self.remote_urls = []
            self.browser.setPlainText(message.body_text or message.snippet or "(this message has no text)")
        self.remote_bar.label.setText(
            f"Remote images blocked ({len(self.remote_urls)})" if len(self.remote_urls) > 1 else "Remote images blocked"
        )
        self.remote_bar.button.setEnabled(True)
        self.remote_bar.setVisible(bool(self.remote_urls))
        self.browser.show()
        self.attachment_status.hide()
        self._show_attachments(message)
        sender = message.sender.email.lower() if message.sender else ""
        self.remote_bar.always_button.setEnabled(bool(sender))
        if self.remote_urls and sender and sender in self.allowed_senders:
            self.on_load_remote_requested()
        if message.id:
            self.message_shown.emit(message.id)
        if message.id and not message.is_read and self._principal is not None:
            self._mark_read_timer.start()
        else:
            self._mark_read_timer.stop()

    def on_mark_read_due(self) -> None:
        message, principal = self._message, self._principal
        if message is None or principal is None or message.is_read or not message.id:
            return
        message_id, principal_id = message.id, principal.id
        assert principal_id is not None  # principals come from the store

        def mark(store):
            from assistant.sync.actions import mark_read

            return mark_read(store, message_id, principal_id)

        self._tasks.run(mark, on_done=lambda _entry: self._on_marked_read(message))

    def _on_marked_read(self, message: Message) -> None:
        message.is_read = True
        self.messages.message_changed(message)
        self.message_marked_read.emit(message.thread_id or 0, message.id)

    @staticmethod
    def _header_html(m: Message, zone: str) -> str:
        def addrs(items) -> str:
            return html.escape(", ".join(str(a) for a in items))

        rows = [("From", html.escape(str(m.sender)) if m.sender else "(unknown)"), ("To", addrs(m.to))]
        if m.cc:
            rows.append(("Cc", addrs(m.cc)))
        if m.date_utc:
            local = timezones.in_zone(m.date_utc, zone)
            rows.append(("Date", f"{local:%A %d %B %Y %H:%M} {html.escape(local.tzname() or '')}"))
        if m.parse_error:
            rows.append(("Note", html.escape(m.parse_error)))
        return "".join(f"<b>{k}:</b> {v}<br>" for k, v in rows)

    # -- remote content, on request ------------------------------------------------------------------------------
    def on_load_remote_requested(self) -> None:
        if not self.remote_urls:
            return
        if self._network is None:
            self._network = QNetworkAccessManager(self)
        self.remote_bar.button.setEnabled(False)
        self.remote_bar.label.setText("Loading remote images…")
        for url in self.remote_urls:
            request = QNetworkRequest(QUrl(url))
            request.setTransferTimeout(15000)
            reply = self._network.get(request)
            reply.setProperty("message_id", self._message.id if self._message else None)
            reply.finished.connect(lambda reply=reply: self._on_remote_finished(reply))
            self._replies.append(reply)

    def _on_remote_finished(self, reply: QNetworkReply) -> None:
        if reply in self._replies:
            self._replies.remove(reply)
        current = self._message.id if self._message else None
        if reply.error() == QNetworkReply.NetworkError.NoError and reply.property("message_id") == current:
            data = reply.read(MAX_REMOTE_IMAGE_BYTES)
            image = QImage.fromData(data)
            if not image.isNull():
                doc = self.browser.document()
                doc.addResource(QTextDocument.ResourceType.ImageResource, reply.request().url(), image)
                doc.markContentsDirty(0, doc.characterCount())
        reply.deleteLater()
        if not self._replies:
            self.remote_bar.hide()

    def _on_allowed_senders(self, request: int, senders: set[str]) -> None:
        if request == self._request:
            self.allowed_senders = senders

    def on_always_load_requested(self) -> None:
        """Remember the sender for this principal, then load this message's images."""
        message, principal = self._message, self._principal
        if message is None or principal is None or message.sender is None:
            return
        sender, principal_id = message.sender.email.lower(), principal.id

        def remember(store) -> None:
            from assistant.store import snippets as compose_store

            compose_store.always_load_remote_images(store.scope(principal_id), sender)

        self.allowed_senders.add(sender)
        self._tasks.run(remember)
        self.on_load_remote_requested()

    # -- attachments ---------------------------------------------------------------------------------------------
    def _show_attachments(self, message: Message) -> None:
        if message.attachments:
            lines = [
                "\U0001F4CE Attachments (downloaded when you save or open them)" if is_placeholder(a) and not a.filename
                else f"\U0001F4CE {html.escape(safe_attachment_name(a.filename))} ({_human_size(a.size)})"
                + (" — downloaded when you save or open it" if is_placeholder(a) else "")
                for a in message.attachments
            ]
            self.attachments.setText("<br>".join(lines))
            self.attachments.show()
            self._fill_attachment_actions(message)
        else:
            self.attachments.hide()
            self.attachment_actions.hide()

    def _fill_attachment_actions(self, message: Message) -> None:
        while self._attachment_layout.count():
            item = self._attachment_layout.takeAt(0)
            assert item is not None  # count() said there is one
            widget = item.widget()
            if widget is not None:
                widget.deleteLater()
        for index, a in enumerate(message.attachments):
            name = "attachments" if is_placeholder(a) and not a.filename else safe_filename(a.filename)
            short = name if len(name) <= 32 else f"{name[:20]}…{name[-10:]}"
            save = QPushButton(f"Save {short}…", self.attachment_actions)
            save.setAccessibleName(f"Save attachment {name}")
            save.clicked.connect(lambda _checked=False, index=index: self.save_attachment(index))
            open_button = QPushButton(f"Open {short}", self.attachment_actions)
            save.setToolTip(name)
            open_button.setToolTip(name)
            open_button.setAccessibleName(f"Open attachment {name}")
            open_button.clicked.connect(lambda _checked=False, index=index: self.open_attachment(index))
            self._attachment_layout.addWidget(save)
            self._attachment_layout.addWidget(open_button)
        self._attachment_layout.addStretch(1)
        self.attachment_actions.show()

    def save_attachment(self, index: int) -> None:
        """Ask where (the safe name suggested in the Downloads folder; the dialog asks before replacing a file)."""
        message, principal = self._message, self._principal
        if message is None or principal is None or not 0 <= index < len(message.attachments):
            return
        attachment = message.attachments[index]
        if is_placeholder(attachment):
            self._download_then(message, index, self.save_attachment)
            return
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DownloadLocation) or str(Path.home())
        suggested = attachment_target(Path(folder), attachment.filename)
        path, _ = QFileDialog.getSaveFileName(self, "Save attachment", str(suggested))
        if not path:
            return
        principal_id, message_id = principal.id, message.id
        assert principal_id is not None and message_id is not None  # both read from the store
        self._tasks.run(lambda store: write_attachment(store, principal_id, message_id, attachment, Path(path),
                                                       overwrite=True),
                        on_done=lambda written: self.attachment_saved.emit(str(written)),
                        on_error=lambda error: self.attachment_failed.emit(describe_error(error)))

    def open_attachment(self, index: int) -> None:
        """Write it into a private folder of this session (never over another file) and open it."""
        message, principal = self._message, self._principal
        if message is None or principal is None or not 0 <= index < len(message.attachments):
            return
        attachment = message.attachments[index]
        if is_placeholder(attachment):
            self._download_then(message, index, self.open_attachment)
            return
        principal_id, message_id = principal.id, message.id
        assert principal_id is not None and message_id is not None  # both read from the store
        folder = open_folder()

        def write(store) -> Path:
            return write_attachment(store, principal_id, message_id, attachment, unique_target(folder, attachment.filename))

        def opened(path: Path) -> None:
            self.attachment_saved.emit(str(path))
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

        self._tasks.run(write, on_done=opened, on_error=lambda error: self.attachment_failed.emit(describe_error(error)))

    def _download_then(self, message: Message, index: int, then) -> None:
        """Fetch the message's source on the network pool (never the GUI thread nor the store worker), show its real
        attachments, then ``then`` on the one the user clicked (a named placeholder), or on the only one; when a
        nameless placeholder stood for several the user picks among them."""
        assert self._principal is not None  # the callers return early without one
        principal_id, message_id = self._principal.id, message.id
        assert principal_id is not None and message_id is not None  # both read from the store
        placeholders = list(message.attachments)
        self.attachment_status.setText("Downloading…")
        self.attachment_status.show()
        for button in self.attachment_actions.findChildren(QPushButton):
            button.setEnabled(False)

        def arrived(attachments: list[Attachment]) -> None:
            message.attachments = attachments
            self.messages.message_changed(message)
            if self._message is not message:
                return
            self._show_attachments(message)
            chosen = downloaded_match(placeholders[index], index, placeholders, attachments)
            if chosen is not None:
                self.attachment_status.hide()
                then(chosen)
            else:
                self.attachment_status.setText(f"{len(attachments)} attachments downloaded: choose one." if attachments
                                               else "The downloaded message has no attachments to save.")

        def failed(error: BaseException) -> None:
            line = describe_error(error)
            if self._message is message:
                self.attachment_status.setText(line)
                self.attachment_status.show()
                for button in self.attachment_actions.findChildren(QPushButton):
                    button.setEnabled(True)
            self.attachment_failed.emit(line)

        self._tasks.run_network(lambda store: download_attachments(store, principal_id, message_id),
                                on_done=arrived, on_error=failed)

    def _abort_remote_fetches(self) -> None:
        replies, self._replies = self._replies, []
        for reply in replies:
            reply.abort()
