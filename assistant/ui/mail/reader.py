"""The reader: a thread's messages, HTML sanitised with nh3 and shown without scripts or remote content.

Remote images (tracking pixels) stay blocked until the user allows them for one message; then they are fetched
asynchronously with ``QNetworkAccessManager`` (never on the GUI thread's time) and added to the document.
"""
from __future__ import annotations

import base64
import html
import re
import unicodedata
import urllib.parse
from pathlib import Path

import nh3
from PySide6.QtCore import (
    QAbstractListModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    QStandardPaths,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFont,
    QFontMetrics,
    QImage,
    QPainter,
    QPalette,
    QPixmap,
    QTextDocument,
)
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from assistant.approvals.replies import quoted_history_start, quoted_history_start_html
from assistant.core import private_files, timezones
from assistant.core.errors import InvalidInput, NotFound
from assistant.domain import Attachment, Message, Principal, Thread
from assistant.mail.mime import attachment_bytes, safe_filename
from assistant.store import Store
from assistant.store import mail as mail_store
from assistant.sync.fetch import downloaded_match, fetch_message_source, is_placeholder
from assistant.ui import style
from assistant.ui.widgets.flow import FlowLayout
from assistant.ui.widgets.identity import principal_chip
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


def open_folder() -> Path:
    """A folder readable by the user alone, for attachments opened in this session: in the private folder, emptied
    when the app quits (``core.private_files``)."""
    return private_files.subfolder("attachments")


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

    @property
    def zone(self) -> str:
        return self._zone

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
        if role == Qt.ItemDataRole.AccessibleTextRole:
            state = "" if m.is_read else "Unread. "
            return f"{state}{self.data(index)}. {m.snippet}"
        return None

    def message_at(self, row: int) -> Message | None:
        return self._messages[row] if 0 <= row < len(self._messages) else None

    def row_of(self, message_id: int) -> int | None:
        return next((row for row, m in enumerate(self._messages) if m.id == message_id), None)

    def message_changed(self, message: Message) -> None:
        for row, m in enumerate(self._messages):
            if m is message:
                index = self.index(row)
                self.dataChanged.emit(index, index)


