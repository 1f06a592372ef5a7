"""The source stand-ins answer "what changed since": Planning Data's date filters as
digital-land.info applies them, and PlanX's updated_at moving as Hasura's trigger moves it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from notion_sandbox.planning_data import PlanningData
from notion_sandbox.planx import PlanxGraphQL

BASE = "http://127.0.0.1:8765/entity.json"


def entity(number: int, entry: str | None, end: str | None = None) -> dict[str, Any]:
    return {"entity": number, "name": f"E{number}", "dataset": "tree", "typology": "geography",
            "reference": f"R{number}", "prefix": "tree", "organisation-entity": 1,
            "entry-date": entry, "start-date": None, "end-date": end}  # fmt: skip


def found(query: str) -> list[int]:
    entities = [
        entity(1, "2025-01-27"),
        entity(2, "2025-01-28"),
        entity(3, "2025-01-29"),
        entity(4, None, "2025-01-29"),
    ]
    data = {"datasets": ["tree"], "entities": entities}
    status, _, body = PlanningData(data, today=lambda: date(2026, 1, 1)).handle(f"dataset=tree&{query}", BASE)
    assert status == 200, body
    return [e["entity"] for e in json.loads(body)["entities"]]


@pytest.mark.parametrize(
    ("query", "entities"),
    [
        ("entry_date_year=2025&entry_date_month=1&entry_date_day=28&entry_date_match=since", [3]),  # strictly after
        ("entry_date_year=2025&entry_date_month=1&entry_date_day=28&entry_date_match=before", [1]),
        ("entry_date_year=2025&entry_date_month=1&entry_date_day=28", [2]),  # no match: equal
        ("entry_date_year=2025&entry_date_month=1&entry_date_day=28&entry_date_match=match", [1, 2, 3, 4]),
        ("entry_date_year=2025&entry_date_month=13&entry_date_match=since", [1, 2, 3, 4]),  # no such date
        ("entry_date_year=2025&entry_date_match=since", [1, 2, 3]),  # from 1 January; a NULL never matches
        ("end_date_year=2025&end_date_month=1&end_date_day=28&entry_date_match=since", [4]),  # the one match for all
        ("entry_date_match=since", [1, 2, 3, 4]),
    ],
)
def test_planning_data_filters_by_date_as_digital_land_does(query: str, entities: list[int]) -> None:
    assert found(query) == entities


def test_a_bad_date_filter_is_a_422_naming_it() -> None:
    status, _, body = PlanningData().handle("dataset=tree&entry_date_year=soon&entry_date_match=lately", BASE)
    assert status == 422
    assert [d["loc"] for d in json.loads(body)["detail"]] == [
        ["query", "entry_date_match", 0],
        ["query", "entry_date_year"],
    ]


CHANGED = """query Changed($since: timestamptz!) {
  teams(where: {_or: [{updated_at: {_gte: $since}}, {flows: {updated_at: {_gte: $since}}}]}, order_by: {slug: asc}) {
    slug updated_at flows { slug updated_at }
  }
}"""


def changed_since(planx: PlanxGraphQL, since: str) -> list[str]:
    status, _, body = planx.handle(json.dumps({"query": CHANGED, "variables": {"since": since}}).encode())
    assert status == 200, body
    return [t["slug"] for t in json.loads(body)["data"]["teams"]]


def test_planx_moves_updated_at_of_what_changed_and_answers_changed_since() -> None:
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    planx = PlanxGraphQL(clock=lambda: now)
    since = "2026-05-01T00:00:00+00:00"
    assert changed_since(planx, since) == []
    snapshot = planx.get_snapshot()
    teams = {t["slug"]: t for t in snapshot["teams"]}
    teams["barnet"]["name"] = "Barnet, renamed"
    teams["camden"]["flows"][0]["name"] = "A flow, renamed"
    teams["lambeth"]["updated_at"] = "2026-04-30T00:00:00+00:00"  # a new time of its own is kept
    teams["lambeth"]["name"] = "Lambeth, renamed"
    planx.set_snapshot(snapshot)
    assert changed_since(planx, since) == ["barnet", "camden"]
    after = {t["slug"]: t for t in planx.get_snapshot()["teams"]}
    assert after["barnet"]["updated_at"] == "2026-05-01T12:00:00.000000+00:00"
    assert after["camden"]["updated_at"] == teams["camden"]["updated_at"]  # a flow is another table
    assert after["camden"]["flows"][0]["updated_at"] == "2026-05-01T12:00:00.000000+00:00"
    assert after["lambeth"]["updated_at"] == "2026-04-30T00:00:00+00:00"
    planx.set_snapshot(planx.get_snapshot())  # nothing changed: nothing moves
    assert {t["slug"]: t["updated_at"] for t in planx.get_snapshot()["teams"]} == {
        s: t["updated_at"] for s, t in after.items()
    }
