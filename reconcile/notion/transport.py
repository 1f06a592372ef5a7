"""The layer under notion-client that owns pacing, retries and the safety of writes.

notion-client is given an httpx.Client whose transport is a `NotionTransport`, so every request of
a run (reads and writes, from every worker thread) passes through one place:

    notion_client.Client ─▶ httpx.Client ─▶ NotionTransport ─▶ inner transport (network)
                                              ├── TokenBucket    one rate limit for the run
                                              ├── RetryPolicy    backoff, Retry-After, bounds
                                              └── CallCounter    requests sent, by route

Requests fall into three kinds. Reads (GET, POST .../query, POST /v1/search) and updates (PATCH:
idempotent) are retried on transient failures: 429, 409, 500, 502, 503, 504, 529, timeouts and
connection errors. A create (any other POST) is retried only when Notion cannot have processed it
(429, or a connection that never opened); otherwise its outcome is unknown and it raises
`AmbiguousWriteError` so that the caller looks before creating again.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import httpx

from reconcile.errors import NotionAuthError, NotionError

RequestKind = Literal["read", "update", "create"]

TRANSIENT_STATUSES = frozenset({409, 429, 500, 502, 503, 504, 529})
# Failures that happen before a single byte of the request left: safe to resend even a create.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_TRANSIENT_EXCEPTIONS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
_ROUTE_WORDS = frozenset(
    {
        "v1",
        "databases",
        "data_sources",
        "pages",
        "query",
        "properties",
        "search",
        "blocks",
        "children",
        "users",
        "me",
        "comments",
        "templates",
        "move",
        "markdown",
        "file_uploads",
    }
)


class AmbiguousWriteError(NotionError):
    """A create was sent and may or may not have been committed; it must not be resent blindly."""

    def __init__(
        self,
        message: str,
        *,
        route: str,
        committed_resource_id: str | None = None,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message, code=code or "ambiguous_write", status=status)
        self.route = route
        self.committed_resource_id = committed_resource_id


# ── classification ───────────────────────────────────────────────────────────────────────────────


def request_kind(method: str, path: str) -> RequestKind:
    """Whether a request only reads, updates idempotently, or creates something."""
    method = method.upper()
    if method == "GET" or (method == "POST" and (path.endswith("/query") or path == "/v1/search")):
        return "read"
    if method in ("PATCH", "PUT", "DELETE"):
        return "update"
    return "create"


def route_template(method: str, path: str) -> str:
    """The request's route with ids replaced, e.g. "PATCH /v1/pages/{id}"."""
    parts = []
    previous = ""
    for segment in path.strip("/").split("/"):
        if segment in _ROUTE_WORDS:
            parts.append(segment)
        else:
            parts.append("{property_id}" if previous == "properties" else "{id}")
        previous = segment
    return f"{method.upper()} /{'/'.join(parts)}"


