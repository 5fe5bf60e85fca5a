"""Plain HTTP to Microsoft Graph for one mailbox, with Outlook's throttling rules applied on our side.

Outlook allows 4 concurrent requests per mailbox and answers 429 with a ``Retry-After`` in seconds (fractions occur:
``2.128``). A 429 pauses the *mailbox*: every thread working on it waits until the pause ends, not only the one that got
the answer. 503/504 are retried with backoff; a 401 gets one token refresh, then "needs sign-in".
"""
from __future__ import annotations

import logging
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
            return max(0.0, float(value))
        except ValueError:
            pass
    return float(min(2 ** (attempt - 1), 32))


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
        max_concurrency: int = 4,
        on_request: Callable[[], None] = lambda: None,
        mailbox: str = "/me",
    ):
        self.root = root.rstrip("/")
        self.root_path = urlsplit(self.root).path
        self.mailbox = mailbox
        self._token = token
        self._sleep = sleep
        self._on_request = on_request
        self.session = requests.Session()
        self.slots = threading.BoundedSemaphore(max_concurrency)
        self._pause_lock = threading.Lock()
        self._paused_until = 0.0
        self._access_token: str | None = None

    # -- throttling ----------------------------------------------------------------------------------------------
    def pause(self, seconds: float) -> None:
        """Hold the whole mailbox for ``seconds`` (the calling thread sleeps it; others wait for what is left)."""
        with self._pause_lock:
            deadline = time.monotonic() + seconds
            self._paused_until = max(self._paused_until, deadline)
        self._sleep(seconds)
        with self._pause_lock:
            if self._paused_until <= deadline:  # nobody extended it meanwhile: the pause is over
                self._paused_until = 0.0

    def _wait_if_paused(self) -> None:
        with self._pause_lock:
            remaining = self._paused_until - time.monotonic()
        if remaining > 0:
            self._sleep(remaining)

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
            self._wait_if_paused()
            try:
                with self.slots:
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
                if attempt >= MAX_ATTEMPTS:
                    raise TransientError(f"Microsoft Graph is busy (HTTP {status})", retry_after=wait)
                log.info("Graph %s on %s %s: waiting %.3fs", status, method, url, wait)
                self.pause(wait)
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
        """Run sub-requests ({"id", "method", "url", "body"?}) in ``$batch`` calls of ≤ 20; items answered 429/503/504
        are retried after the mailbox pause. Returns the final response per id ({"status", "headers", "body"})."""
        pending = {r["id"]: r for r in requests_}
        done: dict[str, dict[str, Any]] = {}
        attempt = 0
        while pending:
            attempt += 1
            retry: dict[str, dict[str, Any]] = {}
            wait = 0.0
            items = list(pending.values())
            for start in range(0, len(items), BATCH_LIMIT):
                chunk = items[start:start + BATCH_LIMIT]
                payload = {"requests": [self._batch_item(r, prefer) for r in chunk]}
                body = self.request("POST", "/$batch", json_body=payload, prefer=prefer)
                for response in body.get("responses", []):
                    status = response.get("status", 0)
                    if status in RETRYABLE and attempt < MAX_ATTEMPTS:
                        retry[response["id"]] = pending[response["id"]]
                        wait = max(wait, _retry_after(_case_insensitive(response.get("headers")), attempt))
                    else:
                        done[response["id"]] = response
            pending = retry
            if pending:
                self.pause(wait)
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
