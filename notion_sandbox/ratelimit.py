"""Notion-like rate limiting: a token bucket per integration token (average R requests/s, small burst)."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

from notion_sandbox.errors import rate_limited
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
