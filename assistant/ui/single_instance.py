"""One app per workspace: the first ``assistant`` on a workspace holds its lock and listens on a local socket; a
second one (another launch, a ``mailto:`` click, the login autostart) hands its request over and exits, and the first
window comes forward.

The guard is ``QLockFile`` in the workspace folder (``app.lock``): only its holder opens the window, so two apps never
write one workspace. A lock left by a crashed app is stale (its process is gone) and is taken over; so is the
socket file the crash left (``QLocalServer.removeServer`` before listening). The socket's name is derived from the
user and the workspace's resolved path, so two users, or one user's two workspaces, never meet; it is made
user-only (``UserAccessOption``).

The request is one JSON line: ``{"show": true|false, "mailto": "mailto:…" | null}``; the answer ``ok``.
"""
from __future__ import annotations

import getpass
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from assistant.core.errors import UserError

LOCK_NAME = "app.lock"
MAX_REQUEST = 128 * 1024
HAND_OVER_TIMEOUT_S = 10.0


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        import os

        return str(os.getuid()) if hasattr(os, "getuid") else "user"


def server_name(workspace_dir: Path) -> str:
    digest = hashlib.sha256(f"{_user()}\0{Path(workspace_dir).resolve()}".encode()).hexdigest()[:24]
    return f"assistant-{digest}"


class AlreadyRunningNotAnswering(UserError):
    pass


class SingleInstance(QObject):
    """``acquire()`` → True: this process owns the workspace and listens; False: another does (call
    :func:`hand_over`)."""

    request_received = Signal(dict)

    def __init__(self, workspace_dir: Path, parent: QObject | None = None):
        super().__init__(parent)
        self.workspace_dir = Path(workspace_dir)
        self.name = server_name(self.workspace_dir)
        self.lock: QLockFile | None = None
        self.server: QLocalServer | None = None
        self._buffers: dict[QLocalSocket, bytes] = {}

    def acquire(self) -> bool:
        self.workspace_dir.mkdir(parents=True, exist_ok=True)
        lock = QLockFile(str(self.workspace_dir / LOCK_NAME))
        lock.setStaleLockTime(0)  # stale only when its process is gone, never by age: an app runs for weeks
        if not lock.tryLock(0):
            return False
        self.lock = lock
        QLocalServer.removeServer(self.name)  # a socket file a crashed app left behind
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            lock.unlock()
            self.lock = None
            raise UserError(f"cannot listen for other launches of Assistant: {server.errorString()}")
        server.newConnection.connect(self._on_connection)
        self.server = server
        return True

    def release(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        if self.lock is not None:
            self.lock.unlock()
            self.lock = None

    def _on_connection(self) -> None:
        assert self.server is not None
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            self._buffers[socket] = b""
            socket.readyRead.connect(lambda s=socket: self._on_ready_read(s))
            socket.disconnected.connect(lambda s=socket: self._forget(s))
            if socket.bytesAvailable():
                self._on_ready_read(socket)

    def _on_ready_read(self, socket: QLocalSocket) -> None:
        if socket not in self._buffers:
            return
        data = self._buffers[socket] + bytes(socket.readAll().data())
        if len(data) > MAX_REQUEST:
            socket.abort()
            self._forget(socket)
            return
        if b"\n" not in data:
            self._buffers[socket] = data
            return
        line = data.split(b"\n", 1)[0]
        self._buffers.pop(socket, None)
        try:
            request = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            request = None
        if not isinstance(request, dict):
            socket.write(b"bad request\n")
        else:
            socket.write(b"ok\n")
        socket.flush()
        socket.disconnectFromServer()
        if isinstance(request, dict):
            self.request_received.emit(request)

    def _forget(self, socket: QLocalSocket) -> None:
        self._buffers.pop(socket, None)
        socket.deleteLater()


def in_use(workspace_dir: Path) -> bool:
    """Whether an app holds ``workspace_dir`` now (a stale lock does not count)."""
    if not (Path(workspace_dir) / LOCK_NAME).exists():
        return False
    lock = QLockFile(str(Path(workspace_dir) / LOCK_NAME))
    lock.setStaleLockTime(0)
    if lock.tryLock(0):
        lock.unlock()
        return False
    return True


def hand_over(workspace_dir: Path, request: dict[str, Any], timeout_s: float = HAND_OVER_TIMEOUT_S) -> bool:
    """Give ``request`` to the app that owns ``workspace_dir``; True once it said ``ok``. Retries while that app may
    still be starting (it holds the lock a moment before it listens)."""
    name = server_name(workspace_dir)
    payload = json.dumps(request).encode("utf-8") + b"\n"
    deadline = time.monotonic() + timeout_s
    while True:
        socket = QLocalSocket()
        socket.connectToServer(name)
        if socket.waitForConnected(1000):
            socket.write(payload)
            socket.flush()
            answer = b""
            while b"\n" not in answer and socket.waitForReadyRead(max(100, int((deadline - time.monotonic()) * 1000))):
                answer += bytes(socket.readAll().data())
            answer += bytes(socket.readAll().data())
            socket.abort()
            if answer.startswith(b"ok"):
                return True
        else:
            socket.abort()
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)
