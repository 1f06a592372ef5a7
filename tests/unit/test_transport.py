from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import notion_client
import pytest

from reconcile.errors import NotionAuthError, NotionError
from reconcile.notion.transport import (
    AmbiguousWriteError,
    CallCounter,
    NotionTransport,
    RetryPolicy,
    TokenBucket,
    check_token_destination,
    request_kind,
    retry_note,
    route_template,
)

TOKEN = "ntn_secret_token_value_123"
PAGE = "0f3a2b1c-0000-4000-8000-00000000000a"
HTML_502 = "<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>"


class FakeClock:
    """Monotonic time that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


Reply = httpx.Response | Exception


def scripted(replies: list[Reply]) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A transport answering with `replies` in order (the last one repeats)."""
    seen: list[httpx.Request] = []
    feed: Iterator[Reply] = iter(replies)
    last: list[Reply] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        reply = next(feed, None)
        if reply is None:
            reply = last[0]
        last[:] = [reply]
        if isinstance(reply, Exception):
            raise reply
        return reply

    return httpx.MockTransport(handler), seen


def error(status: int, code: str, **extra: object) -> httpx.Response:
    body = {"object": "error", "status": status, "code": code, "message": code, **extra}
    return httpx.Response(status, json=body)


def ok(body: dict[str, object] | None = None) -> httpx.Response:
    return httpx.Response(200, json=body or {"object": "page", "id": PAGE})


def make(
    replies: list[Reply], clock: FakeClock, **policy: float
) -> tuple[NotionTransport, list[httpx.Request], CallCounter]:
    inner, seen = scripted(replies)
    counter = CallCounter()
    transport = NotionTransport(
        inner,
        RetryPolicy(rng=lambda: 0.5, **policy),  # type: ignore[arg-type]
        TokenBucket(None, clock=clock, sleep=clock.sleep),
        counter,
        clock=clock,
        sleep=clock.sleep,
    )
    return transport, seen, counter


def send(transport: httpx.BaseTransport, method: str, path: str) -> httpx.Response:
    with httpx.Client(transport=transport, base_url="https://api.notion.com") as client:
        body = {"filter": None} if method in ("POST", "PATCH") else None
        return client.request(method, path, json=body, headers={"Authorization": f"Bearer {TOKEN}"})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# ── classification ───────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("method", "path", "kind", "route"),
    [
        ("GET", f"/v1/pages/{PAGE}", "read", "GET /v1/pages/{id}"),
        ("POST", f"/v1/data_sources/{PAGE}/query", "read", "POST /v1/data_sources/{id}/query"),
        ("POST", "/v1/search", "read", "POST /v1/search"),
        ("PATCH", f"/v1/pages/{PAGE}", "update", "PATCH /v1/pages/{id}"),
        ("POST", "/v1/pages", "create", "POST /v1/pages"),
        ("POST", "/v1/databases", "create", "POST /v1/databases"),
        ("POST", "/v1/data_sources", "create", "POST /v1/data_sources"),
        (
            "GET",
            f"/v1/pages/{PAGE}/properties/%3CLrR",
            "read",
            "GET /v1/pages/{id}/properties/{property_id}",
        ),
        ("GET", "/v1/pages/abc/properties/title", "read", "GET /v1/pages/{id}/properties/{property_id}"),
    ],
)
def test_classification(method: str, path: str, kind: str, route: str) -> None:
    assert request_kind(method, path) == kind
    assert route_template(method, path) == route


# ── retries ──────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "failure",
    [
        error(500, "internal_server_error"),
        error(502, "bad_gateway"),
        httpx.Response(502, text=HTML_502, headers={"content-type": "text/html"}),
        error(503, "service_unavailable"),
        error(503, "database_connection_unavailable"),
        error(504, "gateway_timeout"),
        error(529, "service_overload"),
        error(409, "conflict_error"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ConnectError("refused"),
    ],
    ids=lambda f: f.status_code if isinstance(f, httpx.Response) else type(f).__name__,
)
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", f"/v1/pages/{PAGE}"), ("POST", f"/v1/data_sources/{PAGE}/query"), ("PATCH", f"/v1/pages/{PAGE}")],
)
def test_reads_and_updates_are_retried(clock: FakeClock, failure: Reply, method: str, path: str) -> None:
    transport, seen, counter = make([failure, failure, ok()], clock)
    response = send(transport, method, path)
    assert response.status_code == 200
    assert len(seen) == 3
    assert clock.sleeps == [0.25, 0.5]  # full jitter at rng 0.5 of 0.5 s, 1 s
    not_sent = isinstance(failure, httpx.ConnectError)
    assert counter.snapshot()["total"] == (1 if not_sent else 3)


