"""The benchmark's floor arithmetic and request-log classification (benchmarks/floors.py, scenarios.py)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.floors import (
    DataSourcePages,
    capped_walk,
    query_pages_floor,
    ratio,
    scenario_floor,
)
from benchmarks.scenarios import DATA_SOURCES, classify, tenth, with_new_flow, without

START = datetime(2026, 1, 1, 0, 0, tzinfo=UTC)


def created_times(count: int, step_ms: int, start: datetime = START) -> list[str]:
    return [
        (start + timedelta(milliseconds=i * step_ms)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" for i in range(count)
    ]


@pytest.mark.parametrize(("pages", "queries"), [(0, 1), (1, 1), (100, 1), (101, 2), (12_000, 120)])
def test_query_floor_is_ceil_pages_over_100_and_at_least_one(pages: int, queries: int) -> None:
    assert query_pages_floor(pages) == queries


def test_a_walk_under_the_cap_is_one_window_without_overlap() -> None:
    walk = capped_walk(created_times(10_000, 334))
    assert (walk.queries, walk.overlap_pages, walk.windows) == (100, 0, 1)


def test_a_walk_past_the_cap_reads_the_boundary_minute_twice() -> None:
    # 1 page a second: 60 pages a minute. Page 9,999 (0-based) is at 9,999 s = minute 166,
    # which starts at page 9,960, so 40 pages are served again by the second window.
    walk = capped_walk(created_times(12_000, 1000))
    assert walk.overlap_pages == 40
    assert walk.windows == 2
    assert walk.queries == 100 + query_pages_floor(12_000 - 9_960)


def test_a_capped_window_within_one_minute_cannot_be_walked_by_time() -> None:
    with pytest.raises(ValueError, match="must split"):
        capped_walk(created_times(200, 1), cap=100)


def test_a_small_cap_needs_several_windows() -> None:
    walk = capped_walk(created_times(300, 1000), cap=100, page_size=10)
    # windows start at pages 0, 60, 120, 180, 240 (minute starts); each serves up to 100 pages.
    assert walk.windows == 5
    assert walk.queries == 10 + 10 + 10 + 10 + 6
    assert walk.overlap_pages == 4 * 40


def test_scenario_floor_adds_schema_queries_trash_overlap_and_writes() -> None:
    services = DataSourcePages("ds-s", tuple(created_times(150, 1000)), trashed=250, would_create=True)
    councils = DataSourcePages("ds-c", tuple(created_times(12_000, 1000)), trashed=7, would_create=False)
    floor = scenario_floor([services, councils], creates=3, updates=2, touches=5)
    assert floor.schema == 4
    assert floor.queries == 2 + 120
    assert floor.trash == 3  # services only: councils would not create
    assert floor.overlap == 100 + query_pages_floor(2_040) - 120
    assert floor.readback == 1  # services created pages: read back once (no pages after given: 1 query)
    assert floor.writes == 10
    assert floor.total == floor.reads + 10
    assert floor.per_data_source == {"ds-s": 2 + 3 + 1, "ds-c": 100 + 21}


def test_a_run_that_creates_reads_the_data_source_back_after_its_creates() -> None:
    after = tuple(created_times(153, 1000))
    services = DataSourcePages(
        "ds-s", tuple(created_times(150, 1000)), trashed=0, would_create=True, after_created=after
    )
    councils = DataSourcePages("ds-c", tuple(created_times(10, 1000)), trashed=0, would_create=False, after_created=())
    floor = scenario_floor([services, councils], creates=3, updates=0, touches=3)
    assert floor.readback == 2  # 153 pages after the run: ceil(153 / 100)
    assert floor.reads == 4 + (2 + 1) + 1 + 2
    assert floor.per_data_source == {"ds-s": 2 + 1 + 2, "ds-c": 1}
    assert scenario_floor([services, councils], creates=0, updates=1, touches=1).readback == 0


def test_pages_read_by_id_count_as_reads() -> None:
    councils = DataSourcePages("ds-c", tuple(created_times(20, 1000)), trashed=0, would_create=False)
    plain = scenario_floor([councils], creates=0, updates=2, touches=2)
    back_to_back = scenario_floor([councils], creates=0, updates=2, touches=2, rereads=2)
    assert back_to_back.reads == plain.reads + 2 and back_to_back.writes == plain.writes


def test_ratio_of_nothing_to_nothing_is_one() -> None:
    assert ratio(0, 0) == 1.0
    assert ratio(3, 0) == float("inf")
    assert ratio(6, 4) == 1.5


def log_entry(method: str, route: str, path: str, status: int = 200) -> dict:
    return {"method": method, "route": route, "path": path, "status": status}


def test_classify_counts_by_kind_and_leaves_out_the_source() -> None:
    services, councils = DATA_SOURCES["services"], DATA_SOURCES["councils"]
    entries = [
        log_entry("POST", "POST /v1/graphql", "/v1/graphql"),
        log_entry("GET", "GET /v1/databases/{id}", "/v1/databases/x"),
        log_entry("GET", "GET /v1/data_sources/{id}", f"/v1/data_sources/{services}"),
        log_entry("POST", "POST /v1/data_sources/{id}/query", f"/v1/data_sources/{services}/query"),
        log_entry("POST", "POST /v1/data_sources/{id}/query", f"/v1/data_sources/{councils}/query", 429),
        log_entry("POST", "POST /v1/pages", "/v1/pages"),
        log_entry("PATCH", "PATCH /v1/pages/{id}", "/v1/pages/aaaaaaaa-0000-4000-8000-000000000001"),
        log_entry("PATCH", "PATCH /v1/pages/{id}", "/v1/pages/bbbbbbbb000040008000000000000002"),
        log_entry("GET", "GET /v1/pages/{id}/properties/{property_id}", "/v1/pages/b/properties/x"),
    ]
    page_ds = {"aaaaaaaa000040008000000000000001": services, "bbbbbbbb000040008000000000000002": councils}
    calls = classify({"total": len(entries), "entries": entries}, page_ds)
    assert (calls.schema, calls.queries, calls.creates, calls.updates, calls.touches) == (2, 2, 1, 1, 1)
    assert (calls.relation_reads, calls.rate_limited, calls.total) == (1, 1, 8)
    assert calls.queries_by_data_source == {services: 1, councils: 1}


def test_classify_refuses_an_overflowed_log() -> None:
    with pytest.raises(RuntimeError, match="overflowed"):
        classify({"total": 5, "entries": []}, {})


def snapshot(count: int) -> dict:
    return {"teams": [{"id": i, "slug": f"c{i}", "name": f"C {i}", "flows": []} for i in range(1, count + 1)]}


def test_source_changes_pick_a_tenth_and_touch_only_those_teams() -> None:
    source = snapshot(20)
    slugs = [t["slug"] for t in source["teams"]]
    picked = tenth(slugs, 3)
    assert picked == ["c4", "c14"]
    changed = with_new_flow(source, picked)
    assert [len(t["flows"]) for t in changed["teams"]].count(1) == 2
    assert source["teams"][3]["flows"] == []  # the original is left alone
    assert [t["slug"] for t in without(changed, picked)["teams"]] == [s for s in slugs if s not in picked]
    assert tenth(["only"], 7) == ["only"]
