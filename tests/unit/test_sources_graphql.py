"""The GraphQL source through the one HTTP layer: retries, Retry-After, secrets kept on their host,
text Notion cannot store, bodies that are not JSON."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

from reconcile.config import load_config_text
from reconcile.errors import SourceError
from reconcile.http import RetryPolicy
from reconcile.model import SourceConfig
from reconcile.redact import remember_secret
from reconcile.source.graphql import fetch_graphql

ENDPOINT = "https://planx.example/v1/graphql"
API_KEY = "planx-api-key-7f3e9a"
remember_secret(API_KEY, "PLANX_API_KEY")  # as config loading does for a declared secret


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


Reply = httpx.Response | Exception


def scripted(replies: list[Reply]) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    feed = list(replies)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        reply = feed.pop(0) if len(feed) > 1 else feed[0]
        if isinstance(reply, Exception):
            raise reply
        return reply

    return httpx.MockTransport(handler), seen


def teams(*slugs: str, **extra: Any) -> httpx.Response:
    return httpx.Response(200, json={"data": {"teams": [{"slug": s, "name": s.title(), **extra} for s in slugs]}})


def source(**changes: Any) -> SourceConfig:
    base: dict[str, Any] = {
        "kind": "graphql",
        "endpoint": ENDPOINT,
        "records": "data.teams",
        "key": "slug",
        "query": "{ teams { slug name } }",
    }
    return SourceConfig(**{**base, **changes})


def fetch(src: SourceConfig, replies: list[Reply], t: FakeTime | None = None, **kw: Any) -> list[httpx.Request]:
    transport, seen = scripted(replies)
    clock = t or FakeTime()
    kw.setdefault("policy", RetryPolicy(max_attempts=4, max_total_s=60, rng=lambda: 0.5))  # the sources' defaults
    fetch_graphql(src, transport=transport, sleep=clock.sleep, clock=clock.clock, **kw)
    return seen


# ── retries ──────────────────────────────────────────────────────────────────────────────────────


def test_a_502_then_a_429_with_retry_after_are_ridden_out() -> None:
    t = FakeTime()
    html = httpx.Response(502, text="<html>Bad gateway</html>")
    limited = httpx.Response(429, headers={"Retry-After": "7"})
    seen = fetch(source(), [html, limited, teams("barnet")], t)
    assert len(seen) == 3
    assert t.sleeps == [0.25, 7.0]  # backoff (full jitter at 0.5 of 0.5 s), then the server's wait


def test_timeouts_and_dropped_connections_are_retried() -> None:
    seen = fetch(source(), [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("gone"), teams("barnet")])
    assert len(seen) == 3


def test_a_persistent_failure_says_how_many_attempts_were_made() -> None:
    with pytest.raises(SourceError) as caught:
        fetch(source(), [httpx.Response(503, text="busy")])
    assert str(caught.value) == (
        f"GraphQL source {ENDPOINT} answered HTTP 503: busy (after 4 attempts) (nothing was written)"
    )


def test_a_retry_after_beyond_the_budget_is_reported_as_such_without_waiting() -> None:
    t = FakeTime()
    with pytest.raises(SourceError) as caught:
        fetch(source(), [httpx.Response(429, text="slow down", headers={"Retry-After": "3600"})], t)
    assert str(caught.value) == (
        f"GraphQL source {ENDPOINT} answered HTTP 429: slow down "
        "(Retry-After 3600 s exceeds max_retry_seconds 60) (nothing was written)"
    )
    assert t.sleeps == []


def test_a_timeout_left_after_the_retries_names_the_timeout() -> None:
    with pytest.raises(SourceError, match=r"did not answer within 30 s \(after 4 attempts\)"):
        fetch(source(), [httpx.ReadTimeout("slow")])


def test_a_client_error_is_not_retried() -> None:
    transport, seen = scripted([httpx.Response(400, text="bad query")])
    with pytest.raises(SourceError, match=r"answered HTTP 400: bad query \(nothing was written\)$"):
        fetch_graphql(source(), transport=transport)
    assert len(seen) == 1


def test_the_retry_bounds_come_from_the_config() -> None:
    text = f"""
version: 1
jobs:
  j:
    source:
      graphql: {{endpoint: {ENDPOINT}, query: "{{ teams {{ slug }} }}", max_attempts: 2, max_retry_seconds: 5}}
      records: data.teams
      key: slug
    resources:
      r: {{database: "0123456789abcdef0123456789abcdef", match: {{property: K, key: slug}}}}
