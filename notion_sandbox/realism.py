"""Realism: the unreliability of real Notion, in one place every Notion request passes (as moto keeps its backends).

* ``query_lag_ms``: queries and search see each page as it was that long ago (lag.py); retrieve by id is immediate.
* ``chaos`` / ``chaos_seed``: that fraction of Notion requests gets a spontaneous fault drawn from Notion's real
  ones — 429 with a Retry-After of 1 to ``chaos_max_retry_after`` seconds, 502 with an HTML body, 504, and for writes
  a commit that lands ``chaos_commit_delay_ms`` after its 504 — in the same order for the same seed and the same
  sequence of requests. With chaos on, two writes to one object that overlap in time answer the second
  ``409 conflict_error`` (a late commit counts as a write in flight until it lands).
* ``workspace_rpm``: a sustained budget per minute for the whole workspace (ratelimit.WindowBudget).
* late commits: a fault with ``commit_delay_ms`` answers the client first; the write lands that long afterwards.

The sandbox asks ``spontaneous_fault`` before each request, ``write_target``/``enter`` around each write, and
schedules late commits here; ``settle`` lands everything pending and ends the lag at once (for assertions).
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from notion_sandbox.ids import monotonic, normalize_id
from notion_sandbox.lag import QueryIndex
from notion_sandbox.ratelimit import WindowBudget

DEFAULTS: dict[str, Any] = {
    "query_lag_ms": 0,
    "chaos": 0.0,
    "chaos_seed": 0,
    "chaos_max_retry_after": 60,
    "chaos_commit_delay_ms": 2000,
    "workspace_rpm": 0,
}
READ_FAULTS = ("rate_limited", "bad_gateway_html", "gateway_timeout")
WRITE_FAULTS = (*READ_FAULTS, "commit_then_504")
WRITE_ROUTES = {("POST", "/v1/pages"), ("POST", "/v1/databases"), ("POST", "/v1/data_sources")}


def checked_settings(given: dict[str, Any]) -> dict[str, Any]:
    """The realism settings in ``given`` (only those), each checked; ValueError names the bad one."""
    out: dict[str, Any] = {}
    for key, value in given.items():
        if key not in DEFAULTS:
            raise ValueError(f"unknown realism setting {key!r}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{key} must be a number, not {value!r}")
        out[key] = float(value) if key == "chaos" else int(value)
    if not 0.0 <= out.get("chaos", 0.0) <= 1.0:
        raise ValueError("chaos is a fraction of requests, between 0 and 1")
    if out.get("chaos_max_retry_after", 1) < 1:
        raise ValueError("chaos_max_retry_after must be at least 1 second")
    for key in ("query_lag_ms", "chaos_commit_delay_ms", "workspace_rpm"):
        if out.get(key, 0) < 0:
            raise ValueError(f"{key} must not be negative")
    return out


def is_write(method: str, template: str) -> bool:
    return method in ("PATCH", "DELETE") or (method, template) in WRITE_ROUTES


class Chaos:
    """Spontaneous faults, drawn from a seeded generator: three draws per request keep the sequence aligned."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.drawn: Counter[str] = Counter()
        self.seed = 0
        self._rng = random.Random(0)
        self.configure(0.0, 0, 60, 2000)

    def configure(self, rate: float, seed: int, max_retry_after: int, commit_delay_ms: int) -> None:
        """New settings; the draws restart only with a new seed (pausing chaos keeps its place in the sequence)."""
        with self._lock:
            self.rate = rate
            self.max_retry_after, self.commit_delay_ms = max_retry_after, commit_delay_ms
            if seed != self.seed:
                self.reseed(seed)

    def reseed(self, seed: int) -> None:
        self.seed = seed
        self._rng = random.Random(seed)

    def draw(self, write: bool) -> dict[str, Any] | None:
        if not self.rate:
            return None
        with self._lock:
            roll, pick, wait = self._rng.random(), self._rng.random(), self._rng.random()
            if roll >= self.rate:
                return None
            kinds = WRITE_FAULTS if write else READ_FAULTS
            kind = kinds[int(pick * len(kinds))]
            self.drawn[kind] += 1
            retry_after = 1 + int(wait * self.max_retry_after) % self.max_retry_after
        if kind == "rate_limited":
            return {"status": 429, "retry_after": retry_after}
        if kind == "bad_gateway_html":
            return {"status": 502, "body": "html"}
        if kind == "gateway_timeout":
            return {"status": 504}
        return {"commit_then": 504, "commit_delay_ms": self.commit_delay_ms}