class MessageLineDelegate(QStyledItemDelegate):
    """A message of the conversation collapsed to one line: sender (bold while unread), its first words in grey, a
    clip when it has attachments, the date in the principal's zone on the right."""

    PAD = 5

    def __init__(self, model: ThreadMessagesModel, parent=None):
        super().__init__(parent)
        self._model = model

    @classmethod
    def line_height(cls, metrics: QFontMetrics) -> int:
        return metrics.height() + 2 * cls.PAD

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        return QSize(200, self.line_height(option.fontMetrics))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        message = self._model.message_at(index.row())
        if message is None:
            return
        widget, palette, state = option.widget, option.palette, option.state
        qstyle = widget.style() if widget is not None else QApplication.style()
        qstyle.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, widget)
        selected = bool(state & QStyle.StateFlag.State_Selected)
        ink = palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        dim = palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.PlaceholderText)
        font = QFont(option.font)
        strong = QFont(font)
        strong.setBold(not message.is_read)
        fm, sfm = QFontMetrics(font), QFontMetrics(strong)
        rect = option.rect.adjusted(self.PAD + 2, 0, -self.PAD, 0)
        middle = Qt.AlignmentFlag.AlignVCenter
        when = f"{timezones.in_zone(message.date_utc, self._model.zone):%a %d %b %H:%M}" if message.date_utc else ""
        painter.save()
        painter.setFont(font)
        painter.setPen(dim)
        date_width = fm.horizontalAdvance(when)
        painter.drawText(QRect(rect.right() - date_width, rect.top(), date_width, rect.height()),
                         Qt.AlignmentFlag.AlignRight | middle, when)
        right = rect.right() - date_width - 8
        if message.attachments:
            size = 14
            right -= size
            style.tinted_icon("attachment", dim).paint(painter, QRect(right, rect.center().y() - size // 2, size, size))
            right -= 6
        sender = (message.sender.name or message.sender.email) if message.sender else "(unknown sender)"
        room = right - rect.left()
        name = sfm.elidedText(sender, Qt.TextElideMode.ElideRight, min(room, max(room // 2, 160)))
        painter.setFont(strong)
        painter.setPen(ink)
        painter.drawText(QRect(rect.left(), rect.top(), room, rect.height()), Qt.AlignmentFlag.AlignLeft | middle, name)
        used = sfm.horizontalAdvance(name) + fm.horizontalAdvance("   ")
        if message.snippet and room - used > 4 * fm.averageCharWidth():
            painter.setFont(font)
            painter.setPen(dim)
            painter.drawText(QRect(rect.left() + used, rect.top(), room - used, rect.height()),
                             Qt.AlignmentFlag.AlignLeft | middle,
                             fm.elidedText(message.snippet, Qt.TextElideMode.ElideRight, room - used))
        painter.restore()


class RemoteContentBar(QFrame):
    """"Remote images blocked" and the two ways to load them; its buttons wrap below when the reader is narrow, so
    showing it never makes the reader wider (the panes beside it would jump)."""

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
        layout = FlowLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.label)
        layout.addWidget(self.button)
        layout.addWidget(self.always_button)
        policy = self.sizePolicy()
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)


def _attachment_line(a: Attachment) -> str:
    if is_placeholder(a) and not a.filename:
        return "\U0001F4CE Attachments (downloaded when you save or open them)"
    return (f"\U0001F4CE {html.escape(safe_attachment_name(a.filename))} ({_human_size(a.size)})"
            + (" — downloaded when you save or open it" if is_placeholder(a) else ""))


class Reader(QWidget):
    """One thread as a conversation: its subject, then its messages oldest to newest, each collapsed to one line
    (:class:`MessageLineDelegate`) but the open one, shown in full in place, its quoted history folded behind
    *Show quoted text*. The open message is the first unread one, else the newest; a click on a line opens it.

    Reading marks read: the open message shown for :attr:`MARK_READ_AFTER_MS` while the user is reading the thread
    (they picked it, or clicked, scrolled or typed in it) marks the whole thread read through the outbox, its collapsed
    messages too, as Gmail and Outlook do (:attr:`thread_marked_read` says which, for the undo). A thread the app put here
    by itself (:meth:`show_thread` with ``reading=False``) is not, nor is one whose read state the user has just set
    (:meth:`keep_read_state`): nothing flips it back while it stays open.
    """

    message_shown = Signal(int)  # message id, once its body is in the browser
    message_marked_read = Signal(int, int)  # thread id, message id: the read flag is stored and queued for the server
    thread_marked_read = Signal(object, object, list)  # Principal, Thread, the ids of the messages it marked read
    attachment_saved = Signal(str)  # the path written
    attachment_failed = Signal(str)  # one line for the user

    MARK_READ_AFTER_MS = 1000  # shown this long counts as read; skimming past with j/k does not
    EARLIER_LINES, LATER_LINES = 4, 3  # collapsed lines in view above and below the open message; more scroll

    def __init__(self, tasks: TaskManager, parent=None):
        super().__init__(parent)
        self.setObjectName("reader")
        self._tasks = tasks
        self._request = 0
        self._principal: Principal | None = None
        self._thread: Thread | None = None
        self._message: Message | None = None
        self._reading = True  # the user chose what is shown: the open message counts as read after a moment
        self._kept_thread: int | None = None  # the user set this thread's read state: left as they set it
        self._show_owner = False  # name the thread's principal above it (the All-principals list)
        self._show_quoted = False
        self._images_loaded = False  # for the open message: shown again (quoted text unfolded) they load again
        self.open_row = -1
        self._network: QNetworkAccessManager | None = None
        self._replies: list[QNetworkReply] = []
        self.remote_urls: list[str] = []
        self._mark_read_timer = QTimer(self)
        self._mark_read_timer.setSingleShot(True)
        self._mark_read_timer.setInterval(self.MARK_READ_AFTER_MS)
        self._mark_read_timer.timeout.connect(self.on_mark_read_due)

        self.owner = QWidget(self)  # whose thread this is: their chip and name (the All-principals list)
        self.owner.setObjectName("reader-owner")
        self.owner_chip = QLabel(self.owner)
        self.owner_name = QLabel(self.owner)
        self.owner_name.setTextFormat(Qt.TextFormat.RichText)
        owner_layout = QHBoxLayout(self.owner)
        owner_layout.setContentsMargins(0, 0, 0, 0)
        owner_layout.addWidget(self.owner_chip)
        owner_layout.addWidget(self.owner_name, 1)

        self.subject = QLabel(self)
        self.subject.setObjectName("reader-subject")
        self.subject.setWordWrap(True)
        self.subject.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.subject.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.subject.setFont(font)

        self.messages = ThreadMessagesModel(self)
        self.message_list = self._line_list("Earlier messages in this thread")
        self.later_list = self._line_list("Later messages in this thread")
        self.later_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keys act from the earlier list and the body

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
        self.browser.installEventFilter(self)
        self.browser.viewport().installEventFilter(self)

        self.quoted_button = QPushButton("Show quoted text", self)
        self.quoted_button.setObjectName("reader-quoted")
        self.quoted_button.setFlat(True)
        self.quoted_button.setToolTip("The earlier messages this one quotes")
        self.quoted_button.clicked.connect(self.on_quoted_toggled)
        self.quoted_button.hide()

        self.attachments = QLabel(self)
        self.attachments.setObjectName("reader-attachments")
        self.attachments.setWordWrap(True)
        self.attachments.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.attachments.hide()
        self.attachment_actions = QWidget(self)
        self.attachment_actions.setObjectName("reader-attachment-actions")
        self._attachment_layout = FlowLayout(self.attachment_actions)
        self._attachment_layout.setContentsMargins(0, 0, 0, 0)
        policy = self.attachment_actions.sizePolicy()
        policy.setHeightForWidth(True)
        self.attachment_actions.setSizePolicy(policy)
        self.attachment_actions.hide()
        self.attachment_status = QLabel(self)  # "Downloading…", or why it could not be
        self.attachment_status.setObjectName("reader-attachment-status")
        self.attachment_status.setWordWrap(True)
        self.attachment_status.hide()
        self.allowed_senders: set[str] = set()  # senders whose remote images this principal always loads

        self.placeholder = QLabel("Select a thread to read it.", self)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.owner)
        layout.addWidget(self.subject)
        layout.addWidget(self.message_list)
        layout.addWidget(self.header)
        layout.addWidget(self.remote_bar)
        layout.addWidget(self.browser, 1)
        layout.addWidget(self.quoted_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.attachments)
        layout.addWidget(self.attachment_actions)
        layout.addWidget(self.attachment_status)
        layout.addWidget(self.later_list)
        layout.addWidget(self.placeholder, 1)
        self.clear()

    def _line_list(self, name: str) -> QListView:
        view = QListView(self)
        view.setModel(self.messages)
        view.setItemDelegate(MessageLineDelegate(self.messages, view))
        view.setAccessibleName(name)
        view.setUniformItemSizes(True)
        view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        view.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        view.clicked.connect(lambda index: self.open_message_at(index.row()))
        view.activated.connect(lambda index: self.open_message_at(index.row()))
        return view

    # -- thread --------------------------------------------------------------------------------------------------
    @property
    def thread_id(self) -> int | None:
        """The thread shown (or on its way), None when the reader is empty."""
        return self._thread.id if self._thread is not None else None

    @property
    def message_id(self) -> int | None:
        """The message open in the browser (the one ``message_shown`` last named), None when none is."""
        return self._message.id if self._message is not None and self._message.id else None

    def clear(self) -> None:
        self._request += 1  # results still on their way are for a thread no longer shown
        self._mark_read_timer.stop()
        self._abort_remote_fetches()
        self._message = None
        self._thread = None
        self.open_row = -1
        self.messages.set_messages([], "UTC")
        for w in (self.owner, self.subject, self.message_list, self.later_list, self.header, self.remote_bar,
                  self.browser, self.quoted_button, self.attachments, self.attachment_actions, self.attachment_status):
            w.hide()
        self.browser.clear()
        self.placeholder.show()

    def show_owner(self, on: bool) -> None:
        """Name each thread's principal above it (their colour chip and name): on for the All-principals list."""
        self._show_owner = on
        if not on:
            self.owner.hide()

    @property
    def principal(self) -> Principal | None:
        """Whose thread is shown (or on its way): what the reader reads, marks and answers as."""
        return self._principal if self._thread is not None else None

    def show_thread(self, principal: Principal, thread: Thread, *, reading: bool = True) -> None:
        """Load and show ``thread``. ``reading``: the user chose it (its open message is marked read after a moment);
        False when the app chose it (the top thread after switching principal): shown, left unread until the user
        acts in it (:meth:`start_reading`)."""
        self._reading = reading
        self._kept_thread = None
        self._load(principal, thread, keep_open=None)

    def refresh_thread(self, thread: Thread) -> None:
        """The thread shown, read again (a sync or an action changed it): the same message stays open and nothing
        about its read state changes."""
        if self._principal is None or self._thread is None or thread.id != self._thread.id:
            return
        self._load(self._principal, thread, keep_open=self._message.id if self._message else None)

    def _load(self, principal: Principal, thread: Thread, keep_open: int | None) -> None:
        self._request += 1
        request, principal_id, thread_id = self._request, principal.id, thread.id
        assert principal_id is not None and thread_id is not None  # both read from the store
        self._principal, self._thread = principal, thread
        self._tasks.run(lambda store: allowed_remote_senders(store, principal_id, thread_id),
                        on_done=lambda senders: self._on_allowed_senders(request, senders))
        self._tasks.run(
            lambda store: mail_store.thread_messages(store.scope(principal_id), thread_id),
            on_done=lambda messages: self._on_thread_loaded(request, thread, messages, keep_open),
        )

    def _on_thread_loaded(self, request: int, thread: Thread, messages: list[Message],
                          keep_open: int | None = None) -> None:
        if request != self._request or self._principal is None:
            return
        self.placeholder.hide()
        principal = self._principal
        if self._show_owner:
            self.owner_chip.setPixmap(principal_chip(principal.colour).pixmap(14) if QColor.isValidColorName(
                principal.colour) else QPixmap())
            self.owner_name.setText(f"<b>{html.escape(principal.name)}</b>")
            self.owner.setToolTip(f"{principal.name}'s mail: read, answered and changed as {principal.name}")
            self.owner.setAccessibleName(f"{principal.name}'s mail")
            self.owner.show()
        self.subject.setText(thread.subject or "(no subject)")
        self.subject.show()
        self.messages.set_messages(messages, self._principal.timezone)
        if not messages:
            self._open_row(-1)
            return
        kept = self.messages.row_of(keep_open) if keep_open is not None else None
        unread = [i for i, m in enumerate(messages) if not m.is_read]
        row = kept if kept is not None else unread[0] if unread else len(messages) - 1
        self._open_row(row, same_message=kept is not None)

    def open_message_at(self, row: int) -> None:
        """The user opens another message of the thread (a click on its line): it is read, whatever came before."""
        if not 0 <= row < self.messages.rowCount():
            return
        self._reading, self._kept_thread = True, None
        self._open_row(row)

    def _open_row(self, row: int, *, same_message: bool = False) -> None:
        """Lay the conversation out around the open ``row``: the messages before it as lines above the body, those
        after it as lines below."""
        self.open_row = row
        count = self.messages.rowCount()
        for r in range(count):
            self.message_list.setRowHidden(r, r >= row)
            self.later_list.setRowHidden(r, r <= row)
        self._fit_lines(self.message_list, row if row > 0 else 0, self.EARLIER_LINES)
        self._fit_lines(self.later_list, count - row - 1 if row >= 0 else 0, self.LATER_LINES)
        if row > 0:
            self.message_list.scrollTo(self.messages.index(row - 1))
        message = self.messages.message_at(row)
        if message is not None:
            self._show(message, same_message=same_message)
        else:
            self._message = None
            for w in (self.header, self.remote_bar, self.browser, self.quoted_button, self.attachments,
                      self.attachment_actions, self.attachment_status):
                w.hide()

    @staticmethod
    def _fit_lines(view: QListView, lines: int, most: int) -> None:
        if lines <= 0:
            view.hide()
            return
        height = MessageLineDelegate.line_height(view.fontMetrics())
        view.setFixedHeight(height * min(lines, most) + 2 * view.frameWidth())
        view.show()

    # -- reading -------------------------------------------------------------------------------------------------
    def start_reading(self) -> None:
        """The user is reading what is shown (clicked it, scrolled, typed in it): its open message will count as read,
        unless they have just set this thread's read state themselves."""
        if self._thread is not None and self._kept_thread == self._thread.id:
            return
        self._reading = True
        self._arm_mark_read()

    def keep_read_state(self, thread_ids: set[int]) -> None:
        """The user marked these threads read or unread: if the open one is among them, leave it as they set it."""
        if self._thread is not None and self._thread.id in thread_ids:
            self._kept_thread = self._thread.id
            self._mark_read_timer.stop()

    def _arm_mark_read(self) -> None:
        m = self._message
        if (m is not None and m.id and not m.is_read and self._principal is not None and self._reading
                and (self._thread is None or self._kept_thread != self._thread.id)):
            if not self._mark_read_timer.isActive():
                self._mark_read_timer.start()
        else:
            self._mark_read_timer.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.MouseButtonPress, QEvent.Type.Wheel, QEvent.Type.KeyPress) \
                and self._message is not None:
            self.start_reading()
        return False

    # -- message -------------------------------------------------------------------------------------------------
    def show_message(self, message: Message, zone: str | None = None) -> None:
        """Show ``message`` as the open one (on its own when it is not of the thread shown)."""
        self._show(message, zone=zone)

    def _show(self, message: Message, zone: str | None = None, *, same_message: bool = False) -> None:
        self._abort_remote_fetches()
        if not same_message:
            self._show_quoted, self._images_loaded = False, False
        self._message = message
        zone = zone or (self._principal.timezone if self._principal else "UTC")
        self.placeholder.hide()
        self.header.setText(self._header_html(message, zone))
        self.header.show()
        self._render_body()
        self.browser.show()
        self.attachment_status.hide()
        self._show_attachments(message)
        sender = message.sender.email.lower() if message.sender else ""
        self.remote_bar.always_button.setEnabled(bool(sender))
        if self.remote_urls and (self._images_loaded or (sender and sender in self.allowed_senders)):
            self.on_load_remote_requested()
        if message.id:
            self.message_shown.emit(message.id)
        if same_message and self._mark_read_timer.isActive():
            return  # the same message, still being read: the wait goes on
        self._mark_read_timer.stop()
        self._arm_mark_read()

    def _render_body(self) -> None:
        message = self._message
        if message is None:
            return
        self.browser.blocked_requests.clear()
        self.browser.document().clear()
        if message.body_html.strip():
            fold = quoted_history_start_html(message.body_html)
            source = message.body_html[:fold] if fold >= 0 and not self._show_quoted else message.body_html
            clean = sanitise_html(source)
            self.remote_urls = remote_image_urls(clean)
            self.browser.setHtml(clean)
        else:
            text = message.body_text or message.snippet or "(this message has no text)"
            fold = quoted_history_start(text)
            self.remote_urls = []
            self.browser.setPlainText(text[:fold].rstrip() if fold >= 0 and not self._show_quoted else text)
        self.quoted_button.setText("Hide quoted text" if self._show_quoted else "Show quoted text")
        self.quoted_button.setAccessibleName(self.quoted_button.text())
        self.quoted_button.setVisible(fold >= 0)
        self.remote_bar.label.setText(
            f"Remote images blocked ({len(self.remote_urls)})" if len(self.remote_urls) > 1 else "Remote images blocked"
        )
        self.remote_bar.button.setEnabled(True)
        self.remote_bar.setVisible(bool(self.remote_urls))

    def on_quoted_toggled(self) -> None:
        self._show_quoted = not self._show_quoted
        self._abort_remote_fetches()
        self._render_body()
        if self.remote_urls and self._images_loaded:
            self.on_load_remote_requested()
        self.start_reading()

    def on_mark_read_due(self) -> None:
        message, principal = self._message, self._principal
        if message is None or principal is None or message.is_read or not message.id or not self._reading \
                or (self._thread is not None and self._kept_thread == self._thread.id):
            return
        principal_id, thread = principal.id, self._thread
        assert principal_id is not None  # principals come from the store
        unread = [m for m in map(self.messages.message_at, range(self.messages.rowCount()))
                  if m is not None and m.id and not m.is_read]
        if message not in unread:
            unread.append(message)  # shown on its own (not of the thread listed)
        message_ids = [m.id for m in unread]

        def mark(store: Store) -> list[int]:
            from assistant.sync.actions import mark_read

            with store.transaction():  # the whole thread, or none of it
                return [mark_read(store, message_id, principal_id).id for message_id in message_ids]

        self._tasks.run(mark, on_done=lambda _entries: self._on_marked_read(principal, thread, unread))

    def _on_marked_read(self, principal: Principal, thread: Thread | None, messages: list[Message]) -> None:
        for message in messages:
            message.is_read = True
            self.messages.message_changed(message)
            self.message_marked_read.emit(message.thread_id or 0, message.id)
        if thread is not None:
            self.thread_marked_read.emit(principal, thread, [m.id for m in messages])

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
        self._images_loaded = True
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
            self.attachments.setText("<br>".join(_attachment_line(a) for a in message.attachments))
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
        path, _ = QFileDialog.getSaveFileName(self, f"Save attachment — {principal.name}", str(suggested))
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
