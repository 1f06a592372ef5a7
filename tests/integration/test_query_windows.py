"""Crossing the query cap by created_time windows, against the sandbox with a small cap (issue 15).

The sandbox stops a query at `query_cap` results (Notion: 10,000) with request_status incomplete.
The gateway continues each capped window from the minute of its last page, so every page is read,
each page is kept once, and the queries sent are exactly those of the capped walk computed from
the sandbox's own creation times (benchmarks/floors.py), never more.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from benchmarks.floors import capped_walk
from notion_sandbox.server import SandboxServer
from reconcile.model import MatchKey, NotionSettings, PropertyMapping, ResourceConfig
from reconcile.notion.gateway import NotionGateway

SERVICES_DB = "5e541ce5-0000-4000-8000-000000000001"
SERVICES_DS = "5e541ce5-0000-4000-8000-000000000002"
QUERY = "POST /v1/data_sources/{id}/query"
SERVICES = ResourceConfig(
    name="services",
    database=SERVICES_DB,
    data_source=None,
    mode="upsert",
    match=MatchKey("ExternalCustomerID", "slug"),
    properties=(PropertyMapping("Name", "name"),),
)


@pytest.fixture
def sb() -> Iterator[SandboxServer]:
    with SandboxServer(port=0, seed="planx", rate_limit=None) as server:
        yield server


def page(key: str) -> dict[str, Any]:
    return {
        "parent": {"type": "data_source_id", "data_source_id": SERVICES_DS},
        "properties": {
            "Name": {"title": [{"text": {"content": key.title()}}]},
            "ExternalCustomerID": {"rich_text": [{"text": {"content": key}}]},
        },
    }


def live_services(sb: SandboxServer) -> dict[str, str]:
    """Page id → created_time of every live services page, from the sandbox's own state."""
    pages = sb.admin.state()["pages"].values()
    return {
        p["id"]: p["created_time"]
        for p in pages
        if (p.get("parent") or {}).get("data_source_id") == SERVICES_DS and not p["in_trash"]
    }


def read_all(sb: SandboxServer) -> tuple[list[str], int]:
    """The page ids the gateway read for the services resource, and the queries it sent."""
    g = NotionGateway("ntn_sandbox", NotionSettings(base_url=sb.url, rate_limit=0))
    ds, schema = g.resolve(SERVICES_DB, None)
    sb.admin.clear_requests()
    state = g.read_resource(SERVICES, data_source_id=ds, schema=schema)
    return [p.page_id for p in state.pages], sb.admin.requests()["by_route"].get(QUERY, 0)


@pytest.mark.parametrize(("cap", "step_ms"), [(30, 4000), (25, 1000), (7, 20000)])
def test_every_page_is_read_once_past_a_small_cap(sb: SandboxServer, cap: int, step_ms: int) -> None:
    # 4 s per write: 15 pages a minute, so a window of 30 ends inside a minute it shares with the
    # next; 1 s: a minute (60 pages) holds more than a window of 25 and must be split on the key.
    sb.admin.settings(clock_step_ms=step_ms)
    sb.admin.bulk_pages([page(f"council-{i:03d}") for i in range(200)])
    sb.admin.settings(query_cap=cap)
    expected = live_services(sb)

    read, queries = read_all(sb)

    assert len(read) == len(set(read))  # kept once, though the boundary minute is read twice
    assert set(read) == set(expected)  # no page missed
    if step_ms * cap >= 2 * 60_000:  # no minute holds a window: the walk costs exactly the floor's
        assert queries == capped_walk(expected.values(), cap=cap).queries