def test_429_honours_retry_after_by_pausing_the_bucket(clock: FakeClock) -> None:
    limited = httpx.Response(429, json={"code": "rate_limited", "message": "slow down"}, headers={"Retry-After": "2"})
    inner, seen = scripted([limited, ok()])
    bucket = TokenBucket(3, 1, clock=clock, sleep=clock.sleep)
    counter = CallCounter()
    transport = NotionTransport(inner, RetryPolicy(), bucket, counter, clock=clock, sleep=clock.sleep)
    start = clock.now
    assert send(transport, "POST", "/v1/pages").status_code == 200  # a 429'd create is resent
    assert len(seen) == 2
    assert clock.now - start == pytest.approx(2.0)
    assert counter.snapshot() == {
        "total": 2,
        "by_route": {"POST /v1/pages": 2},
        "rate_limited": 1,
        "retries": 1,
    }
    # every other request waits for the pause too: the bucket restarts at its steady rate
    bucket.pause(5)
    waited = bucket.acquire()
    assert waited == pytest.approx(5.0)


def test_retry_after_as_http_date(clock: FakeClock) -> None:
    wall = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    policy = RetryPolicy(wall_clock=lambda: wall.timestamp())
    later = format_datetime(datetime(2026, 1, 1, 12, 0, 7, tzinfo=UTC), usegmt=True)
    assert policy.retry_after(httpx.Headers({"Retry-After": later})) == pytest.approx(7)
    assert policy.retry_after(httpx.Headers({"Retry-After": "0"})) == 0
    assert policy.retry_after(httpx.Headers({"Retry-After": "soon"})) is None
    assert policy.retry_after(httpx.Headers()) is None


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    draws = iter([0.0, 1.0, 0.5])
    policy = RetryPolicy(base_delay_s=1, max_delay_s=5, rng=lambda: next(draws))
    assert [policy.backoff(0), policy.backoff(3), policy.backoff(10)] == [0.0, 5.0, 2.5]
    assert RetryPolicy(base_delay_s=1, jitter=False).backoff(2) == 4


def test_exhausted_attempts_return_the_last_response_saying_why(clock: FakeClock) -> None:
    transport, seen, counter = make([error(503, "service_unavailable")], clock, max_attempts=4)
    response = send(transport, "GET", f"/v1/pages/{PAGE}")
    assert response.status_code == 503
    assert retry_note(response.headers) == "after 4 attempts"
    assert len(seen) == 4
    assert counter.snapshot()["retries"] == 3


def test_a_retry_after_beyond_the_budget_is_not_waited_for_and_says_so(clock: FakeClock) -> None:
    limited = httpx.Response(429, json={"code": "rate_limited"}, headers={"Retry-After": "3600"})
    transport, seen, _ = make([limited], clock, max_total_s=120)
    response = send(transport, "GET", f"/v1/pages/{PAGE}")
    assert retry_note(response.headers) == "Retry-After 3600 s exceeds max_retry_seconds 120"
    assert len(seen) == 1 and clock.sleeps == []


def test_notion_client_keeps_the_reason_on_its_error(clock: FakeClock) -> None:
    limited = httpx.Response(429, json={"code": "rate_limited", "message": "slow"}, headers={"Retry-After": "3600"})
    transport, _, _ = make([limited], clock)
    with pytest.raises(notion_client.errors.HTTPResponseError) as caught:
        notion(transport).pages.retrieve(page_id=PAGE)
    assert retry_note(caught.value.headers) == "Retry-After 3600 s exceeds max_retry_seconds 120"


# ── bodies that are not JSON ─────────────────────────────────────────────────────────────────────


def truncated() -> httpx.Response:
    return httpx.Response(200, content=b'{"object": "page", "id": "0f3a', headers={"content-type": "application/json"})


def test_a_truncated_200_to_a_read_is_retried(clock: FakeClock) -> None:
    transport, seen, _ = make([truncated(), ok()], clock)
    assert send(transport, "GET", f"/v1/pages/{PAGE}").json()["id"] == PAGE
    assert len(seen) == 2


