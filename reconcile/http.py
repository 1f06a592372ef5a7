"""The one HTTP layer: every request of a run, to Notion or to a source, passes through an `HttpLayer`.

    notion-client ─┐
    a source ──────┴─▶ httpx.Client ─▶ HttpLayer ─▶ inner transport (network)
                                         ├── TokenBucket   pacing; settles at the rate the server sustains
                                         ├── RetryPolicy   backoff, Retry-After, bounds: the one retry loop
                                         ├── CallCounter   requests sent, by route
                                         └── request log   logger "reconcile.http", secrets scrubbed

What differs between Notion and a source is only a `Rules` object: which outcomes may be retried,
what is refused before sending (a token on plain http, a secret bound for another host), and what a
final failure becomes (notion-client's own error, or a `SourceError`). Everything else — the loop,
the waits, the pacing, the counting and the log — is written once, here.
"""

from __future__ import annotations

import ipaddress
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from reconcile.redact import scrub

__all__ = [
    "HEADROOM",
    "LOGGER_NAME",
    "NOT_SENT",
    "TRANSIENT_EXCEPTIONS",
    "AcyclicClient",
    "CallCounter",
    "HttpLayer",
    "Outcome",
    "RetryPolicy",
    "Rules",
    "Stop",
    "TokenBucket",
    "is_loopback_host",
    "notion_bucket",
    "parse_retry_after",
    "shown_url",
    "timeout",
    "token_may_travel_to",
]

LOGGER_NAME = "reconcile.http"
# The client paces itself a little under the rate it was given: requests leave on schedule but
# arrive with jitter, and one arriving early must not find the server's bucket empty.
HEADROOM = 0.95
# A first 429 halves the rate, and each success wins back this share of the configured rate.
DECREASE_FACTOR = 0.5
RECOVERY_STEP = 0.01
MIN_RATE_SHARE = 1 / 16
# Between two 429s the server's bucket went from empty to empty: the requests it accepted over the
# time between them is the rate it sustains. The client settles a little under it (the server's
# bucket refills a cushion against jitter) and then probes upward slowly, in case the allowance grew.
LEARN_MARGIN = 0.97
PROBE_STEP = 0.005  # of the learned rate, per accepted request
MIN_SAMPLES = 3  # accepted requests between two 429s before their spacing is trusted
SECRET_PARAM_WORDS = ("key", "token", "secret", "password", "signature", "auth")

Outcome = httpx.Response | httpx.TransportError
# Failures that happen before a single byte of the request left: safe to resend even a create.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
TRANSIENT_EXCEPTIONS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


# ── addresses ────────────────────────────────────────────────────────────────────────────────────


def is_loopback_host(host: str) -> bool:
    """Whether `host` is this machine: localhost, 127.0.0.0/8, ::1 (brackets and a final dot allowed)."""
    name = host.strip().lower().strip("[]").rstrip(".")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def token_may_travel_to(url: str) -> bool:
    """A bearer token travels over https, or over plain http only to this machine."""
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(parts.hostname))


