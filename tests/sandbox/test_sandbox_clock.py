"""The sandbox's clock as clients see it: the Date header is the workspace's time, and time can pass without a write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from notion_sandbox.server import SandboxServer
from tests.support.sandbox import Raw, title

COUNCILS_QUERY = "/v1/data_sources/{}/query"


def created(raw: Raw, ds: str) -> dict[str, Any]:
    body = {"parent": {"data_source_id": ds}, "properties": {"Name": {"title": title("Clocked")}}}
    answer = raw.call("POST", "/v1/pages", body)
    assert answer.status_code == 200, answer.text
    return dict(answer.json()) | {"date": parsedate_to_datetime(answer.headers["date"])}


def test_the_date_header_follows_the_virtual_clock_and_time_passes_on_request(planx_sb: SandboxServer) -> None:
    raw = Raw(planx_sb.url)
    ds = planx_sb.seed_info["databases"]["councils"]["data_source_id"]
    planx_sb.admin.settings(clock_step_ms=61_000)  # each write a minute and a second after the last
    first = created(raw, ds)
    second = created(raw, ds)
    stamp = datetime.fromisoformat(second["last_edited_time"].replace("Z", "+00:00"))
    assert stamp - datetime.fromisoformat(first["last_edited_time"].replace("Z", "+00:00")) >= timedelta(minutes=1)
    # The answer's Date is the workspace's time (to the second), not this machine's: an edit's
    # minute is never later than the Date of the answer that reported it.
    assert stamp <= second["date"] < stamp + timedelta(minutes=1)
    assert second["date"] > datetime.now(UTC) + timedelta(seconds=30)

    moved = planx_sb.admin.advance_clock(3_600_000)
    later = parsedate_to_datetime(raw.call("POST", COUNCILS_QUERY.format(ds), {}).headers["date"])
    assert later - second["date"] >= timedelta(minutes=59)
    assert moved["ok"] is True
    third = created(raw, ds)
    assert third["date"] >= later


def test_without_a_step_the_date_header_is_the_wall_clock(planx_sb: SandboxServer) -> None:
    raw = Raw(planx_sb.url)
    planx_sb.admin.advance_clock(3_600_000)  # nothing to move: the wall clock moves by itself
    shown = parsedate_to_datetime(raw.call("GET", "/v1/users/me").headers["date"])
    assert abs((shown - datetime.now(UTC)).total_seconds()) < 5
