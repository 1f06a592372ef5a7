"""The one HTTP layer (reconcile/http.py): retry bounds in words, adaptive pacing, the one loopback rule."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import httpx
import pytest

from reconcile.http import (
    HttpLayer,
    RetryPolicy,
    Rules,
    Stop,
    TokenBucket,
    is_loopback_host,
    notion_bucket,
    shown_url,
    token_may_travel_to,
)
from reconcile.redact import remember_secret

REPO = Path(__file__).resolve().parents[2]


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class RetryEverything(Rules):
    def retryable(self, request: httpx.Request, outcome: httpx.Response | httpx.TransportError) -> bool:
        return isinstance(outcome, httpx.TransportError) or outcome.status_code >= 500 or outcome.status_code == 429

    def final(
        self, request: httpx.Request, outcome: httpx.Response | httpx.TransportError, stop: Stop
    ) -> httpx.Response:
        self.stop = stop
        return super().final(request, outcome, stop)


def layer(replies: list[httpx.Response], clock: FakeClock, **policy: float) -> tuple[HttpLayer, RetryEverything]:
    feed = iter(replies)
    last: list[httpx.Response] = []

    def handler(request: httpx.Request) -> httpx.Response:
        reply = next(feed, None) or last[0]
        last[:] = [reply]
        return reply

    rules = RetryEverything()
    policy_ = RetryPolicy(rng=lambda: 0.5, **policy)  # type: ignore[arg-type]
    return HttpLayer(httpx.MockTransport(handler), policy_, rules=rules, clock=clock, sleep=clock.sleep), rules


def get(transport: httpx.BaseTransport, url: str = "https://example.org/x") -> httpx.Response:
    with httpx.Client(transport=transport) as client:
        return client.get(url)


# ── messages say what happened ───────────────────────────────────────────────────────────────────


def test_a_retry_after_beyond_the_budget_is_named_and_not_waited_for() -> None:
    clock = FakeClock()
    transport, rules = layer([httpx.Response(429, headers={"Retry-After": "3600"})], clock, max_total_s=120)
    assert get(transport).status_code == 429
    assert rules.stop == Stop(1, "Retry-After 3600 s exceeds max_retry_seconds 120")
    assert clock.sleeps == []


def test_exhausted_attempts_say_how_many() -> None:
    clock = FakeClock()
    transport, rules = layer([httpx.Response(503)], clock, max_attempts=3)
    assert get(transport).status_code == 503
    assert rules.stop == Stop(3, "after 3 attempts")


def test_a_wait_that_would_pass_the_budget_after_some_retries_says_both() -> None:
    clock = FakeClock()
    transport, rules = layer([httpx.Response(429, headers={"Retry-After": "50"})], clock, max_total_s=120)
    get(transport)
    assert rules.stop == Stop(3, "after 3 attempts; Retry-After of 50 s would pass max_retry_seconds 120")


def test_a_final_outcome_carries_no_reason() -> None:
    clock = FakeClock()
    transport, rules = layer([httpx.Response(503), httpx.Response(200)], clock)
    assert get(transport).status_code == 200
    assert rules.stop == Stop(2)


def test_retry_waits_and_gives_up_are_logged_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    remember_secret("layer-secret-value", "LAYER_SECRET")
    clock = FakeClock()
    transport, _ = layer([httpx.Response(502), httpx.Response(429, headers={"Retry-After": "999"})], clock)
    with caplog.at_level(logging.INFO, logger="reconcile.http"):
        get(transport, "https://example.org/x?api_key=abc&q=layer-secret-value")
    lines = [r.getMessage() for r in caplog.records if r.name == "reconcile.http"]
    assert lines == [
        "GET https://example.org/x?api_key=***&q=[redacted] 502 0.000s",
        "retrying GET https://example.org/x?api_key=***&q=[redacted] in 0.25 s: HTTP 502",
        "GET https://example.org/x?api_key=***&q=[redacted] 429 0.000s",
        "gave up on GET https://example.org/x?api_key=***&q=[redacted]: HTTP 429 "
        "(after 2 attempts; Retry-After 999 s exceeds max_retry_seconds 120)",
    ]
    assert not [r for r in caplog.records if r.name == "reconcile.http" and "layer-secret-value" in r.getMessage()]


# ── adaptive pacing ──────────────────────────────────────────────────────────────────────────────


def test_a_first_429_halves_the_rate_once_per_round_and_successes_win_it_back_slowly() -> None:
    clock = FakeClock()
    bucket = TokenBucket(4.0, 1, clock=clock, sleep=clock.sleep)
    sent = clock.now
    assert bucket.throttled(sent) is True
    assert bucket.current_rate == 2.0
    assert bucket.throttled(sent) is False  # a request paced at the old rate: the same signal
    for _ in range(25):
        bucket.succeeded(sent)  # sent before the 429: not evidence of what the server sustains
    assert bucket.current_rate == pytest.approx(3.0)  # 1 % of the configured rate per success
    for _ in range(100):
        bucket.succeeded()
    assert bucket.current_rate == 4.0  # never above the configured rate
    assert bucket.learned_rate is None


def test_the_spacing_of_two_429s_is_the_rate_the_server_sustains() -> None:
    clock = FakeClock()
    bucket = TokenBucket(4.0, 1, clock=clock, sleep=clock.sleep)
    bucket.throttled(clock.now)
    for _ in range(10):  # the server accepted 10 requests in the 8 s between two 429s
        clock.now += 0.8
        bucket.succeeded(clock.now)
    assert bucket.throttled(clock.now) is True
    assert bucket.learned_rate == pytest.approx(1.25)
    assert bucket.current_rate == pytest.approx(1.25 * 0.97)  # a little under it
    for _ in range(4):
        bucket.succeeded(clock.now + 1)
    assert bucket.current_rate == pytest.approx(1.25 * (0.97 + 4 * 0.005))  # probing upward slowly


def test_too_few_successes_between_429s_halve_instead() -> None:
    clock = FakeClock()
    bucket = TokenBucket(4.0, 1, clock=clock, sleep=clock.sleep)
    bucket.throttled(clock.now)
    clock.now += 5
    bucket.succeeded(clock.now)
    assert bucket.throttled(clock.now) is True
    assert bucket.current_rate == pytest.approx((2.0 + 0.04) / 2)
    assert bucket.learned_rate is None


def test_the_lowered_rate_paces_requests_and_forgoes_the_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(4.0, 3, clock=clock, sleep=clock.sleep)
    bucket.throttled(clock.now)
    start = clock.now
    stamps = []
    for _ in range(4):
        bucket.acquire()
        stamps.append(clock.now - start)
    assert stamps == pytest.approx([0.0, 0.5, 1.0, 1.5])


def test_the_rate_never_falls_below_a_floor() -> None:
    clock = FakeClock()
    bucket = TokenBucket(3.0, 1, clock=clock, sleep=clock.sleep)
    for _ in range(20):
        clock.now += 1
        bucket.throttled(clock.now)
    assert bucket.current_rate == pytest.approx(3.0 / 16)


def test_an_unlimited_bucket_does_not_adapt() -> None:
    bucket = TokenBucket(None)
    assert bucket.throttled(0.0) is False
    bucket.succeeded()
    assert bucket.current_rate is None


def test_notion_is_paced_under_its_configured_rate_with_a_token_in_reserve() -> None:
    bucket = notion_bucket(3.0, 3)
    assert bucket.rate == pytest.approx(2.85) and bucket.burst == 2
    assert notion_bucket(0, 3).rate is None


def test_the_layer_lowers_its_pace_on_429_and_recovers_on_success() -> None:
    clock = FakeClock()
    limited = httpx.Response(429, headers={"Retry-After": "1"})
    replies = [limited, httpx.Response(200), httpx.Response(200)]
    feed = iter(replies)
    bucket = TokenBucket(2.0, 1, clock=clock, sleep=clock.sleep)
    transport = HttpLayer(
        httpx.MockTransport(lambda r: next(feed)),
        RetryPolicy(),
        bucket,
        rules=RetryEverything(),
        clock=clock,
        sleep=clock.sleep,
    )
    get(transport)
    assert bucket.current_rate == pytest.approx(1.0 + 2.0 * 0.01)
    get(transport)
    assert bucket.current_rate == pytest.approx(1.0 + 2 * 2.0 * 0.01)


def throttled_run(server_rate: float | None, requests: int, *, per_minute: int | None = None) -> tuple[int, int, float]:
    """`requests` sent through the layer (Notion's pacing at its default 3 requests/s) to a server
    that sustains `server_rate` requests/s with a burst of 3 (the sandbox's bucket), or `per_minute`
    (its workspace budget), on a simulated clock: (calls, 429s, seconds)."""
    from notion_sandbox.errors import NotionError as SandboxError
    from notion_sandbox.ratelimit import TokenBucket as ServerBucket
    from notion_sandbox.ratelimit import WindowBudget

    clock = FakeClock()
    server = ServerBucket(server_rate, 3, clock)
    budget = WindowBudget(per_minute, clock)
    statuses: list[int] = []

    def answer(request: httpx.Request) -> httpx.Response:
        try:
            server.check("token")
            budget.check()
        except SandboxError as limited:
            statuses.append(429)
            return httpx.Response(429, headers=limited.headers)
        statuses.append(200)
        return httpx.Response(200)

    bucket = notion_bucket(3.0, 3, clock=clock, sleep=clock.sleep)
    policy = RetryPolicy(max_attempts=10, max_total_s=600)
    transport = HttpLayer(
        httpx.MockTransport(answer), policy, bucket, rules=RetryEverything(), clock=clock, sleep=clock.sleep
    )
    started = clock.now
    for _ in range(requests):
        assert get(transport).status_code == 200
    return len(statuses), statuses.count(429), clock.now - started


@pytest.mark.parametrize(("server_rate", "per_minute"), [(1.0, None), (2.0, None), (None, 60)])
def test_under_a_slower_server_the_client_settles_at_its_rate(
    server_rate: float | None, per_minute: int | None
) -> None:
    calls, limited, seconds = throttled_run(server_rate, 300, per_minute=per_minute)
    allowed = server_rate or (per_minute or 0) / 60
    assert limited / calls < 0.10
    assert 300 / seconds >= 0.9 * allowed  # simulated seconds: the clock is the test's


# ── addresses ────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST.", True),
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("10.0.0.1", False),
        ("localhost.example.com", False),
        ("api.notion.com", False),
    ],
)
def test_one_loopback_rule(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://api.notion.com", True),
        ("http://127.0.0.1:8000", True),
        ("http://[::1]:8080", True),
        ("http://localhost:1", True),
        ("http://api.notion.com", False),
        ("ftp://127.0.0.1", False),
        ("https://", False),
    ],
)
def test_a_token_travels_over_https_or_to_this_machine(url: str, allowed: bool) -> None:
    assert token_may_travel_to(url) is allowed


def test_secret_looking_parameters_are_hidden() -> None:
    assert shown_url("https://x.org/e?dataset=tree&api_key=abc&Token=t") == (
        "https://x.org/e?dataset=tree&api_key=***&Token=***"
    )


# ── one HTTP stack, one retry loop ───────────────────────────────────────────────────────────────


def test_requests_is_gone_and_there_is_one_retry_loop() -> None:
    sources = sorted((REPO / "reconcile").rglob("*.py"))
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert "requests" not in imported, path
    sleeping_loops = [
        (path.relative_to(REPO), loop.lineno)
        for path in sources
        for loop in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(loop, ast.While) and "attempts" in ast.unparse(loop)
    ]
    # gateway.create_page resolves an ambiguous create (look by key, then create again): a decision
    # above the transport, not a second retry loop of HTTP requests.
    assert [str(p) for p, _ in sleeping_loops] == ["reconcile/http.py", "reconcile/notion/gateway.py"], sleeping_loops
    setup = (REPO / "setup.cfg").read_text(encoding="utf-8")
    assert "requests" not in setup.split("[options.extras_require]")[0]
