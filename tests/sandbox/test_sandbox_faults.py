"""Fault injection: scripted statuses (JSON and HTML), latency, dropped connections, commit-then-fail."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
import pytest
from notion_client import APIResponseError, Client
from notion_client.errors import RequestTimeoutError, UnknownHTTPResponseError

from notion_sandbox.server import SandboxServer
from tests.support.sandbox import PARENT_PAGE, Raw, title

PAGE_BODY = {"parent": {"page_id": PARENT_PAGE}, "properties": {"title": title("x")}}

JSON_FAULTS = [
    (409, "conflict_error", "Conflict occurred while saving. Please try again.", APIResponseError),
    (429, "rate_limited", "You have been rate limited. Please try again in a few minutes.", APIResponseError),
    (500, "internal_server_error", "Unexpected error occurred.", APIResponseError),
    (502, "bad_gateway", "Bad Gateway", UnknownHTTPResponseError),
    (503, "service_unavailable", "Notion is unavailable, please try again later.", APIResponseError),
    (504, "gateway_timeout", "Gateway Timeout", APIResponseError),
    (529, "service_overload", None, UnknownHTTPResponseError),
]


def page_count(sb: SandboxServer) -> int:
    return len(sb.admin.state()["pages"])


@pytest.mark.parametrize(("status", "code", "message", "raised"), JSON_FAULTS)
def test_json_status_faults(
    sb: SandboxServer, notion: Client, status: int, code: str, message: str | None, raised: type
) -> None:
    sb.admin.add_faults([{"method": "POST", "route": "/v1/pages", "faults": [{"status": status}]}])
    before = page_count(sb)
    with pytest.raises(raised) as err:
        notion.pages.create(**PAGE_BODY)
    body = json.loads(err.value.body)
    assert (err.value.status, body["code"], body["status"]) == (status, code, status)
    assert message is None or body["message"] == message
    assert body["request_id"] == err.value.headers["x-notion-request-id"]
    assert page_count(sb) == before  # nothing stored
    notion.pages.create(**PAGE_BODY)  # the sequence is spent
    assert sb.admin.requests()["by_status"][str(status)] == 1


def test_html_bodies_and_retry_after(sb: SandboxServer, raw: Raw) -> None:
    sb.admin.add_faults(
        [{"route": "/v1/users/me", "faults": [{"status": 502, "body": "html"}, {"status": 503, "retry_after": 7}]}]
    )
    first = raw.call("GET", "/v1/users/me")
    assert first.status_code == 502 and first.headers["content-type"] == "text/html"
    assert "<center>cloudflare</center>" in first.text
    second = raw.call("GET", "/v1/users/me")
    assert second.status_code == 503 and second.headers["retry-after"] == "7"
    assert raw.call("GET", "/v1/users/me").status_code == 200


def test_every_nth_and_times(sb: SandboxServer, raw: Raw) -> None:
    sb.admin.add_faults([{"method": "GET", "route": "/v1/users/me", "fault": {"status": 500}, "every": 3, "times": 2}])
    statuses = [raw.call("GET", "/v1/users/me").status_code for _ in range(10)]
    assert statuses == [200, 200, 500, 200, 200, 500, 200, 200, 200, 200]


def test_pass_lets_one_through(sb: SandboxServer, raw: Raw) -> None:
    sb.admin.add_faults([{"route": "/v1/users/me", "faults": [{"pass": True}, {"status": 409}]}])
    assert [raw.call("GET", "/v1/users/me").status_code for _ in range(3)] == [200, 409, 200]


def test_latency_then_normal_answer() -> None:
    slept: list[float] = []
    with SandboxServer(port=0, seed="empty", rate_limit=None, sleep=slept.append) as server:
        server.admin.add_faults([{"route": "/v1/users/me", "faults": [{"latency_ms": 150}]}])
        assert Raw(server.url).call("GET", "/v1/users/me").status_code == 200
    assert slept == [0.15]


def test_drop_closes_without_a_response_and_stores_nothing(sb: SandboxServer, notion: Client) -> None:
    sb.admin.add_faults([{"method": "POST", "route": "/v1/pages", "faults": [{"drop": True}]}])
    before = page_count(sb)
    with pytest.raises(httpx.RemoteProtocolError):
        notion.pages.create(**PAGE_BODY)
    assert page_count(sb) == before
    assert sb.admin.requests()["by_status"]["dropped"] == 1


def test_commit_then_503_reports_the_committed_id(sb: SandboxServer, notion: Client) -> None:
    sb.admin.add_faults([{"method": "POST", "route": "/v1/pages", "faults": [{"commit_then": 503}]}])
    with pytest.raises(APIResponseError) as err:
        notion.pages.create(**PAGE_BODY)
    assert err.value.code == "service_unavailable" and err.value.status == 503
    created = err.value.additional_data["committed_resource_id"]
    assert err.value.additional_data["retry_guidance"]
    assert notion.pages.retrieve(page_id=created)["id"] == created


@pytest.mark.slow
def test_commit_then_timeout_and_drop_store_the_write(sb: SandboxServer) -> None:
    impatient = Client(auth="ntn_sandbox", base_url=sb.url, timeout_ms=100, retry=False)
    sb.admin.add_faults(
        [
            {
                "method": "POST",
                "route": "/v1/pages",
                "faults": [{"commit_then": "timeout", "latency_ms": 400}, {"commit_then": "drop"}],
            }
        ]
    )
    before = page_count(sb)
    with pytest.raises(RequestTimeoutError):
        impatient.pages.create(**PAGE_BODY)
    with pytest.raises(httpx.RemoteProtocolError):
        impatient.pages.create(**PAGE_BODY)
    time.sleep(0.4)  # let the timed-out request finish on the server side
    assert page_count(sb) == before + 2


def test_faults_on_the_source_routes(sb: SandboxServer) -> None:
    sb.admin.add_faults([{"method": "POST", "route": "/v1/graphql", "faults": [{"status": 502, "body": "html"}]}])
    res = httpx.post(sb.url + "/v1/graphql", json={"query": "{ teams { slug } }"})
    assert res.status_code == 502 and "cloudflare" in res.text
    assert sb.admin.requests()["by_route"]["POST /v1/graphql"] == 1


def test_latency_does_not_hold_the_state_lock() -> None:
    # Six requests must be inside their latency wait at once: a wait under the state lock would
    # serialise them and the barrier would never fill (its timeout only guards against a hang).
    barrier = threading.Barrier(6, timeout=30)

    def wait_together(seconds: float) -> None:
        barrier.wait()

    results: list[int] = []
    with SandboxServer(port=0, seed="empty", rate_limit=None, sleep=wait_together) as server:
        server.admin.settings(latency_ms=300)

        def call() -> None:
            results.append(Raw(server.url).call("GET", "/v1/users/me").status_code)

        threads = [threading.Thread(target=call) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert results == [200] * 6 and not barrier.broken


def test_bad_rules_are_refused(sb: SandboxServer) -> None:
    with pytest.raises(Exception) as err:
        sb.admin.add_faults([{"route": "/v1/pages", "faults": [{"status": 418}]}])
    assert "400" in str(err.value)
    rules: Any = sb.admin.faults()
    assert rules == []