def is_loopback_host(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_token_destination(url: str | httpx.URL) -> None:
    """Refuse a destination that would expose the token: plain http beyond loopback."""
    parsed = httpx.URL(str(url))
    if parsed.scheme == "https" or (parsed.scheme == "http" and is_loopback_host(parsed.host)):
        return
    raise NotionAuthError(
        f"refusing to send the Notion token to {parsed.scheme}://{parsed.host}",
        hint="use an https:// Notion base URL; plain http is allowed only for a loopback sandbox",
    )


# ── counting ─────────────────────────────────────────────────────────────────────────────────────


class CallCounter:
    """Requests actually sent, by "METHOD /route/{id}", including retries; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_route: Counter[str] = Counter()
        self._rate_limited = 0
        self._retries = 0

    def record(self, route: str, *, status: int | None = None, retry: bool = False) -> None:
        with self._lock:
            self._by_route[route] += 1
            self._rate_limited += status == 429
            self._retries += retry

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": sum(self._by_route.values()),
                "by_route": dict(sorted(self._by_route.items())),
                "rate_limited": self._rate_limited,
                "retries": self._retries,
            }


# ── pacing ───────────────────────────────────────────────────────────────────────────────────────


class TokenBucket:
    """A shared rate limit: `rate` requests per second on average, bursts of up to `burst`.

    Implemented as virtual scheduling (GCRA): each `acquire` reserves the earliest slot under the
    lock and sleeps outside it, so concurrent workers are served in order and never oversubscribe.
    `pause` (a server's Retry-After) pushes every later slot past the pause, for all threads.
    """

    def __init__(
        self,
        rate: float | None,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate or None
        self.burst = max(1, burst)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._interval = 1.0 / rate if rate else 0.0
        self._tat = -float("inf")  # theoretical arrival time of the next conforming request
        self._paused_until = -float("inf")

    def acquire(self) -> float:
        """Wait for a slot; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            slot = self._reserve(now)
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
        return max(0.0, wait)

    def _reserve(self, now: float) -> float:
        earliest = max(now, self._paused_until)
        if self.rate is None:
            return earliest
        tolerance = (self.burst - 1) * self._interval
        slot = max(earliest, self._tat - tolerance)
        self._tat = max(self._tat, slot) + self._interval
        return slot

    def pause(self, seconds: float) -> None:
        """Send nothing for `seconds`, then restart at the steady rate rather than a burst."""
        with self._lock:
            until = self._clock() + max(0.0, seconds)
            self._paused_until = max(self._paused_until, until)
            if self.rate is not None:
                self._tat = max(self._tat, self._paused_until + (self.burst - 1) * self._interval)


# ── retrying ─────────────────────────────────────────────────────────────────────────────────────


class RetryPolicy:
    """Exponential backoff with full jitter, bounded in attempts and in total time."""

    def __init__(
        self,
        max_attempts: int = 6,
        max_total_s: float = 120.0,
        base_delay_s: float = 0.5,
        max_delay_s: float = 30.0,
        jitter: bool = True,
        rng: Callable[[], float] = random.random,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_attempts = max(1, max_attempts)
        self.max_total_s = max_total_s
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.jitter = jitter
        self._rng = rng
        self._wall_clock = wall_clock

    def backoff(self, retry_index: int) -> float:
        """Seconds to wait before retry number `retry_index` (0 for the first retry)."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2**retry_index)
        return ceiling * self._rng() if self.jitter else ceiling

    def retry_after(self, headers: httpx.Headers) -> float | None:
        """The server's Retry-After in seconds (delta-seconds or HTTP date), if any."""
        return parse_retry_after(headers.get("retry-after"), self._wall_clock())

    def allows(self, attempts_made: int, elapsed_s: float, next_delay_s: float) -> bool:
        """Whether another attempt fits within both bounds."""
        return attempts_made < self.max_attempts and elapsed_s + next_delay_s <= self.max_total_s


# ── the transport ────────────────────────────────────────────────────────────────────────────────


def parse_retry_after(value: str | None, now: float) -> float | None:
    """A Retry-After header as seconds from `now` (delta-seconds or an HTTP date); None if unreadable."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


class NotionTransport(httpx.BaseTransport):
    def __init__(
        self,
        inner: httpx.BaseTransport | None = None,
        policy: RetryPolicy | None = None,
        bucket: TokenBucket | None = None,
        counter: CallCounter | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        logger: logging.Logger | None = None,
    ) -> None:
        self.inner = inner or httpx.HTTPTransport()
        self.policy = policy or RetryPolicy()
        self.bucket = bucket or TokenBucket(None, clock=clock, sleep=sleep)
        self.counter = counter or CallCounter()
        self._clock = clock
        self._sleep = sleep
        self._logger = logger

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if "authorization" in request.headers:
            check_token_destination(request.url)
        kind = request_kind(request.method, request.url.path)
        route = route_template(request.method, request.url.path)
        started = self._clock()
        attempts = 0
        while True:
            self.bucket.acquire()
            attempts += 1
            outcome = self._attempt(request, route, retry=attempts > 1)
            delay = self._next_delay(outcome, kind, route, attempts)
            elapsed = self._clock() - started
            if delay is None or not self.policy.allows(attempts, elapsed, delay):
                return _finish(outcome)
            self._wait(outcome, delay)

    def _attempt(self, request: httpx.Request, route: str, *, retry: bool) -> httpx.Response | httpx.TransportError:
        sent_at = self._clock()
        try:
            response = self.inner.handle_request(request)
            response.read()
        except httpx.TransportError as exc:
            if not isinstance(exc, _NOT_SENT):
                self.counter.record(route, retry=retry)
            self._log(request, type(exc).__name__, sent_at)
            return exc
        self.counter.record(route, status=response.status_code, retry=retry)
        self._log(request, str(response.status_code), sent_at)
        return response

    def _next_delay(
        self, outcome: httpx.Response | httpx.TransportError, kind: RequestKind, route: str, n: int
    ) -> float | None:
        """Seconds before the next attempt, or None when this outcome is final."""
        if isinstance(outcome, httpx.TransportError):
            if not isinstance(outcome, _TRANSIENT_EXCEPTIONS):
                return None
            if kind == "create" and not isinstance(outcome, _NOT_SENT):
                raise _ambiguous_after_exception(route, outcome) from outcome
            return self.policy.backoff(n - 1)
        if outcome.status_code not in TRANSIENT_STATUSES:
            return None
        if kind == "create" and outcome.status_code != 429:
            raise _ambiguous_after_response(route, outcome)
        retry_after = self.policy.retry_after(outcome.headers)
        return retry_after if retry_after is not None else self.policy.backoff(n - 1)

    def _wait(self, outcome: httpx.Response | httpx.TransportError, delay: float) -> None:
        has_retry_after = isinstance(outcome, httpx.Response) and "retry-after" in outcome.headers
        if has_retry_after:
            self.bucket.pause(delay)  # the server asked everyone to wait, not just this request
        else:
            self._sleep(delay)

    def _log(self, request: httpx.Request, status: str, sent_at: float) -> None:
        if self._logger is not None:
            duration = self._clock() - sent_at
            self._logger.info("%s %s %s %.3fs", request.method, request.url, status, duration)

    def close(self) -> None:
        self.inner.close()


def _finish(outcome: httpx.Response | httpx.TransportError) -> httpx.Response:
    if isinstance(outcome, httpx.TransportError):
        raise outcome
    return outcome


def _ambiguous_after_exception(route: str, exc: httpx.TransportError) -> AmbiguousWriteError:
    return AmbiguousWriteError(
        f"{route}: the request was sent but no answer came back ({type(exc).__name__}); it may have been committed",
        route=route,
    )


def _ambiguous_after_response(route: str, response: httpx.Response) -> AmbiguousWriteError:
    body = _json_body(response)
    additional = body.get("additional_data") if isinstance(body.get("additional_data"), dict) else {}
    committed = additional.get("committed_resource_id")
    code = body.get("code") if isinstance(body.get("code"), str) else None
    return AmbiguousWriteError(
        f"{route}: Notion answered {response.status_code} {code or 'non-JSON'} after the request "
        "was sent; it may have been committed",
        route=route,
        committed_resource_id=committed if isinstance(committed, str) else None,
        status=response.status_code,
        code=code,
    )


def _json_body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