def test_a_read_that_stays_truncated_is_one_clear_notion_error(clock: FakeClock) -> None:
    transport, seen, _ = make([truncated()], clock, max_attempts=3)
    with pytest.raises(NotionError) as caught:
        notion(transport).pages.retrieve(page_id=PAGE)
    assert str(caught.value) == (
        "GET /v1/pages/{id}: Notion answered 200 with a body that is truncated after 30 bytes (after 3 attempts) "
        "(a proxy or a dropped connection cut the answer short; run again)"
    )
    assert len(seen) == 3


@pytest.mark.parametrize(
    ("reply", "problem"),
    [(truncated(), "truncated after 30 bytes"), (httpx.Response(200, text="<html>ok</html>"), "not JSON at byte 0")],
)
def test_a_create_answered_200_without_json_is_never_resent_and_says_the_outcome_is_unknown(
    clock: FakeClock, reply: httpx.Response, problem: str
) -> None:
    transport, seen, _ = make([reply, ok()], clock)
    with pytest.raises(NotionError) as caught:
        notion(transport).pages.create(parent={"data_source_id": PAGE}, properties={})
    assert not isinstance(caught.value, AmbiguousWriteError)  # the gateway must not create it again now
    assert str(caught.value) == (
        f"POST /v1/pages: Notion answered 200 with a body that is {problem}, so the page may have been created "
        "but its outcome is unknown (the next run reads every page by key before creating, so it will not create "
        "it twice)"
    )
    assert len(seen) == 1


def test_total_time_bounds_retries(clock: FakeClock) -> None:
    limited = httpx.Response(429, json={"code": "rate_limited"}, headers={"Retry-After": "50"})
    transport, seen, _ = make([limited], clock, max_total_s=120)
    assert send(transport, "GET", f"/v1/pages/{PAGE}").status_code == 429
    assert len(seen) == 3  # waits 50 + 50; a third wait would pass 120 s


def test_exhausted_transport_errors_are_reraised(clock: FakeClock) -> None:
    transport, seen, _ = make([httpx.ReadTimeout("slow")], clock, max_attempts=2)
    with pytest.raises(httpx.ReadTimeout):
        send(transport, "GET", f"/v1/pages/{PAGE}")
    assert len(seen) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_client_errors_are_not_retried(clock: FakeClock, status: int) -> None:
    transport, seen, _ = make([error(status, "validation_error"), ok()], clock)
    assert send(transport, "PATCH", f"/v1/pages/{PAGE}").status_code == status
    assert len(seen) == 1