class InFlight:
    """Objects with a write in progress (a request being answered, or a commit not landed yet)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count: Counter[str] = Counter()

    def enter(self, object_id: str) -> bool:
        """Start a write unless another one is in flight on the same object."""
        with self._lock:
            if self._count[object_id]:
                return False
            self._count[object_id] += 1
            return True

    def hold(self, object_id: str) -> None:
        with self._lock:
            self._count[object_id] += 1

    def busy(self) -> int:
        """How many objects have a write in flight."""
        with self._lock:
            return len(self._count)

    def leave(self, object_id: str) -> None:
        with self._lock:
            self._count[object_id] -= 1
            if self._count[object_id] <= 0:
                del self._count[object_id]


class Answering:
    """Requests being answered now. A fault's latency (or the configured one) may hold a request
    after its client gave up waiting, and its write lands when the hold ends: `settle` waits for the
    requests in hand when it was called, so nothing held back lands after it (no deadline needed:
    each hold is as long as its latency)."""

    def __init__(self) -> None:
        self._done = threading.Condition()
        self._next = 0
        self._open: set[int] = set()

    @contextmanager
    def one(self) -> Iterator[None]:
        with self._done:
            key = self._next
            self._next += 1
            self._open.add(key)
        try:
            yield
        finally:
            with self._done:
                self._open.discard(key)
                self._done.notify_all()

    def wait(self) -> int:
        """Wait until every request being answered now has been answered; how many there were."""
        with self._done:
            in_hand = set(self._open)
            self._done.wait_for(lambda: not in_hand & self._open)
            return len(in_hand)


class LateCommits:
    """Writes answered before they landed; each lands on a timer (or at once, on ``settle``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[int, tuple[threading.Timer, Callable[[], None]]] = {}
        self._next = 0
        self.landed = 0

    def schedule(self, delay_ms: int, land: Callable[[], None]) -> None:
        with self._lock:
            key = self._next
            self._next += 1
            timer = threading.Timer(delay_ms / 1000, self._run, (key,))
            timer.daemon = True
            self._pending[key] = (timer, land)
        timer.start()

    def _run(self, key: int) -> None:
        with self._lock:
            entry = self._pending.pop(key, None)
        if entry is not None:
            entry[1]()
            with self._lock:
                self.landed += 1

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def settle(self) -> int:
        """Land every pending commit now, oldest first."""
        with self._lock:
            keys = sorted(self._pending)
        for key in keys:
            entry = self._pending.get(key)
            if entry is not None:
                entry[0].cancel()
                self._run(key)
        return len(keys)

    def cancel(self) -> None:
        with self._lock:
            entries, self._pending = list(self._pending.values()), {}
        for timer, _ in entries:
            timer.cancel()


class Realism:
    def __init__(self, clock: Callable[[], float] = monotonic, **settings: Any) -> None:
        self.values = dict(DEFAULTS)
        self.index = QueryIndex(0, clock)
        self.budget = WindowBudget(None, clock)
        self.chaos = Chaos()
        self.in_flight = InFlight()
        self.commits = LateCommits()
        self.answering = Answering()
        self.change(settings)

    def settings(self) -> dict[str, Any]:
        return dict(self.values)

    def change(self, given: dict[str, Any]) -> dict[str, Any]:
        self.values.update(checked_settings(given))
        v = self.values
        self.index.configure(v["query_lag_ms"])
        self.budget.configure(v["workspace_rpm"])
        self.chaos.configure(v["chaos"], v["chaos_seed"], v["chaos_max_retry_after"], v["chaos_commit_delay_ms"])
        return self.settings()

    def status(self) -> dict[str, Any]:
        return {
            "settings": self.settings(),
            "pending_commits": self.commits.pending(),
            "landed_commits": self.commits.landed,
            "lagging_pages": self.index.lagging(),
            "chaos_faults": dict(self.chaos.drawn),
        }

    # ------------------------------------------------------------ per request

    def spontaneous_fault(self, method: str, template: str) -> dict[str, Any] | None:
        return self.chaos.draw(is_write(method, template))

    def write_target(self, method: str, template: str, params: dict[str, str]) -> str | None:
        """The object a write changes, when overlapping writes conflict (chaos on); else None."""
        if not self.values["chaos"] or method not in ("PATCH", "DELETE"):
            return None
        return normalize_id(params.get("id"))

    def settle(self) -> dict[str, int]:
        """Finish the requests being answered, land pending commits and end the indexing lag now."""
        answered = self.answering.wait()
        landed = self.commits.settle()
        return {"answered_requests": answered, "landed_commits": landed, "indexed_pages": self.index.settle()}

    def reset(self) -> None:
        self.commits.cancel()
        self.index.settle()
        self.chaos.drawn.clear()
        self.chaos.reseed(self.values["chaos_seed"])
        self.change({})
