"""Realism switches: indexing lag, late commits, chaos, overlapping writes, workspace throttling, settle.

Time-based behaviour runs on an injected clock (``monotonic=``) wherever the sandbox reads one; late commits land on
real timers, so their tests use ``settle``, which also waits for requests a fault's latency still holds (never
asserting a duration, never polling).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from notion_client import Client
from notion_client.errors import RequestTimeoutError

from notion_sandbox.server import SandboxServer
from tests.support.sandbox import TOKEN, Raw, realism_from_env, title

COUNCILS_DS = "c0c11c00-0000-4000-8000-000000000002"
BARNET = "c0c11c00-0000-4000-8001-000000000001"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def lagging(clock: FakeClock) -> Iterator[SandboxServer]:
    with SandboxServer(port=0, seed="planx", query_lag_ms=2000, monotonic=clock) as server:
        yield server


def client(server: SandboxServer) -> Client:
    return Client(auth=TOKEN, base_url=server.url, retry=False)


def names(notion: Client, **query: Any) -> list[str]:
    found = notion.data_sources.query(data_source_id=COUNCILS_DS, **query)["results"]
    return ["".join(t["plain_text"] for t in p["properties"]["Name"]["title"]) for p in found]


def searched(notion: Client, text: str) -> list[str]:
    return [r["id"] for r in notion.search(query=text, filter={"property": "object", "value": "page"})["results"]]


# ---------------------------------------------------------------- indexing lag


def test_a_created_page_reaches_queries_and_search_only_after_the_lag(lagging: Any, clock: FakeClock) -> None:
    notion = client(lagging)
    page = notion.pages.create(
        parent={"data_source_id": COUNCILS_DS}, properties={"Name": {"title": title("Lagging Council")}}
    )
    assert notion.pages.retrieve(page_id=page["id"])["id"] == page["id"]  # by id: at once
    assert "Lagging Council" not in names(notion)
    assert searched(notion, "Lagging") == []
    clock.advance(1.9)
    assert "Lagging Council" not in names(notion)
    clock.advance(0.2)
    assert "Lagging Council" in names(notion)
    assert searched(notion, "Lagging") == [page["id"]]


def test_updates_trash_and_restore_lag_too(lagging: Any, clock: FakeClock) -> None:
    notion = client(lagging)
    notion.pages.update(page_id=BARNET, properties={"Name": {"title": title("Barnet Renamed")}})
    assert "London Borough of Barnet" in names(notion) and "Barnet Renamed" not in names(notion)
    filtered = {"filter": {"property": "Name", "title": {"equals": "London Borough of Barnet"}}}
    assert names(notion, **filtered) == ["London Borough of Barnet"]  # filters see the old value too
    clock.advance(2.1)
    assert "Barnet Renamed" in names(notion)
    notion.pages.update(page_id=BARNET, in_trash=True)
    assert "Barnet Renamed" in names(notion)
    assert names(notion, in_trash=True) == []
    clock.advance(2.1)
    assert "Barnet Renamed" not in names(notion)
    notion.pages.update(page_id=BARNET, in_trash=False)
    assert "Barnet Renamed" not in names(notion)
    clock.advance(2.1)
    assert "Barnet Renamed" in names(notion)


def test_settle_ends_the_lag_at_once(lagging: Any) -> None:
    notion = client(lagging)
    notion.pages.create(parent={"data_source_id": COUNCILS_DS}, properties={"Name": {"title": title("Settled")}})
    assert lagging.admin.realism()["lagging_pages"] == 1
    assert lagging.admin.settle() == {"ok": True, "answered_requests": 0, "landed_commits": 0, "indexed_pages": 1}
    assert "Settled" in names(notion)


def test_no_lag_by_default(planx_sb: Any) -> None:
    notion = client(planx_sb)
    notion.pages.create(parent={"data_source_id": COUNCILS_DS}, properties={"Name": {"title": title("At once")}})
    assert "At once" in names(notion)


# ---------------------------------------------------------------- late commits


@pytest.mark.parametrize(("then", "status"), [(504, 504), (503, 503), ("timeout", 504)])
def test_a_late_commit_lands_after_the_error(planx_sb: Any, then: Any, status: int) -> None:
    rule = {"method": "POST", "route": "/v1/pages", "faults": [{"commit_then": then, "commit_delay_ms": 60000}]}
    planx_sb.admin.add_faults([rule])
    raw = Raw(planx_sb.url)
    body = {"parent": {"data_source_id": COUNCILS_DS}, "properties": {"Name": {"title": title("Late")}}}
    answer = raw.call("POST", "/v1/pages", body)
    assert answer.status_code == status
    assert "committed_resource_id" not in str(answer.json())  # nothing was committed when the client was answered
    assert "Late" not in names(client(planx_sb))
    assert planx_sb.admin.realism()["pending_commits"] == 1
    assert planx_sb.admin.settle()["landed_commits"] == 1
    assert names(client(planx_sb)).count("Late") == 1


def test_settle_waits_for_a_write_held_back_by_latency(planx_sb: Any) -> None:
    # The client gives up on a slow PATCH; the sandbox still holds it and applies it when the hold
    # ends. settle returns only after that: a check right after it sees the write.
    rule = {"method": "PATCH", "route": "/v1/pages/{id}", "faults": [{"latency_ms": 1500}]}
    planx_sb.admin.add_faults([rule])
    impatient = Client(auth=TOKEN, base_url=planx_sb.url, timeout_ms=300, retry=False)
    with pytest.raises(RequestTimeoutError):
        impatient.pages.update(page_id=BARNET, properties={"Name": {"title": title("Held")}})
    assert planx_sb.admin.settle()["answered_requests"] == 1
    assert "Held" in names(client(planx_sb))


def test_a_dropped_late_commit_lands_when_settled(planx_sb: Any) -> None:
    rule = {"method": "PATCH", "route": "/v1/pages/{id}", "faults": [{"commit_then": "drop", "commit_delay_ms": 60000}]}
    planx_sb.admin.add_faults([rule])
    notion = client(planx_sb)
    with pytest.raises(Exception):  # noqa: B017 - httpx's RemoteProtocolError: no answer at all
        notion.pages.update(page_id=BARNET, properties={"Name": {"title": title("Dropped")}})
    assert planx_sb.admin.realism()["pending_commits"] == 1
    assert "Dropped" not in names(notion)
    assert planx_sb.admin.settle()["landed_commits"] == 1
    assert "Dropped" in names(notion)


def test_a_reset_cancels_pending_commits(planx_sb: Any) -> None:
    rule = {"method": "POST", "route": "/v1/pages", "faults": [{"commit_then": 504, "commit_delay_ms": 60000}]}
    planx_sb.admin.add_faults([rule])
    body = {"parent": {"data_source_id": COUNCILS_DS}, "properties": {"Name": {"title": title("Never")}}}
    assert Raw(planx_sb.url).call("POST", "/v1/pages", body).status_code == 504
    planx_sb.admin.reset("planx")
    assert planx_sb.admin.realism()["pending_commits"] == 0
    assert planx_sb.admin.settle()["landed_commits"] == 0


def test_commit_delay_needs_commit_then(planx_sb: Any) -> None:
    with pytest.raises(Exception, match="400"):
        planx_sb.admin.add_faults([{"route": "/v1/pages", "faults": [{"status": 504, "commit_delay_ms": 10}]}])


# ---------------------------------------------------------------- chaos


def statuses(seed: int, rate: float, count: int = 200) -> list[int]:
    with SandboxServer(port=0, seed="planx", chaos=rate, chaos_seed=seed, chaos_max_retry_after=3) as server:
        raw = Raw(server.url)
        return [raw.call("GET", f"/v1/pages/{BARNET}").status_code for _ in range(count)]


@pytest.mark.slow
def test_chaos_is_deterministic_for_a_seed() -> None:
    first, again, other = statuses(7, 0.2), statuses(7, 0.2), statuses(8, 0.2)
    assert first == again
    assert first != other
    assert set(first) <= {200, 429, 502, 504}
    assert 10 < sum(s != 200 for s in first) < 80  # about a fifth of 200
    assert statuses(7, 0.0) == [200] * 200


def test_chaos_faults_look_like_notions(planx_sb: Any) -> None:
    planx_sb.admin.settings(chaos=1.0, chaos_seed=3, chaos_max_retry_after=5)
    raw = Raw(planx_sb.url)
    seen: dict[int, Any] = {}
    for _ in range(60):
        answer = raw.call("GET", f"/v1/pages/{BARNET}")
        seen.setdefault(answer.status_code, answer)
    assert set(seen) == {429, 502, 504}
    limited = seen[429]
    assert 1 <= int(limited.headers["retry-after"]) <= 5
    assert limited.json()["additional_data"]["retry_after"] == limited.headers["retry-after"]
    assert seen[502].headers["content-type"].startswith("text/html")
    assert seen[504].json()["code"] == "gateway_timeout"
    assert set(planx_sb.admin.realism()["chaos_faults"]) == {"rate_limited", "bad_gateway_html", "gateway_timeout"}


def test_chaos_late_commits_land_after_their_504(planx_sb: Any) -> None:
    planx_sb.admin.settings(chaos=1.0, chaos_seed=1, chaos_commit_delay_ms=60000)
    raw = Raw(planx_sb.url)
    body = {"parent": {"data_source_id": COUNCILS_DS}, "properties": {"Name": {"title": title("Chaotic")}}}
    for _ in range(40):
        raw.call("POST", "/v1/pages", body)
    planx_sb.admin.settings(chaos=0.0)
    drawn = planx_sb.admin.realism()["chaos_faults"].get("commit_then_504", 0)
    assert drawn > 0
    before = names(client(planx_sb)).count("Chaotic")
    assert planx_sb.admin.settle()["landed_commits"] == drawn
    assert names(client(planx_sb)).count("Chaotic") == before + drawn


def test_overlapping_writes_to_one_page_conflict_with_chaos_on() -> None:
    # The first PATCH is held inside its latency until the second one has been answered: the
    # sandbox's sleep is the test's, so the overlap is certain and nothing is timed.
    inside, release = threading.Event(), threading.Event()

    def held(seconds: float) -> None:
        inside.set()
        release.wait(30)  # a hang guard only

    with SandboxServer(port=0, seed="planx", rate_limit=None, sleep=held) as sb:
        sb.admin.settings(chaos=0.000001)  # conflicts on, spontaneous faults practically never
        slow = {"method": "PATCH", "route": "/v1/pages/{id}", "faults": [{"latency_ms": 1500}]}
        sb.admin.add_faults([slow])
        body = {"properties": {"Name": {"title": title("First")}}}
        first: list[int] = []
        thread = threading.Thread(
            target=lambda: first.append(Raw(sb.url).call("PATCH", f"/v1/pages/{BARNET}", body).status_code)
        )
        thread.start()
        assert inside.wait(30)
        second = Raw(sb.url).call("PATCH", f"/v1/pages/{BARNET}", {"properties": {"Name": {"title": title("Second")}}})
        release.set()
        thread.join()
    assert first == [200]
    assert second.status_code == 409
    assert second.json()["message"] == "Conflict occurred while saving. Please try again."


def test_a_pending_late_commit_is_a_write_in_flight(planx_sb: Any) -> None:
    planx_sb.admin.settings(chaos=0.000001)
    late = {"method": "PATCH", "route": "/v1/pages/{id}", "faults": [{"commit_then": 504, "commit_delay_ms": 60000}]}
    planx_sb.admin.add_faults([late])
    raw = Raw(planx_sb.url)
    body = {"properties": {"Name": {"title": title("Again")}}}
    assert raw.call("PATCH", f"/v1/pages/{BARNET}", body).status_code == 504
    assert raw.call("PATCH", f"/v1/pages/{BARNET}", body).status_code == 409
    planx_sb.admin.settle()
    assert raw.call("PATCH", f"/v1/pages/{BARNET}", body).status_code == 200


def test_without_chaos_overlapping_writes_both_land(planx_sb: Any) -> None:
    late = {"method": "PATCH", "route": "/v1/pages/{id}", "faults": [{"commit_then": 504, "commit_delay_ms": 60000}]}
    planx_sb.admin.add_faults([late])
    raw = Raw(planx_sb.url)
    body = {"properties": {"Name": {"title": title("Again")}}}
    assert raw.call("PATCH", f"/v1/pages/{BARNET}", body).status_code == 504
    assert raw.call("PATCH", f"/v1/pages/{BARNET}", body).status_code == 200


# ---------------------------------------------------------------- workspace throttling


def test_the_workspace_budget_is_shared_and_answers_a_long_retry_after(clock: FakeClock) -> None:
    tokens = ("ntn_a", "ntn_b")
    with SandboxServer(port=0, seed="planx", workspace_rpm=4, tokens=tokens, monotonic=clock) as server:
        a, b = Raw(server.url), Raw(server.url)
        assert [a.call("GET", "/v1/users/me", token="ntn_a").status_code for _ in range(2)] == [200, 200]
        assert [b.call("GET", "/v1/users/me", token="ntn_b").status_code for _ in range(2)] == [200, 200]
        clock.advance(15)
        limited = a.call("GET", "/v1/users/me", token="ntn_a")
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "45"
        body = limited.json()
        assert body["additional_data"] == {
            "rate_limit_reason": "public_api_space_request_rate_limit",
            "retry_after": "45",
        }
        assert b.call("GET", "/v1/users/me", token="ntn_b").status_code == 429
        clock.advance(45)
        assert a.call("GET", "/v1/users/me", token="ntn_a").status_code == 200


# ---------------------------------------------------------------- settings and the test-suite switch


def test_realism_settings_are_checked(planx_sb: Any) -> None:
    for bad in ({"chaos": 1.5}, {"query_lag_ms": -1}, {"chaos_max_retry_after": 0}, {"chaos": "lots"}):
        with pytest.raises(Exception, match="400"):
            planx_sb.admin.settings(**bad)
    assert planx_sb.admin.settings(query_lag_ms=250)["query_lag_ms"] == 250


def test_realism_from_env_names_the_realistic_sandbox() -> None:
    assert realism_from_env({}) == {}
    assert realism_from_env({"RECONCILE_TEST_REALISM": "0"}) == {}
    chosen = realism_from_env({"RECONCILE_TEST_REALISM": "1"})
    assert chosen["query_lag_ms"] == 2000 and chosen["chaos"] == 0.05
    assert isinstance(chosen["chaos_seed"], int) and chosen["chaos_commit_delay_ms"] > 0
    with SandboxServer(port=0, seed="planx", **chosen) as server:
        assert {k: server.admin.settings()[k] for k in chosen} == chosen
