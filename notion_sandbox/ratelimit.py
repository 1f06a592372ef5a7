"""Notion-like rate limiting: a token bucket per integration token (average R requests/s, small burst), and a
workspace budget per minute shared by every token."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

from notion_sandbox.errors import WORKSPACE_RATE, rate_limited
from notion_sandbox.ids import monotonic


class TokenBucket:
    def __init__(self, rate: float | None, burst: int = 3, clock: Callable[[], float] = monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self.configure(rate, burst)

    def configure(self, rate: float | None, burst: int | None = None) -> None:
        with self._lock:
            self.rate = float(rate) if rate else None
            if burst is not None:
                self.burst = max(1, int(burst))
            self._buckets.clear()

    def check(self, key: str) -> None:
        """Take one token for ``key`` or raise Notion's 429 with a whole-second Retry-After (≥ 1)."""
        with self._lock:
            if not self.rate:
                return
            now = self._clock()
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return
            self._buckets[key] = (tokens, now)
            wait = (1.0 - tokens) / self.rate
        raise rate_limited(max(1, math.ceil(wait)))


class WindowBudget:
    """A workspace's sustained budget: ``per_minute`` requests per fixed 60-second window, shared by every token.

    Beyond it, 429 with the reason Notion gives for its workspace limit and a Retry-After until the window ends
    (up to a minute): the long waits a busy workspace sees, beyond the per-token bucket's one second.
    """

    WINDOW_S = 60.0

    def __init__(self, per_minute: int | None, clock: Callable[[], float] = monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.configure(per_minute)

    def configure(self, per_minute: int | None) -> None:
        with self._lock:
            self.per_minute = int(per_minute) if per_minute else None
            self._window_start = self._clock()
            self._used = 0

    def check(self) -> None:
        with self._lock:
            if not self.per_minute:
                return
            now = self._clock()
            if now - self._window_start >= self.WINDOW_S:
                self._window_start, self._used = now, 0
            if self._used < self.per_minute:
                self._used += 1
                return
            wait = self._window_start + self.WINDOW_S - now
        raise rate_limited(max(1, math.ceil(wait)), WORKSPACE_RATE)
