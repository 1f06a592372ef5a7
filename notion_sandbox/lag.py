"""Indexing lag: what data-source queries and search see is each page as it was ``lag_ms`` ago.

Notion's search is documented not to be read-after-write ("Search indexing is not immediate"), and queries may lag
too. With a lag, a page created, updated, trashed or restored keeps its old look in queries and search (absent, for
a new page) until ``lag_ms`` after the change; retrieving it by id is immediate. The store tells the index about
every change (``Store.touch``/``end_request``); the index keeps the old copy and the pending new ones, each with the
moment it becomes visible.
"""

from __future__ import annotations

import copy
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from notion_sandbox.ids import monotonic

ABSENT = None  # the indexed view of a page that does not exist yet


class QueryIndex:
    def __init__(self, lag_ms: int = 0, clock: Callable[[], float] = monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.lag_ms = max(0, int(lag_ms))
        self._shown: dict[str, dict[str, Any] | None] = {}
        self._pending: dict[str, deque[tuple[float, dict[str, Any]]]] = {}

    def configure(self, lag_ms: int) -> None:
        self.lag_ms = max(0, int(lag_ms))
        if not self.lag_ms:
            self.settle()

    # ------------------------------------------------------------ told by the store

    def before_change(self, page_id: str, before: dict[str, Any] | None) -> None:
        if not self.lag_ms:
            return
        with self._lock:
            if page_id not in self._shown:
                self._shown[page_id] = copy.deepcopy(before) if before is not None else ABSENT

    def after_change(self, page: dict[str, Any]) -> None:
        if not self.lag_ms:
            return
        with self._lock:
            due = self._clock() + self.lag_ms / 1000
            self._pending.setdefault(page["id"], deque()).append((due, copy.deepcopy(page)))

    # ------------------------------------------------------------ asked by queries and search

    def view(self, page: dict[str, Any]) -> dict[str, Any] | None:
        """The page as the index shows it now (None: not in the index yet)."""
        page_id = page["id"]
        if page_id not in self._shown:
            return page
        with self._lock:
            now = self._clock()
            queue = self._pending.get(page_id, deque())
            while queue and queue[0][0] <= now:
                self._shown[page_id] = queue.popleft()[1]
            if queue:
                return self._shown[page_id]
            # every change is indexed: the live page is what the index shows from now on
            self._shown.pop(page_id, None)
            self._pending.pop(page_id, None)
            return page

    def lagging(self) -> int:
        """How many pages still look older in queries than they are."""
        with self._lock:
            return len(self._shown)

    def settle(self) -> int:
        """Index every pending change now; returns how many pages were lagging."""
        with self._lock:
            count = len(self._shown)
            self._shown.clear()
            self._pending.clear()
            return count
