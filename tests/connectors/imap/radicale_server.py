"""A real Radicale (CalDAV/CardDAV) on 127.0.0.1 for the tests: its own configuration, htpasswd file and storage in a
temporary folder, a free port, started as a process and stopped with the test.

``RadicaleServer`` is also "the other side": another client that changes calendars and address books behind the
connector's back over plain HTTP. ``CorruptingProxy`` stands in front of it and serves some objects damaged, as a
server with a broken object in its store does (Radicale itself never serves what it cannot parse).
"""
from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

USER = "principal"
PASSWORD = "correct horse battery staple"
CALENDAR = "work"
ADDRESS_BOOK = "contacts"

_MKCALENDAR = """<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:set><D:prop>
    <D:displayname>{name}</D:displayname>
    <C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>
  </D:prop></D:set>
</C:mkcalendar>"""

_MKADDRESSBOOK = """<?xml version="1.0" encoding="utf-8"?>
<D:mkcol xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav">
  <D:set><D:prop>
    <D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>
    <D:displayname>{name}</D:displayname>
  </D:prop></D:set>
</D:mkcol>"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RadicaleServer:
    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.storage = root / "collections"
        self.url = f"http://127.0.0.1:{self.port}/"
        self.process: subprocess.Popen[bytes] | None = None
        self.http = requests.Session()
        self.http.auth = (USER, PASSWORD)

    # -- life ------------------------------------------------------------------------------------------------------
    def start(self) -> None:
        users = self.root / "users"
        users.write_text(f"{USER}:{PASSWORD}\n", encoding="utf-8")
        config = self.root / "config"
        config.write_text(
            "[server]\n"
            f"hosts = 127.0.0.1:{self.port}\n"
            "[auth]\n"
            "type = htpasswd\n"
            f"htpasswd_filename = {users}\n"
            "htpasswd_encryption = plain\n"
            "delay = 0\n"
            "[rights]\n"
            "type = owner_only\n"
            "[storage]\n"
            f"filesystem_folder = {self.storage}\n"
            "[web]\n"
            "type = none\n"
            "[logging]\n"
            "level = warning\n",
            encoding="utf-8",
        )
        with (self.root / "radicale.log").open("wb") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "radicale", "--config", str(config)],
                                            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("Radicale exited: " + (self.root / "radicale.log").read_text(errors="replace"))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("Radicale did not start listening within 30 s")

    def stop(self) -> None:
        self.http.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    # -- collections -----------------------------------------------------------------------------------------------
    def collection_url(self, name: str) -> str:
        return f"{self.url}{USER}/{name}/"

    def make_calendar(self, name: str = CALENDAR) -> str:
        url = self.collection_url(name)
        answer = self.http.request("MKCALENDAR", url, data=_MKCALENDAR.format(name=name.title()).encode(),
                                   headers={"Content-Type": "application/xml"})
        assert answer.status_code == 201, answer.text
        return url

    def make_address_book(self, name: str = ADDRESS_BOOK) -> str:
        url = self.collection_url(name)
        answer = self.http.request("MKCOL", url, data=_MKADDRESSBOOK.format(name=name.title()).encode(),
                                   headers={"Content-Type": "application/xml"})
        assert answer.status_code == 201, answer.text
        return url

    # -- the other side ----------------------------------------------------------------------------------------------
    def put(self, collection: str, name: str, text: str, content_type: str = "text/calendar") -> str:
        """Another client writes an object; returns its href (path)."""
        url = self.collection_url(collection) + name
        answer = self.http.put(url, data=text.encode("utf-8"), headers={"Content-Type": content_type})
        assert answer.status_code in (201, 204), answer.text
        return url.removeprefix(self.url.rstrip("/"))

    def get(self, href: str) -> tuple[str, str]:
        """(text, ETag) of an object, as the server holds it."""
        answer = self.http.get(self.url.rstrip("/") + href)
        answer.raise_for_status()
        return answer.text, answer.headers["ETag"]

    def delete(self, href: str) -> None:
        answer = self.http.delete(self.url.rstrip("/") + href)
        assert answer.status_code in (200, 204), answer.text

    def names(self, collection: str) -> list[str]:
        """The object files in a collection, as stored."""
        folder = self.storage / "collection-root" / USER / collection
        return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


Rewrite = Callable[[str, bytes, bytes], bytes]  # (method, request body, content) -> content


class CorruptingProxy:
    """Forwards every request to ``upstream`` and replaces ``damage``'s keys by its values in the answers;
    ``requests`` and ``answers`` rewrite a request body or an answer's content on the way (method, request body,
    content)."""

    def __init__(self, upstream: str, damage: dict[bytes, bytes], *, requests_: Rewrite | None = None,
                 answers: Rewrite | None = None):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                asked = body
                if requests_ is not None:
                    body = requests_(self.command, body, b"")
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                answer = requests.request(self.command, upstream.rstrip("/") + self.path, data=body, headers=headers,
                                          timeout=30)
                content = answer.content
                for old, new in proxy.damage.items():
                    content = content.replace(old, new)
                if answers is not None:
                    content = answers(self.command, asked, content)
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in ("content-length", "content-encoding", "transfer-encoding", "connection",
                                           "date", "server"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_PUT = do_DELETE = do_REPORT = do_PROPFIND = do_OPTIONS = _forward

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.damage = damage
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def event_ics(uid: str, summary: str, start: str = "20260310T090000", end: str = "20260310T100000",
              tzid: str = "Europe/Dublin", extra: str = "", stamp: datetime | None = None) -> str:
    """A one-event calendar, times in ``tzid`` with its VTIMEZONE (as real clients send them)."""

    import icalendar

    cal = icalendar.Calendar()
    cal.add("PRODID", "-//Other client//EN")
    cal.add("VERSION", "2.0")
    event = icalendar.Event()
    event.add("UID", uid)
    event.add("DTSTAMP", stamp or datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC")))
    event.add("SUMMARY", summary)
    zone = ZoneInfo(tzid)
    event.add("DTSTART", datetime.strptime(start, "%Y%m%dT%H%M%S").replace(tzinfo=zone))
    event.add("DTEND", datetime.strptime(end, "%Y%m%dT%H%M%S").replace(tzinfo=zone))
    cal.add_component(event)
    cal.add_missing_timezones()
    text = cal.to_ical().decode("utf-8")
    if extra:
        text = text.replace("END:VEVENT", extra.rstrip("\r\n").replace("\n", "\r\n") + "\r\nEND:VEVENT")
    return text


@pytest.fixture
def radicale(tmp_path_factory) -> Iterator[RadicaleServer]:
    server = RadicaleServer(tmp_path_factory.mktemp("radicale"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
