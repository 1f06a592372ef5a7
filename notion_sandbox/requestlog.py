"""The request log read by tests and benchmarks: counts per route template and per status, plus entries."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

MAX_ENTRIES = 100_000


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._total = 0
            self._by_route: Counter[str] = Counter()
            self._by_status: Counter[str] = Counter()
            self._entries: list[dict[str, Any]] = []

    def add(self, method: str, route: str, path: str, status: int | None, request_id: str, at: str) -> None:
        """``status`` None means the connection was dropped without an answer."""
        with self._lock:
            self._total += 1
            self._by_route[route] += 1
            self._by_status["dropped" if status is None else str(status)] += 1
            if len(self._entries) < MAX_ENTRIES:
                self._entries.append(
                    {
                        "method": method,
                        "route": route,
                        "path": path,
                        "status": status,
                        "request_id": request_id,
                        "at": at,
                    }
                )

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": self._total,
                "by_route": dict(self._by_route),
                "by_status": dict(self._by_status),
                "entries": [dict(e) for e in self._entries],
            }
