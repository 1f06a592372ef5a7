"""The http source against a scripted loopback server: pagination, retries and every failure rule."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from reconcile.errors import SourceError
from reconcile.http import RetryPolicy, TokenBucket
from reconcile.model import SourceConfig
from reconcile.redact import remember_secret
from reconcile.source.http import fetch_http, same_origin, shown_url
from reconcile.source.lookup import DEFAULT_LOOKUP_BURST, DEFAULT_LOOKUP_RATE

Reply = tuple[int, dict[str, str], bytes]
Script = Callable[[str], Reply]


class Scripted:
    """A loopback HTTP server answering GETs with `script(path_and_query)`; it records each request."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.seen: list[str] = []
        self.headers: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.seen.append(self.path)
                outer.headers.append({k.lower(): v for k, v in self.headers.items()})
                status, headers, body = outer.script(self.path)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[Script], Scripted]]:
    servers: list[Scripted] = []

    def start(script: Script) -> Scripted:
        servers.append(Scripted(script))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def ok(body: Any, headers: dict[str, str] | None = None) -> Reply:
    return 200, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()


def source(url: str, **changes: Any) -> SourceConfig:
    base: dict[str, Any] = {"kind": "http", "endpoint": url, "records": "entities", "key": "reference"}
    return SourceConfig(**{**base, **changes})


class FakeTime:
    """An injected clock whose sleeps only move time forward."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


NOTION_TOKEN = "secret_tok_of_notion"
remember_secret(NOTION_TOKEN, "NOTION_TOKEN")  # as config loading does with NOTION_TOKEN


def fetch(src: SourceConfig, clock: FakeTime | None = None, **kw: Any) -> list[dict[str, Any]]:
    t = clock or FakeTime()
    return fetch_http(src, sleep=t.sleep, clock=t.clock, **kw)


def entity_pages(total: int) -> Script:
    """Planning Data's offset/limit paging over `total` entities, with an http:// next link."""

    def script(path: str) -> Reply:
        from urllib.parse import parse_qs, urlsplit

        q = parse_qs(urlsplit(path).query)
        limit, offset = int(q.get("limit", ["10"])[0]), int(q.get("offset", ["0"])[0])
        rows = [{"entity": i, "reference": f"R{i}"} for i in range(offset, min(total, offset + limit))]
        links = {"next": f"http://127.0.0.1/entity.json?limit={limit}&offset={offset + limit}"}
        return ok({"entities": rows, "links": links if offset + limit < total else {}, "count": total})

    return script


# ── pagination ───────────────────────────────────────────────────────────────────────────────────


def test_offset_pagination_reads_every_page_up_to_the_count(serve: Any) -> None:
    server = serve(entity_pages(25))
    pagination = {"offset_param": "offset", "limit_param": "limit", "limit": 10, "count": "count"}
    got = fetch(source(server.url + "/entity.json", params={"field": ["entity", "reference"]}, pagination=pagination))
    assert [r["entity"] for r in got] == list(range(25))
    assert len(server.seen) == 3
    assert server.seen[0].count("field=") == 2  # a list repeats the parameter, never a comma list


def test_offset_pagination_stops_on_an_exact_multiple_without_an_empty_page(serve: Any) -> None:
    server = serve(entity_pages(20))
    pagination = {"offset_param": "offset", "limit_param": "limit", "limit": 10, "count": "count"}
    assert len(fetch(source(server.url + "/e", pagination=pagination))) == 20
    assert len(server.seen) == 2


def test_offset_pagination_without_count_stops_at_a_short_page(serve: Any) -> None:
    server = serve(entity_pages(23))
    pagination = {"offset_param": "offset", "limit_param": "limit", "limit": 10}
    assert len(fetch(source(server.url + "/e", pagination=pagination))) == 23
    assert len(server.seen) == 3


def test_next_link_pagination_follows_links_on_the_configured_host(serve: Any) -> None:
    pages = {
        "/p1": ok({"entities": [{"reference": "A"}], "links": {"next": "/p2?x=1"}}),
        "/p2?x=1": ok({"entities": [{"reference": "B"}], "links": {"next": None}}),
    }
    server = serve(lambda path: pages[path])
    got = fetch(source(server.url + "/p1", pagination={"next": "links.next"}))
    assert [r["reference"] for r in got] == ["A", "B"]