# ── creates ──────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "failure",
    [
        error(500, "internal_server_error"),
        httpx.Response(502, text=HTML_502),
        error(504, "gateway_timeout"),
        error(529, "service_overload"),
        error(409, "conflict_error"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
    ids=lambda f: f.status_code if isinstance(f, httpx.Response) else type(f).__name__,
)
def test_a_create_with_unknown_outcome_is_never_resent(clock: FakeClock, failure: Reply) -> None:
    transport, seen, counter = make([failure, ok()], clock)
    with pytest.raises(AmbiguousWriteError) as caught:
        send(transport, "POST", "/v1/pages")
    assert len(seen) == 1
    assert caught.value.committed_resource_id is None
    assert caught.value.route == "POST /v1/pages"
    assert counter.snapshot()["total"] == 1


def test_a_committed_503_carries_the_resource_id(clock: FakeClock) -> None:
    committed = error(
        503,
        "service_unavailable",
        additional_data={"committed_resource_id": PAGE, "retry_guidance": ["Do not repeat."]},
    )
    transport, seen, _ = make([committed], clock)
    with pytest.raises(AmbiguousWriteError) as caught:
        send(transport, "POST", "/v1/pages")
    assert caught.value.committed_resource_id == PAGE
    assert caught.value.status == 503
    assert len(seen) == 1


def test_a_create_that_never_connected_is_resent(clock: FakeClock) -> None:
    transport, seen, counter = make([httpx.ConnectError("refused"), ok()], clock)
    assert send(transport, "POST", "/v1/pages").status_code == 200
    assert len(seen) == 2
    assert counter.snapshot()["total"] == 1  # the refused connection sent nothing


# ── through notion-client ────────────────────────────────────────────────────────────────────────


def notion(transport: httpx.BaseTransport) -> notion_client.Client:
    http = httpx.Client(transport=transport)
    return notion_client.Client(auth=TOKEN, client=http, retry=False, base_url="https://api.notion.com")


def test_notion_client_sees_retried_success_and_ambiguous_writes(clock: FakeClock) -> None:
    html = httpx.Response(502, text=HTML_502)
    transport, seen, _ = make([html, ok(), error(503, "service_unavailable")], clock)
    client = notion(transport)
    page: dict[str, object] = client.pages.retrieve(page_id=PAGE)  # type: ignore[assignment]  # sync client
    assert page["id"] == PAGE
    with pytest.raises(AmbiguousWriteError):
        client.pages.create(parent={"data_source_id": PAGE}, properties={})
    assert [r.method for r in seen] == ["GET", "GET", "POST"]


def test_notion_client_raises_its_own_error_after_exhaustion(clock: FakeClock) -> None:
    transport, _, _ = make([httpx.Response(502, text=HTML_502)], clock, max_attempts=2)
    with pytest.raises(notion_client.errors.HTTPResponseError) as caught:
        notion(transport).pages.retrieve(page_id=PAGE)
    assert caught.value.status == 502


# ── pacing ───────────────────────────────────────────────────────────────────────────────────────


def test_bucket_spaces_requests_after_the_burst(clock: FakeClock) -> None:
    bucket = TokenBucket(4, 2, clock=clock, sleep=clock.sleep)
    start = clock.now
    stamps = []
    for _ in range(6):
        bucket.acquire()
        stamps.append(clock.now - start)
    assert stamps == pytest.approx([0, 0, 0.25, 0.5, 0.75, 1.0])


def test_unlimited_bucket_never_waits(clock: FakeClock) -> None:
    bucket = TokenBucket(None, clock=clock, sleep=clock.sleep)
    assert [bucket.acquire() for _ in range(100)] == [0.0] * 100
    assert TokenBucket(0).rate is None


def test_bucket_is_shared_fairly_across_threads() -> None:
    # Time stands still and sleeping is free: each acquire's wait is the slot it reserved, so the
    # slots handed to concurrent threads must be distinct and spaced by 1/rate after the burst.
    rate, burst, per_thread, threads = 4.0, 2, 25, 8
    bucket = TokenBucket(rate, burst, clock=lambda: 0.0, sleep=lambda _: None)
    slots: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(per_thread):
            waited = bucket.acquire()
            with lock:
                slots.append(waited)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    total = per_thread * threads
    expected = [0.0] * burst + [(i + 1) / rate for i in range(total - burst)]
    assert sorted(slots) == pytest.approx(expected)


# ── secrets ──────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://api.notion.com", True),
        ("http://127.0.0.1:8000", True),
        ("http://127.8.0.1", True),
        ("http://localhost:9999", True),
        ("http://[::1]:8080", True),
        ("http://api.notion.com", False),
        ("http://10.0.0.1", False),
        ("ftp://127.0.0.1", False),
    ],
)
def test_token_destination(url: str, allowed: bool) -> None:
    if allowed:
        check_token_destination(url)
    else:
        with pytest.raises(NotionAuthError, match="refusing to send the Notion token") as caught:
            check_token_destination(url)
        assert TOKEN not in str(caught.value)


def test_the_transport_refuses_plain_http_before_sending(clock: FakeClock) -> None:
    transport, seen, _ = make([ok()], clock)
    with httpx.Client(transport=transport) as client, pytest.raises(NotionAuthError) as caught:
        client.get("http://notion.example.org/v1/users/me", headers={"Authorization": TOKEN})
    assert seen == []
    assert TOKEN not in str(caught.value)
    with httpx.Client(transport=transport) as client:  # no token, nothing to leak
        assert client.get("http://notion.example.org/v1/users/me").status_code == 200


def test_log_lines_never_carry_the_token(clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    inner, _ = scripted([error(503, "service_unavailable"), ok()])
    logger = logging.getLogger("test.notion.transport")
    transport = NotionTransport(inner, RetryPolicy(rng=lambda: 0), clock=clock, sleep=clock.sleep, logger=logger)
    with caplog.at_level(logging.INFO, logger=logger.name):
        send(transport, "GET", f"/v1/pages/{PAGE}")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        f"GET https://api.notion.com/v1/pages/{PAGE} 503 0.000s",
        f"retrying GET https://api.notion.com/v1/pages/{PAGE} in 0.00 s: HTTP 503",
        f"GET https://api.notion.com/v1/pages/{PAGE} 200 0.000s",
    ]
    assert TOKEN not in caplog.text