def shown_url(url: str) -> str:
    """The URL for messages and logs, with the values of secret-looking query parameters hidden."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = [
        (k, "***" if any(w in k.lower() for w in SECRET_PARAM_WORDS) else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(pairs, safe="*/:")))


def timeout(seconds: float) -> httpx.Timeout:
    """The one timeout setting: `seconds` for connecting, each read, each write and the pool."""
    return httpx.Timeout(seconds)


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

    The rate adapts to what the server sustains. A 429 lowers it once per round of requests in
    flight: the first to half, later ones to the rate the server accepted since the previous 429
    (`LEARN_MARGIN` under it). Each success then wins the rate back slowly: 1 % of the configured
    rate before anything was learned, `PROBE_STEP` of the learned rate after, never above the
    configured rate. So under a server slower than the config the client settles at the server's
    pace, with a 429 only now and then when a probe finds the ceiling, instead of returning to
    full speed after every Retry-After.
    """

    def __init__(
        self,
        rate: float | None,
        burst: int = 1,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate or None  # the configured ceiling; None: no limit
        self.burst = max(1, burst)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._current = self.rate or 0.0
        self._tat = -float("inf")  # theoretical arrival time of the next conforming request
        self._paused_until = -float("inf")
        self._lowered_at = -float("inf")
        self._mark: float | None = None  # when the request of the last 429 that lowered the rate left
        self._accepted = 0  # successes sent after the mark
        self._paused_s = 0.0  # seconds paused (Retry-After) since the mark
        self._learned: float | None = None  # the rate the server was last seen to sustain

    @property
    def current_rate(self) -> float | None:
        """The rate in force now: the configured one, or lower after 429s."""
        with self._lock:
            return self._current if self.rate is not None else None

    @property
    def learned_rate(self) -> float | None:
        """The rate the server was last measured to sustain (None until two 429s were seen)."""
        with self._lock:
            return self._learned

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
        interval = 1.0 / self._current
        slot = max(earliest, self._tat - self._tolerance(interval))
        self._tat = max(self._tat, slot) + interval
        return slot

    def _tolerance(self, interval: float) -> float:
        # No bursts while the rate is lowered: the server has just said its bucket is empty.
        full = self.rate is not None and self._current >= self.rate
        return (self.burst - 1) * interval if full else 0.0

    def pause(self, seconds: float) -> None:
        """Send nothing for `seconds`, then restart at the steady rate rather than a burst."""
        with self._lock:
            until = self._clock() + max(0.0, seconds)
            if self._mark is not None and until > self._paused_until:
                # The pause is not counted in the spacing: the server's bucket refills during it
                # only up to its burst, so a long pause says nothing of the rate it sustains.
                self._paused_s += until - max(self._paused_until, self._clock())
            self._paused_until = max(self._paused_until, until)
            if self.rate is not None:
                interval = 1.0 / self._current
                self._tat = max(self._tat, self._paused_until + self._tolerance(interval))

    def throttled(self, sent_at: float) -> bool:
        """Lower the rate after a 429 to a request sent at `sent_at`; True when it was lowered.

        Requests sent before the last decrease were paced at the old rate: their 429s are the same
        signal and lower the rate only once.
        """
        with self._lock:
            if self.rate is None or sent_at <= self._lowered_at:
                return False
            sustained = self._sustained(sent_at)
            if sustained is not None and sustained < self._current:
                self._learned = sustained
                lowered = sustained * LEARN_MARGIN
            else:
                lowered = self._current * DECREASE_FACTOR
            floor = max(self.rate * MIN_RATE_SHARE, 0.05)
            self._current = max(floor, min(self.rate, lowered))
            self._lowered_at = self._clock()
            self._mark, self._accepted, self._paused_s = sent_at, 0, 0.0
            return True

    def _sustained(self, sent_at: float) -> float | None:
        """Requests per second the server accepted since the previous 429, if enough to go by."""
        if self._mark is None or self._accepted < MIN_SAMPLES:
            return None
        sending = sent_at - self._mark
        return self._accepted / sending if sending > 0 else None

    def succeeded(self, sent_at: float | None = None) -> None:
        """Count a request the server accepted, and win back a little of the configured rate."""
        with self._lock:
            if self.rate is None:
                return
            if self._mark is not None and (sent_at is None or sent_at > self._mark):
                self._accepted += 1
            if self._current < self.rate:
                step = self._learned * PROBE_STEP if self._learned else self.rate * RECOVERY_STEP
                self._current = min(self.rate, self._current + step)


def notion_bucket(
    rate: float | None,
    burst: int,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> TokenBucket:
    """The bucket for Notion: a little under the configured rate, one token of the burst in reserve."""
    return TokenBucket(rate * HEADROOM if rate else None, max(1, burst - 1), clock=clock, sleep=sleep)


# ── retrying ─────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Stop:
    """Why the layer stopped at an outcome: after how many attempts, and the bound that ended it.

    `reason` is None when the outcome was final in itself (a success, or not retryable); otherwise
    it says what happened, e.g. "after 4 attempts" or "Retry-After 3600 s exceeds max_retry_seconds 120".
    """

    attempts: int
    reason: str | None = None


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
        ceiling = min(self.max_delay_s, self.base_delay_s * 2.0 ** min(retry_index, 64))
        return ceiling * self._rng() if self.jitter else ceiling

    def retry_after(self, headers: httpx.Headers) -> float | None:
        """The server's Retry-After in seconds (delta-seconds or HTTP date), if any."""
        return parse_retry_after(headers.get("retry-after"), self._wall_clock())

    def allows(self, attempts_made: int, elapsed_s: float, next_delay_s: float) -> bool:
        """Whether another attempt fits within both bounds."""
        return self.refusal(attempts_made, elapsed_s, next_delay_s, asked=False) is None

    def refusal(self, attempts_made: int, elapsed_s: float, next_delay_s: float, *, asked: bool) -> str | None:
        """Why no further attempt is made (in words), or None when one fits within both bounds.

        `asked`: the delay is the server's Retry-After, which is named as such in the reason.
        """
        made = f"after {attempts_made} attempt{'s' if attempts_made != 1 else ''}"
        if attempts_made >= self.max_attempts:
            return made
        if elapsed_s + next_delay_s <= self.max_total_s:
            return None
        bound = f"max_retry_seconds {self.max_total_s:g}"
        if asked and next_delay_s > self.max_total_s:
            why = f"Retry-After {next_delay_s:g} s exceeds {bound}"
        else:
            waited = "Retry-After" if asked else "a wait"
            why = f"{waited} of {next_delay_s:.3g} s would pass {bound}"
        return why if attempts_made == 1 else f"{made}; {why}"


# ── what differs between Notion and a source ─────────────────────────────────────────────────────


class Rules:
    """The decisions an `HttpLayer` leaves to its caller. The defaults retry nothing."""

    def check(self, request: httpx.Request) -> None:
        """Raise to refuse a request before anything is sent (and before every redirect)."""

    def route(self, request: httpx.Request) -> str:
        """The name the request is counted and logged under."""
        return f"{request.method} {request.url.host}{request.url.path}"

    def retryable(self, request: httpx.Request, outcome: Outcome) -> bool:
        """Whether this outcome may be retried; may raise when resending would be unsafe."""
        return False

    def final(self, request: httpx.Request, outcome: Outcome, stop: Stop) -> httpx.Response:
        """What the caller gets for the last outcome: the response, or an exception raised."""
        if isinstance(outcome, httpx.TransportError):
            raise outcome
        return outcome


# ── the layer ────────────────────────────────────────────────────────────────────────────────────


class HttpLayer(httpx.BaseTransport):
    """An httpx transport that paces, retries, counts and logs every request it is handed."""

    def __init__(
        self,
        inner: httpx.BaseTransport | None = None,
        policy: RetryPolicy | None = None,
        bucket: TokenBucket | None = None,
        counter: CallCounter | None = None,
        *,
        rules: Rules | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        logger: logging.Logger | None = None,
    ) -> None:
        self.inner = inner or httpx.HTTPTransport()
        self.policy = policy or RetryPolicy()
        self.bucket = bucket or TokenBucket(None, clock=clock, sleep=sleep)
        self.counter = counter or CallCounter()
        self.rules = rules or Rules()
        self._clock = clock
        self._sleep = sleep
        self._logger = logger or logging.getLogger(LOGGER_NAME)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.rules.check(request)
        route = self.rules.route(request)
        started = self._clock()
        attempts = 0
        while True:
            self.bucket.acquire()
            attempts += 1
            outcome = self._attempt(request, route, retry=attempts > 1)
            if not self.rules.retryable(request, outcome):
                return self.rules.final(request, outcome, Stop(attempts))
            delay, asked = self._next_delay(outcome, attempts)
            reason = self.policy.refusal(attempts, self._clock() - started, delay, asked=asked)
            if reason is not None:
                self._log("gave up on %s %s: %s (%s)", request.method, request.url, _what(outcome), reason)
                return self.rules.final(request, outcome, Stop(attempts, reason))
            self._log("retrying %s %s in %.2f s: %s", request.method, request.url, delay, _what(outcome))
            self._wait(delay, asked)

    def _attempt(self, request: httpx.Request, route: str, *, retry: bool) -> Outcome:
        sent_at = self._clock()
        try:
            response = self.inner.handle_request(request)
            response.read()
        except httpx.TransportError as exc:
            if not isinstance(exc, NOT_SENT):
                self.counter.record(route, retry=retry)
            self._log("%s %s %s %.3fs", request.method, request.url, type(exc).__name__, self._clock() - sent_at)
            return exc
        self.counter.record(route, status=response.status_code, retry=retry)
        self._adapt(response, sent_at)
        self._log("%s %s %s %.3fs", request.method, request.url, response.status_code, self._clock() - sent_at)
        return response

    def _adapt(self, response: httpx.Response, sent_at: float) -> None:
        if response.status_code == 429:
            if self.bucket.throttled(sent_at):
                learned = self.bucket.learned_rate
                sustains = f" (the server sustains about {learned:.2f})" if learned else ""
                lowered = self.bucket.current_rate or 0.0
                self._log("rate limited: pacing lowered to %.2f requests/s%s", lowered, sustains)
        elif response.status_code < 400:
            self.bucket.succeeded(sent_at)

    def _next_delay(self, outcome: Outcome, attempts: int) -> tuple[float, bool]:
        """(seconds before the next attempt, whether the server asked for them)."""
        if isinstance(outcome, httpx.Response):
            asked = self.policy.retry_after(outcome.headers)
            if asked is not None:
                return asked, True
        return self.policy.backoff(attempts - 1), False

    def _wait(self, delay: float, asked: bool) -> None:
        if asked:
            self.bucket.pause(delay)  # the server asked everyone to wait, not just this request
        else:
            self._sleep(delay)

    def _log(self, message: str, *args: object) -> None:
        if self._logger.isEnabledFor(logging.INFO):
            shown = tuple(shown_url(str(a)) if isinstance(a, httpx.URL) else a for a in args)
            self._logger.info("%s", scrub(message % shown))

    def close(self) -> None:
        self.inner.close()


def _what(outcome: Outcome) -> str:
    if isinstance(outcome, httpx.TransportError):
        return type(outcome).__name__
    return f"HTTP {outcome.status_code}"


class AcyclicClient(httpx.Client):
    """An httpx.Client whose read responses are freed as soon as the caller drops them.

    httpx binds each response's stream back to the response, a reference cycle; only the cyclic
    collector frees a cycle, and its full passes grow rarer as a run's workspace grows (Python
    defers them until the long-lived objects grow by a quarter). A 12,000-page read held about 75
    answers of 200 KB each at once that way. Once the body is read, the stream has nothing left to
    give, so it is swapped for the body's own stream and the cycle is gone."""

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = super().send(request, **kwargs)
        if not kwargs.get("stream"):
            response.stream = httpx.ByteStream(response.content)
        return response