def test_an_http_next_link_of_the_same_host_is_rewritten_to_https() -> None:
    link = same_origin("https://www.planning.data.gov.uk/entity.json", "http://www.planning.data.gov.uk/e?o=1")
    assert link == "https://www.planning.data.gov.uk/e?o=1"


def test_a_next_link_to_another_host_is_refused() -> None:
    with pytest.raises(SourceError, match="points to another host"):
        same_origin("https://api.example.org/x", "https://elsewhere.example.com/x?page=2")


def test_a_pagination_loop_is_an_error_not_an_endless_run(serve: Any) -> None:
    pages = {
        "/a": ok({"entities": [{"reference": "A"}], "links": {"next": "/b"}}),
        "/b": ok({"entities": [{"reference": "B"}], "links": {"next": "/a"}}),
    }
    server = serve(lambda path: pages[path])
    with pytest.raises(SourceError, match="pagination loop"):
        fetch(source(server.url + "/a", pagination={"next": "links.next"}))
    assert server.seen == ["/a", "/b"]


def test_a_pagination_that_never_ends_stops_at_max_pages(serve: Any) -> None:
    # Always a full page and a count that is never reached (a broken server): bounded by max_pages.
    server = serve(lambda path: ok({"entities": [{"reference": path}], "count": 10**9}))
    pagination = {"offset_param": "offset", "limit_param": "limit", "limit": 1, "count": "count"}
    with pytest.raises(SourceError, match=r"more than max_pages \(5\)"):
        fetch(source(server.url + "/e", pagination=pagination, options={"max_pages": 5}))
    assert len(server.seen) == 5


# ── retries ──────────────────────────────────────────────────────────────────────────────────────


def flaky(failures: list[Reply], then: Reply) -> Script:
    queue = list(failures)
    return lambda path: queue.pop(0) if queue else then


def test_429_with_retry_after_and_5xx_are_retried_then_succeed(serve: Any) -> None:
    html = (502, {"Content-Type": "text/html"}, b"<html><body>Bad gateway</body></html>")
    limited = (429, {"Retry-After": "7"}, b"{}")
    server = serve(flaky([limited, html], ok({"entities": [{"reference": "A"}]})))
    t = FakeTime()
    assert fetch(source(server.url + "/e"), t) == [{"reference": "A"}]
    assert len(server.seen) == 3
    assert t.sleeps[0] >= 7  # Retry-After honoured


def test_a_persistent_5xx_fails_after_bounded_attempts(serve: Any) -> None:
    server = serve(lambda path: (500, {"Content-Type": "text/html"}, b"<html>Internal Server Error</html>"))
    with pytest.raises(
        SourceError, match=r"answered HTTP 500: <html>Internal Server Error</html> \(after 3 attempts\)"
    ):
        fetch(source(server.url + "/e"), policy=RetryPolicy(max_attempts=3))
    assert len(server.seen) == 3


def test_a_retry_after_beyond_the_time_budget_is_not_waited_for(serve: Any) -> None:
    server = serve(lambda path: (429, {"Retry-After": "3600"}, b"{}"))
    t = FakeTime()
    with pytest.raises(SourceError, match="HTTP 429"):
        fetch(source(server.url + "/e"), t)
    assert t.sleeps == [] and len(server.seen) == 1


def test_a_client_error_is_not_retried(serve: Any) -> None:
    server = serve(lambda path: (422, {"Content-Type": "application/json"}, b'{"detail":[{"msg":"bad"}]}'))
    with pytest.raises(SourceError, match="answered HTTP 422"):
        fetch(source(server.url + "/e"))
    assert len(server.seen) == 1


def test_an_unreachable_source_is_retried_then_reported(serve: Any) -> None:
    server = serve(lambda path: ok({}))
    url = server.url
    server.close()
    with pytest.raises(SourceError, match="could not be reached"):
        fetch(source(url + "/e"), policy=RetryPolicy(max_attempts=2))


# ── failure rules ────────────────────────────────────────────────────────────────────────────────


