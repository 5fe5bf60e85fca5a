"""Plain HTTP to Microsoft Graph for one mailbox, with Outlook's throttling rules applied on our side.

Outlook allows 4 concurrent requests per mailbox and answers 429 with a ``Retry-After`` in seconds (fractions occur:
``2.128``). A 429 holds the *mailbox*: no request of any thread working on it leaves before the ``Retry-After`` has
passed, not only the one that got the answer (:class:`MailboxHold`). A hold longer than one pass should wait ends the
pass as a :class:`TransientError` carrying it. 503/504 are retried with backoff; a 401 gets one token refresh, then
"needs sign-in".
"""
from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.structures

from assistant.core.errors import NeedsSignIn, PermanentError, TransientError

log = logging.getLogger(__name__)

RETRYABLE = {429, 503, 504}
MAX_ATTEMPTS = 6
BATCH_LIMIT = 20
TIMEOUT = (10, 60)
MAX_WAIT_S = 60.0  # the longest hold a pass (or an outbox entry) waits out; beyond it, it gives up and backs off
MAX_RETRY_AFTER_S = 86400.0  # what a server may ask at most: a day, however absurd the header


class GraphError(PermanentError):
    def __init__(self, message: str, status: int, code: str = ""):
        super().__init__(message)
        self.status = status
        self.code = code


class SyncStateNotFound(Exception):
    """A delta token the server no longer knows (410): the caller falls back to a full listing."""


def _retry_after(headers: Any, attempt: int) -> float:
    value = headers.get("Retry-After") if headers else None
    if value is not None:
        try:
            seconds = float(value)
        except ValueError:
            seconds = math.nan
        if not math.isnan(seconds):
            return min(max(0.0, seconds), MAX_RETRY_AFTER_S)
    return float(min(2 ** (attempt - 1), 32))


def _how_long(seconds: float) -> str:
    if seconds >= 5400:
        return f"{seconds / 3600:.0f} h"
    if seconds >= 90:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


