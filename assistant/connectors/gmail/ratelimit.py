"""Staying within Gmail's per-user quota, and backing off when Google says we did not.

Google counts quota in *units* per method (``messages.get`` 5, ``messages.send`` 100, ...), per user, per second and per
minute. :class:`QuotaBudget` spends units before each call so a full sync runs at the quota-bound rate instead of
hammering the server into 429s; :class:`Backoff` is the truncated exponential backoff with jitter Google asks for when a
429, a 403 ``rateLimitExceeded``/``userRateLimitExceeded`` or a 5xx comes back anyway. Both take their clock and sleep
function from the caller, so tests run without sleeping.
"""
from __future__ import annotations

import json
import random
import time
from collections import deque
from collections.abc import Callable

# Units per call, from the Gmail API's quota table (projects created before May 2026; newer ones pay 20 for a get).
UNITS = {
    "messages.list": 5, "messages.get": 5, "messages.modify": 5, "messages.batchModify": 50, "messages.send": 100,
    "messages.trash": 5, "messages.untrash": 5, "messages.delete": 10, "history.list": 2, "labels.list": 1,
    "labels.get": 1, "drafts.create": 10, "drafts.update": 15, "drafts.delete": 10, "drafts.list": 5, "drafts.get": 5,
    "drafts.send": 100, "users.getProfile": 1,
}
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})


def units_for(method_id: str, overrides: dict[str, int] | None = None) -> int:
    """Quota units of one call, by its discovery method id (``gmail.users.messages.get``); Calendar costs no Gmail units."""
    if not method_id.startswith("gmail."):
        return 0
    name = ".".join(method_id.split(".")[-2:])
    if overrides and name in overrides:
        return overrides[name]
    return UNITS.get(name, 5)


def error_reason(content: bytes | str | None) -> str:
    """The first ``errors[].reason`` of a Google error body (or its ``status``); "" when the body is not such JSON."""
    if not content:
        return ""
    try:
        data = json.loads(content)
        error = data["error"]
        if isinstance(error, str):  # OAuth token endpoint style: {"error": "invalid_grant"}
            return error
        errors = error.get("errors") or []
        if errors and isinstance(errors[0], dict) and errors[0].get("reason"):
            return str(errors[0]["reason"])
        return str(error.get("status") or "")
    except (ValueError, TypeError, KeyError, AttributeError, IndexError):
        return ""


def error_message(content: bytes | str | None) -> str:
    if content is None:
        return ""
    try:
        return " ".join(str(json.loads(content)["error"]["message"]).split())
    except (ValueError, TypeError, KeyError, AttributeError):
        return ""


def is_retryable(status: int, content: bytes | str | None) -> bool:
    if status >= 500 or status == 429:
        return True
    return status == 403 and error_reason(content) in RATE_LIMIT_REASONS


class Backoff:
    """Truncated exponential backoff with jitter: ``min(cap, base * 2**attempt) + jitter``, at most ``attempts`` tries."""

    def __init__(self, *, sleep: Callable[[float], None] = time.sleep, rand: Callable[[], float] = random.random,
                 base: float = 1.0, cap: float = 32.0, attempts: int = 6):
        self.sleep = sleep
        self.rand = rand
        self.base = base
        self.cap = cap
        self.attempts = attempts
        self.waited: list[float] = []

    def delay(self, attempt: int) -> float:
        return min(self.cap, self.base * 2.0 ** attempt + self.rand())

    def wait(self, attempt: int) -> None:
        seconds = self.delay(attempt)
        self.waited.append(seconds)
        self.sleep(seconds)


class QuotaBudget:
    """Sliding windows (one second, one minute) of quota units, as the server counts them; ``spend`` waits until the
    units fit in both windows, so a long sync runs at the quota-bound rate without being refused."""

    def __init__(self, per_second: float | None = 250, per_minute: float | None = 15000, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 margin: float = 0.0):
        self.clock = clock
        self.sleep = sleep
        # ``margin`` lengthens our windows beyond the server's; ``settle`` makes that unnecessary in practice.
        self.windows = [_Window(float(limit), seconds * (1 + margin))
                        for limit, seconds in ((per_second, 1.0), (per_minute, 60.0)) if limit]
        self.spent = 0
        self.waited = 0.0

    def settle(self, calls: int) -> None:
        """The last ``calls`` spends got their answer: the server counted them by now at the latest. Moving them to
        now keeps our windows from closing before the server's do, however long the calls were on the way."""
        if calls and self.windows:
            now = self.clock()
            for window in self.windows:
                window.restamp(calls, now)

    def spend(self, units: int) -> None:
        if not units or not self.windows:
            return
        while True:
            now = self.clock()
            wait = max(window.wait_for(units, now) for window in self.windows)
            if wait <= 0:
                for window in self.windows:
                    window.add(now, units)
                self.spent += units
                return
            wait = max(wait, 0.001)  # float dust after an exact wait must not loop forever
            self.waited += wait
            self.sleep(wait)


class _Window:
    def __init__(self, limit: float, seconds: float):
        self.limit = limit
        self.seconds = seconds
        self.log: deque[tuple[float, int]] = deque()
        self.total = 0

    def wait_for(self, units: int, now: float) -> float:
        while self.log and now - self.log[0][0] >= self.seconds:
            self.total -= self.log.popleft()[1]
        excess = self.total + min(units, self.limit) - self.limit
        if excess <= 0:
            return 0.0
        for t, u in self.log:  # oldest first: wait until enough of them have left the window
            excess -= u
            if excess <= 0:
                return t + self.seconds - now
        return self.seconds

    def restamp(self, calls: int, now: float) -> None:
        for index in range(max(0, len(self.log) - calls), len(self.log)):
            self.log[index] = (now, self.log[index][1])

    def add(self, now: float, units: int) -> None:
        self.log.append((now, units))
        self.total += units