"""
    job = load_config_text(text, {}).job("j")
    transport, seen = scripted([httpx.Response(500, text="boom")])
    with pytest.raises(SourceError, match=r"\(after 2 attempts\)"):
        fetch_graphql(job.source, transport=transport, sleep=FakeTime().sleep)
    assert len(seen) == 2


def test_every_call_and_wait_is_in_the_request_log(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="reconcile.http"):
        fetch(source(headers={"X-Api-Key": API_KEY}, options={"secrets": ("PLANX_API_KEY",)}),
              [httpx.Response(503), teams("barnet")])  # fmt: skip
    lines = [r.getMessage() for r in caplog.records if r.name == "reconcile.http"]
    assert lines == [
        f"POST {ENDPOINT} 503 0.000s",
        f"retrying POST {ENDPOINT} in 0.25 s: HTTP 503",
        f"POST {ENDPOINT} 200 0.000s",
    ]
    assert API_KEY not in caplog.text


# ── secrets ──────────────────────────────────────────────────────────────────────────────────────


def with_key() -> SourceConfig:
    return source(headers={"Authorization": f"Bearer {API_KEY}"}, options={"secrets": ("PLANX_API_KEY",)})


def test_a_declared_secret_goes_to_its_own_host_also_after_a_redirect_there() -> None:
    moved = httpx.Response(307, headers={"Location": "https://planx.example/v2/graphql"})
    seen = fetch(with_key(), [moved, teams("barnet")])
    assert [str(r.url) for r in seen] == [ENDPOINT, "https://planx.example/v2/graphql"]
    assert all(r.headers["authorization"] == f"Bearer {API_KEY}" for r in seen)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_host_never_carries_the_secret(status: int) -> None:
    away = httpx.Response(status, headers={"Location": "https://collector.example/steal"})
    transport, seen = scripted([away, teams("barnet")])
    in_custom_header = source(headers={"X-Api-Key": API_KEY}, options={"secrets": ("PLANX_API_KEY",)})
    with pytest.raises(SourceError) as caught:
        fetch_graphql(in_custom_header, transport=transport)
    assert str(caught.value) == (
        "GraphQL source: refusing to send header x-api-key, which holds PLANX_API_KEY, to collector.example "
        "(a redirect or link away from planx.example) (nothing was written; a source's secrets go only to the "
        "host its config names)"
    )
    assert [r.url.host for r in seen] == ["planx.example"]
    # httpx itself drops Authorization on a redirect to another origin: followed, without the secret.
    transport, seen = scripted([away, teams("barnet")])
    fetch_graphql(with_key(), transport=transport)
    assert [r.url.host for r in seen] == ["planx.example", "collector.example"]
    assert "authorization" not in seen[1].headers and API_KEY not in str(seen[1].headers)


def test_a_secret_the_source_did_not_declare_is_refused_before_sending() -> None:
    transport, seen = scripted([teams("barnet")])
    undeclared = source(headers={"Authorization": f"Bearer {API_KEY}"})
    with pytest.raises(SourceError, match="refusing to send PLANX_API_KEY in header authorization"):
        fetch_graphql(undeclared, transport=transport)
    in_url = source(endpoint=f"{ENDPOINT}?key={API_KEY}", options={"secrets": ("PLANX_API_KEY",)})
    with pytest.raises(SourceError, match=r"refusing to send a secret in the URL .*key=\*\*\*"):
        fetch_graphql(in_url, transport=transport)
    assert seen == []


# ── unusable answers ─────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"data": {"teams": [{"slug": "barnet", "na', "not JSON"),
        (b"<html>maintenance</html>", "not JSON"),
        (b'{"data": "\xff"}', "not UTF-8"),
    ],
)
def test_a_200_that_is_not_json_is_one_line(body: bytes, problem: str) -> None:
    with pytest.raises(SourceError) as caught:
        fetch(source(), [httpx.Response(200, content=body)])
    assert str(caught.value).startswith(f"GraphQL source {ENDPOINT} answered with a body that is {problem}: ")
    assert str(caught.value).endswith("(nothing was written)")


@pytest.mark.parametrize(
    ("raw", "field", "what"),
    [
        ('"Lam\\ud83dbeth"', "name", "a lone surrogate (\\ud83d)"),
        ('"Lam\\u0000beth"', "name", "a NUL character"),
    ],
)
def test_text_notion_cannot_store_is_refused_naming_the_record_and_field(raw: str, field: str, what: str) -> None:
    body = f'{{"data": {{"teams": [{{"slug": "barnet", "name": "Barnet"}}, {{"slug": "lambeth", "name": {raw}}}]}}}}'
    with pytest.raises(SourceError) as caught:
        fetch(source(), [httpx.Response(200, content=body.encode())])
    message = str(caught.value)
    assert message.startswith(f"record 1 (key 'lambeth') from GraphQL source {ENDPOINT}: {field} holds {what}: ")
    assert message.endswith("(nothing was written; Notion cannot store that text: fix it in the source)")
    message.encode("utf-8")  # the message itself can be printed


def test_a_broken_key_is_named_safely() -> None:
    body = '{"data": {"teams": [{"slug": "bar\\ud800net", "flows": [{"name": "x"}]}]}}'
    with pytest.raises(SourceError) as caught:
        fetch(source(), [httpx.Response(200, content=body.encode())])
    assert str(caught.value).startswith("record 0 (key 'bar\\ud800net') from GraphQL source")


def test_nested_text_is_found_by_its_path() -> None:
    body = json.dumps({"data": {"teams": [{"slug": "camden", "flows": [{"name": "ok"}, {"name": "a\x00b"}]}]}})
    with pytest.raises(SourceError, match=r"flows\[1\]\.name holds a NUL character"):
        fetch(source(), [httpx.Response(200, content=body.encode())])