class MailboxHold:
    """The mailbox's "not before" time, shared by every thread working on it: Microsoft asks that after a 429 *all*
    requests to the mailbox wait until its ``Retry-After`` has passed. ``extend`` moves it later (never earlier);
    ``wait`` blocks until it has passed, or raises :class:`TransientError` when what is left exceeds ``max_wait``, so a
    huge ``Retry-After`` ends the pass (the sync and the outbox back off that long) instead of stalling it."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 max_wait: float = MAX_WAIT_S):
        self._clock = clock
        self._sleep = sleep
        self.max_wait = max_wait
        self._lock = threading.Lock()
        self._not_before = -math.inf

    def extend(self, seconds: float) -> None:
        with self._lock:
            self._not_before = max(self._not_before, self._clock() + seconds)

    def wait(self) -> None:
        while True:
            with self._lock:
                target = self._not_before
                left = target - self._clock()
            if left <= 0:
                return
            if left > self.max_wait:
                raise TransientError(
                    f"Microsoft Graph asked to wait {_how_long(left)} before the next request to this mailbox",
                    retry_after=left)
            self._sleep(left)
            with self._lock:
                if self._not_before <= target:  # nobody extended it meanwhile: that sleep covered it
                    return


def _error_of(body: Any, status: int) -> tuple[str, str]:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"].get("code", ""), body["error"].get("message", "")
    return "", f"HTTP {status}"


class GraphClient:
    def __init__(
        self,
        root: str,
        token: Callable[[bool], str],
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        max_wait: float = MAX_WAIT_S,
        max_concurrency: int = 4,
        on_request: Callable[[], None] = lambda: None,
        mailbox: str = "/me",
    ):
        self.root = root.rstrip("/")
        self.root_path = urlsplit(self.root).path
        self.mailbox = mailbox
        self._token = token
        self._on_request = on_request
        self.session = requests.Session()
        self.slots = threading.BoundedSemaphore(max_concurrency)
        self.hold = MailboxHold(clock=clock, sleep=sleep, max_wait=max_wait)
        self._access_token: str | None = None

    # -- throttling ----------------------------------------------------------------------------------------------
    def pause(self, seconds: float) -> None:
        """Hold the whole mailbox for ``seconds`` and wait it out (other threads wait for what is left)."""
        self.hold.extend(seconds)
        self.hold.wait()

    def token(self, force_refresh: bool = False) -> str:
        if self._access_token is None or force_refresh:
            self._access_token = self._token(force_refresh)
        return self._access_token

    def refresh_token(self) -> None:
        """``acquire_token_silent`` before each batch of work (msal answers from its cache while the token is fresh)."""
        self._access_token = self._token(False)

    # -- requests -------------------------------------------------------------------------------------------------
    def url(self, path_or_url: str) -> str:
        """Absolute links (nextLink, deltaLink) as given; ``/me/...`` paths pointed at this account's mailbox."""
        if path_or_url.startswith(("https://", "http://")):
            return path_or_url
        if path_or_url.startswith("/me/"):
            path_or_url = self.mailbox + path_or_url[len("/me"):]
        return self.root + path_or_url

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: dict[str, str] | None = None,
        json_body: Any = None,
        prefer: list[str] | None = None,
        raw: bool = False,
    ) -> Any:
        """The decoded JSON answer (``None`` for no content; bytes when ``raw``). Raises GraphError, TransientError,
        NeedsSignIn or SyncStateNotFound."""
        url = self.url(path_or_url)
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            headers = {"Authorization": f"Bearer {self.token()}", "Prefer": ", ".join(['IdType="ImmutableId"', *(prefer or [])])}
            try:
                with self.slots:
                    # Checked with a slot in hand: a thread that queued for one before a 429 arrived still waits.
                    self.hold.wait()
                    self._on_request()
                    response = self.session.request(
                        method, url, params=params, json=json_body, headers=headers, timeout=TIMEOUT
                    )
            except requests.RequestException as exc:
                # A POST whose answer was lost may have happened (a send!): the outbox retries it by idempotency key.
                if method != "GET" or attempt >= 3:
                    raise TransientError(f"cannot reach Microsoft Graph: {' '.join(str(exc).split())}") from exc
                self.pause(float(2**attempt))
                continue
            status = response.status_code
            if status == 401:
                if refreshed:
                    raise NeedsSignIn("Microsoft Graph refused the sign-in twice: sign in to Outlook again")
                refreshed = True
                self.token(force_refresh=True)
                continue
            if status in RETRYABLE:
                wait = _retry_after(response.headers, attempt)
                response.close()
                self.hold.extend(wait)  # every thread on this mailbox waits it out, not only this one
                if attempt >= MAX_ATTEMPTS or wait > self.hold.max_wait:
                    raise TransientError(
                        f"Microsoft Graph is busy (HTTP {status}) for the next {_how_long(wait)}", retry_after=wait)
                log.info("Graph %s on %s %s: waiting %.3fs", status, method, url, wait)
                continue
            if raw and status < 300:
                return response.content
            body = _json(response)
            if status == 410:
                raise SyncStateNotFound(_error_of(body, status)[1])
            if status >= 400:
                code, message = _error_of(body, status)
                if status >= 500:
                    raise TransientError(f"Microsoft Graph failed: {message}")
                raise GraphError(f"Microsoft Graph refused {method} {urlsplit(url).path}: {message}", status, code)
            return body

    def pages(self, path_or_url: str, *, params: dict[str, str] | None = None, prefer: list[str] | None = None,
              ) -> Iterator[tuple[list[dict[str, Any]], str | None, str | None]]:
        """Pages of a delta/list: (items, nextLink, deltaLink); exactly one of the links is set except on plain
        lists' last page."""
        url: str | None = path_or_url
        while url is not None:
            body = self.request("GET", url, params=params, prefer=prefer)
            params = None  # nextLink/deltaLink carry their own query
            next_link, delta_link = body.get("@odata.nextLink"), body.get("@odata.deltaLink")
            yield body.get("value", []), next_link, delta_link
            url = next_link

    def batch(self, requests_: list[dict[str, Any]], *, prefer: list[str] | None = None) -> dict[str, dict[str, Any]]:
        """Run sub-requests ({"id", "method", "url", "body"?}) in ``$batch`` calls of ≤ 20; an item answered
        429/503/504 holds the mailbox at once (the next ``$batch`` of this call waits too) and is retried after it.
        Returns the final response per id ({"status", "headers", "body"})."""
        pending = {r["id"]: r for r in requests_}
        done: dict[str, dict[str, Any]] = {}
        attempt = 0
        while pending:
            attempt += 1
            retry: dict[str, dict[str, Any]] = {}
            items = list(pending.values())
            for start in range(0, len(items), BATCH_LIMIT):
                chunk = items[start:start + BATCH_LIMIT]
                payload = {"requests": [self._batch_item(r, prefer) for r in chunk]}
                body = self.request("POST", "/$batch", json_body=payload, prefer=prefer)
                for response in body.get("responses", []):
                    status = response.get("status", 0)
                    if status in RETRYABLE and attempt < MAX_ATTEMPTS:
                        retry[response["id"]] = pending[response["id"]]
                        self.hold.extend(_retry_after(_case_insensitive(response.get("headers")), attempt))
                    else:
                        done[response["id"]] = response
            pending = retry  # the next request waits for the hold (or gives up when it is too long)
        return done

    def _batch_item(self, r: dict[str, Any], prefer: list[str] | None) -> dict[str, Any]:
        url = r["url"]
        if url.startswith("/me/"):
            url = self.mailbox + url[len("/me"):]
        item = {"id": r["id"], "method": r["method"], "url": url,
                "headers": {"Prefer": ", ".join(['IdType="ImmutableId"', *(prefer or [])])}}
        if r.get("body") is not None:
            item["body"] = r["body"]
            item["headers"]["Content-Type"] = "application/json"
        return item

    def close(self) -> None:
        self.session.close()


def _case_insensitive(headers: dict[str, str] | None) -> requests.structures.CaseInsensitiveDict[str]:
    """Headers of a ``$batch`` item come as a plain JSON object, in whatever case the server chose."""
    return requests.structures.CaseInsensitiveDict(headers or {})


def _json(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return {"error": {"code": "", "message": f"HTTP {response.status_code}, not JSON"}}