def test_a_body_that_is_not_json_is_an_error(serve: Any) -> None:
    server = serve(lambda path: (200, {"Content-Type": "text/html"}, b"<html>maintenance</html>"))
    with pytest.raises(SourceError, match="not JSON: <html>maintenance</html>"):
        fetch(source(server.url + "/e"))


def test_a_missing_records_path_is_an_error(serve: Any) -> None:
    server = serve(lambda path: ok({"results": []}))
    with pytest.raises(SourceError, match="has nothing at 'entities'"):
        fetch(source(server.url + "/e"))


def test_a_record_without_its_key_is_an_error(serve: Any) -> None:
    server = serve(lambda path: ok({"entities": [{"reference": "A"}, {"reference": " "}]}))
    with pytest.raises(SourceError, match=r"record 1 .* has no key: 'reference' gave ' '"):
        fetch(source(server.url + "/e"))


def test_headers_are_sent_and_the_notion_token_never_is(serve: Any) -> None:
    server = serve(lambda path: ok({"entities": []}))
    fetch(source(server.url + "/e", headers={"X-Api-Key": "pd-key"}))
    assert server.headers[0]["x-api-key"] == "pd-key"
    assert "authorization" not in server.headers[0]
    with pytest.raises(SourceError, match="refusing to send NOTION_TOKEN in header authorization"):
        fetch(source(server.url + "/e", headers={"Authorization": f"Bearer {NOTION_TOKEN}"}))
    assert len(server.seen) == 1


def test_secret_looking_parameters_are_hidden_in_messages() -> None:
    assert shown_url("https://x.org/e?dataset=tree&api_key=abc") == "https://x.org/e?dataset=tree&api_key=***"


def test_the_configured_retry_bounds_are_the_policy(serve: Any) -> None:
    server = serve(lambda path: (503, {"Content-Type": "text/html"}, b"<html>busy</html>"))
    with pytest.raises(SourceError, match=r"\(after 2 attempts\)"):
        fetch(source(server.url + "/e", options={"max_attempts": 2, "max_retry_seconds": 30}))
    assert len(server.seen) == 2


def test_a_server_that_ignores_the_offset_is_stopped_at_the_first_repeat(serve: Any) -> None:
    server = serve(lambda path: ok({"entities": [{"reference": "A"}, {"reference": "B"}], "count": 10**9}))
    pagination = {"offset_param": "offset", "limit_param": "limit", "limit": 2, "count": "count"}
    with pytest.raises(SourceError) as caught:
        fetch(source(server.url + "/e", pagination=pagination))
    assert "page 2 (" in str(caught.value) and "repeats the records of page 1" in str(caught.value)
    assert len(server.seen) == 2


def test_a_next_link_that_changes_but_serves_the_same_page_is_stopped(serve: Any) -> None:
    server = serve(lambda path: ok({"entities": [{"reference": "A"}], "next": f"/e?cursor={len(path)}x"}))
    with pytest.raises(SourceError, match="repeats the records of page 1"):
        fetch(source(server.url + "/e", pagination={"next": "next"}))
    assert len(server.seen) == 2


def test_a_next_link_to_another_host_never_carries_a_declared_secret(serve: Any) -> None:
    remember_secret("pd-secret-key-123", "PD_API_KEY")
    elsewhere = serve(lambda path: ok({"entities": []}))
    link = elsewhere.url.replace("127.0.0.1", "localhost") + "/steal"
    server = serve(lambda path: ok({"entities": [{"reference": "A"}], "next": link}))
    keyed = source(server.url + "/e", headers={"X-Api-Key": "pd-secret-key-123"}, pagination={"next": "next"})
    with pytest.raises(SourceError, match="points to another host"):
        fetch(replace(keyed, options={"secrets": ("PD_API_KEY",)}))
    assert elsewhere.seen == []


def test_lookups_are_paced_at_their_rate_from_the_first_second() -> None:
    # The lookup's bucket: 5 per second means 5 in the first second, retries included.
    t = FakeTime()
    bucket = TokenBucket(DEFAULT_LOOKUP_RATE, DEFAULT_LOOKUP_BURST, clock=t.clock, sleep=t.sleep)
    stamps = []
    for _ in range(7):
        bucket.acquire()
        stamps.append(t.now)
    assert stamps == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2])
