"""Admin API, request log, settings, seeds, state persistence, the token bucket and the stepping clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from notion_client import Client

from notion_sandbox.errors import NotionError
from notion_sandbox.ids import Clock
from notion_sandbox.ratelimit import TokenBucket
from notion_sandbox.seed import COUNCILS
from notion_sandbox.server import SandboxServer
from tests.support.sandbox import PARENT_PAGE, Raw, plain, row, title


def test_health_and_unknown_admin_route(sb: SandboxServer) -> None:
    assert sb.admin.health()["ok"] is True
    assert httpx.get(sb.url + "/_sandbox/nothing").status_code == 404


def test_request_log_counts_routes_and_statuses_but_not_admin(sb: SandboxServer, notion: Client, raw: Raw) -> None:
    page = notion.pages.create(parent={"page_id": PARENT_PAGE}, properties={"title": title("x")})
    notion.pages.retrieve(page_id=page["id"])
    notion.pages.update(page_id=page["id"], icon=None)
    raw.call("GET", "/v1/nope")
    sb.admin.state()
    log = sb.admin.requests()
    assert log["total"] == 4
    assert log["by_route"] == {
        "POST /v1/pages": 1,
        "GET /v1/pages/{id}": 1,
        "PATCH /v1/pages/{id}": 1,
        "GET /v1/nope": 1,
    }
    assert log["by_status"] == {"200": 3, "400": 1}
    assert log["entries"][0]["route"] == "POST /v1/pages" and log["entries"][1]["path"] == f"/v1/pages/{page['id']}"
    assert set(log["entries"][0]) == {"method", "route", "path", "status", "request_id", "at"}
    sb.admin.clear_requests()
    assert sb.admin.requests()["total"] == 0


def test_reset_state_dump_and_load(sb: SandboxServer, notion: Client) -> None:
    info = sb.admin.reset("planx")
    assert info["env"]["COUNCILS_DB_ID"] == "c0c11c00-0000-4000-8000-000000000001"
    dump = sb.admin.state()
    assert len(dump["pages"]) == 11
    sb.admin.reset("empty")
    assert len(sb.admin.state()["pages"]) == 1
    sb.admin.put_state(dump)
    assert notion.databases.retrieve(database_id=info["env"]["COUNCILS_DB_ID"])["id"] == info["env"]["COUNCILS_DB_ID"]


def test_settings_change_rate_and_cap(sb: SandboxServer) -> None:
    current = sb.admin.settings(rate_limit=2, burst=5, latency_ms=0, query_cap=50, clock_step_ms=0)
    assert current == {
        "rate_limit": 2.0,
        "burst": 5,
        "latency_ms": 0,
        "query_cap": 50,
        "clock_step_ms": 0,
        "query_lag_ms": 0,
        "chaos": 0.0,
        "chaos_seed": 0,
        "chaos_max_retry_after": 60,
        "chaos_commit_delay_ms": 2000,
        "workspace_rpm": 0,
    }
    assert sb.admin.settings(rate_limit=None)["rate_limit"] is None
    with pytest.raises(Exception, match="400"):
        sb.admin.settings(colour="red")


def test_state_file_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with SandboxServer(port=0, seed="empty", state_file=str(state)) as first:
        notion = Client(auth="ntn_sandbox", base_url=first.url, retry=False)
        page = notion.pages.create(parent={"page_id": PARENT_PAGE}, properties={"title": title("kept")})
    assert page["id"] in json.loads(state.read_text())["pages"]
    with SandboxServer(port=0, seed="planx", state_file=str(state)) as second:
        notion = Client(auth="ntn_sandbox", base_url=second.url, retry=False)
        assert plain(notion.pages.retrieve(page_id=page["id"]), "title") == "kept"


def test_planx_seed(planx_sb: SandboxServer) -> None:
    env = planx_sb.seed_info["env"]
    assert env["NOTION_BASE_URL"] == planx_sb.url and env["PLANX_GRAPHQL_URL"] == planx_sb.graphql_url
    notion = Client(auth=env["NOTION_TOKEN"], base_url=env["NOTION_BASE_URL"], retry=False)
    councils_db = notion.databases.retrieve(database_id=env["COUNCILS_DB_ID"])
    assert councils_db["data_sources"] == [{"id": "c0c11c00-0000-4000-8000-000000000002", "name": "Councils"}]
    assert councils_db["parent"] == {"type": "page_id", "page_id": PARENT_PAGE}
    services = notion.data_sources.retrieve(data_source_id="5e541ce5-0000-4000-8000-000000000002")
    assert list(services["properties"]) == ["Name", "Description", "Service Count", "ExternalCustomerID", "Councils"]
    councils = notion.data_sources.retrieve(data_source_id="c0c11c00-0000-4000-8000-000000000002")["properties"]
    assert list(councils) == ["Name", "ExternalCustomerID", "Integration Last Updated", "PlanX Live Services"]
    link = councils["PlanX Live Services"]["relation"]
    assert link["dual_property"] == {
        "synced_property_name": "Councils",
        "synced_property_id": services["properties"]["Councils"]["id"],
    }
    pages = notion.data_sources.query(data_source_id="c0c11c00-0000-4000-8000-000000000002")["results"]
    got = [(p["id"], plain(p, "Name"), plain(p, "ExternalCustomerID") or None) for p in pages]
    assert got == COUNCILS
    assert notion.data_sources.query(data_source_id=services["id"])["results"] == []
    assert notion.pages.retrieve(page_id=PARENT_PAGE)["properties"]["title"]["title"][0]["plain_text"] == "PlanX CRM"
    # The dual relation of the seed works both ways.
    barnet = COUNCILS[0][0]
    snapshot = row(notion, services["id"], "Barnet", Councils={"relation": [{"id": barnet}]})
    assert notion.pages.retrieve(page_id=barnet)["properties"]["PlanX Live Services"]["relation"] == [
        {"id": snapshot["id"]}
    ]


def test_token_bucket_average_rate_and_burst() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=3, burst=3, clock=lambda: now[0])
    for _ in range(3):
        bucket.check("t")
    with pytest.raises(NotionError) as err:
        bucket.check("t")
    assert err.value.status == 429 and err.value.headers == {"Retry-After": "1"}
    now[0] = 1 / 3
    bucket.check("t")
    bucket.check("other-token")
    now[0] = 100.0
    for _ in range(3):
        bucket.check("t")
    with pytest.raises(NotionError):
        bucket.check("t")
    slow = TokenBucket(rate=0.2, burst=1, clock=lambda: 0.0)
    slow.check("t")
    with pytest.raises(NotionError) as err:
        slow.check("t")
    assert err.value.additional_data == {"rate_limit_reason": "public_api_request_rate_limit", "retry_after": "5"}
    TokenBucket(rate=None, clock=lambda: 0.0).check("t")


def test_clock_steps_per_write_and_times_are_rounded_to_the_minute() -> None:
    clock = Clock(wall=lambda: datetime(2025, 10, 5, 10, 53, 45, 123000, tzinfo=UTC))
    assert clock.tick() == datetime(2025, 10, 5, 10, 53, 45, 123000, tzinfo=UTC)
    clock.set_step(30_000)
    stamps = [clock.tick() for _ in range(3)]
    assert [s.second for s in stamps] == [45, 15, 45]
    with SandboxServer(port=0, seed="empty", clock=clock) as server:
        notion = Client(auth="ntn_sandbox", base_url=server.url, retry=False)
        page = notion.pages.create(parent={"page_id": PARENT_PAGE}, properties={"title": title("t")})
        assert page["created_time"].endswith(":00.000Z")
        assert page["url"] == f"https://www.notion.so/t-{page['id'].replace('-', '')}"


def test_stand_in_data_through_the_admin_api(sb: SandboxServer) -> None:
    snapshot = sb.admin.planx()
    assert snapshot
    sb.admin.put_planx(snapshot)
    assert sb.admin.planx() == snapshot
    data = sb.admin.planning_data()
    sb.admin.put_planning_data(data)
    assert sb.admin.planning_data() == data


def test_a_missing_stand_in_module_answers_501(sb: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "notion_sandbox.planning_data", None)
    res = httpx.get(sb.url + "/entity.json?dataset=tree")
    assert res.status_code == 501
    assert sb.admin.requests()["by_route"] == {"GET /entity.json": 1}
