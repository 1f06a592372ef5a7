"""Incremental sources without a network: the config, which read a run does and why, the cursor
sent and kept, where the run log keeps it, and the plan that archives nothing from a delta."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconcile.config import load_config_text
from reconcile.errors import ConfigError, SourceError
from reconcile.model import Incremental, Job, SourceRead
from reconcile.runlog import SourceCursor, source_cursor
from reconcile.source import changes_since
from reconcile.source.incremental import (
    EPOCH,
    cursor_params,
    cursor_variables,
    parse_cursor,
    reached_cursor,
    source_read,
)

REPO = Path(__file__).resolve().parents[2]
ENV = {"SERVICES_DB_ID": "0123456789abcdef0123456789abcdef", "COUNCILS_DB_ID": "fedcba9876543210fedcba9876543210"}
JOB = "planx-live-services"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def config_with(incremental: dict[str, Any], **source: Any) -> Any:
    document = yaml.safe_load((REPO / "mappings.yaml").read_text(encoding="utf-8"))
    document["jobs"][JOB]["source"]["incremental"] = incremental
    document["jobs"][JOB]["source"].update(source)
    return load_config_text(yaml.safe_dump(document), ENV)


def job(**spec: Any) -> Job:
    config = config_with({"cursor": "updated_at", "variable": "since", **spec})
    return config.job(JOB)  # type: ignore[no-any-return]


def stored(cursor: str | None = "2026-03-01T10:00:00.000000+00:00", **fields: Any) -> SourceCursor:
    base = SourceCursor(
        cursor=cursor, config_digest="d", run_id="r1", last_full_at="2026-02-28T00:00:00Z", incremental_runs=0
    )
    return dataclasses.replace(base, **fields)


# ── config ───────────────────────────────────────────────────────────────────────────────────────


def test_the_config_builds_the_incremental_settings() -> None:
    spec = job(buffer="10m", full_refresh={"every": 24, "after": "7d"}).source.incremental
    assert spec == Incremental(
        cursor="updated_at", variable="since", buffer_s=600.0, full_every=24, full_after_s=7 * 86400.0
    )


@pytest.mark.parametrize(
    ("spec", "extra", "message"),
    [
        ({"cursor": "updated_at"}, {}, "set incremental.variable"),
        (
            {"cursor": "updated_at", "variable": "since", "parameters": {"a": "iso"}},
            {},
            "incremental.parameters is for http",
        ),
        ({"cursor": "[", "variable": "since"}, {}, "invalid expression"),
        ({"cursor": "updated_at", "variable": "since", "buffer": "soon"}, {}, "not a duration"),
        (
            {"cursor": "updated_at", "variable": "since"},
            {"computed": {"rank": {"rank": {"order_by": "name"}}}},
            "cannot have computed",
        ),
    ],
)
def test_a_wrong_incremental_config_is_one_line(spec: dict[str, Any], extra: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_with(spec, **extra)
    assert message in str(caught.value)


# ── which read ───────────────────────────────────────────────────────────────────────────────────


def read(j: Job, cursor: SourceCursor | None, refresh: str = "auto") -> SourceRead | None:
    return source_read(j, cursor, refresh=refresh, config_digest="d", now=NOW)


def test_a_source_without_incremental_has_no_read_to_tell() -> None:
    config = load_config_text((REPO / "mappings.yaml").read_text(encoding="utf-8"), ENV)
    assert read(config.job(JOB), stored()) is None


def test_with_a_cursor_the_read_asks_for_the_changes_since_it_less_the_buffer() -> None:
    got = read(job(buffer="5m"), stored())
    assert got is not None
    assert (got.mode, got.since, got.cursor) == (
        "incremental",
        "2026-03-01T09:55:00.000000+00:00",
        "2026-03-01T10:00:00.000000+00:00",
    )


@pytest.mark.parametrize(
    ("spec", "cursor", "refresh", "why"),
    [
        ({}, None, "auto", "no cursor yet"),
        ({}, stored(cursor=None), "auto", "no cursor yet"),
        ({}, stored(), "full", "--refresh full"),
        ({}, stored(config_digest="other"), "incremental", "the config changed"),
        ({"full_refresh": {"every": 3}}, stored(incremental_runs=3), "auto", "full_every 3"),
        ({"full_refresh": {"after": "1d"}}, stored(last_full_at="2026-02-27T11:00:00Z"), "auto", "older than"),
        ({"full_refresh": {"after": "1d"}}, stored(last_full_at=None), "auto", "(never)"),
    ],
)
def test_a_full_read_says_why(spec: dict[str, Any], cursor: SourceCursor | None, refresh: str, why: str) -> None:
    got = read(job(**spec), cursor, refresh)
    assert got is not None and got.mode == "full" and got.since is None
    assert why in got.reason


def test_refresh_incremental_skips_the_periodic_full_read_only() -> None:
    j = job(full_refresh={"every": 3, "after": "1d"})
    got = read(j, stored(incremental_runs=5, last_full_at=None), "incremental")
    assert got is not None and got.mode == "incremental"
    assert read(j, stored(incremental_runs=2, last_full_at="2026-03-01T00:00:00Z")).mode == "incremental"  # type: ignore[union-attr]


# ── the request and the cursor ───────────────────────────────────────────────────────────────────


def test_http_parameters_carry_the_cursor_in_their_formats() -> None:
    spec = Incremental(
        cursor="c", params={"y": "%Y", "m": "%m", "d": "%d", "match": "since", "at": "iso", "day": "date", "s": "epoch"}
    )
    assert cursor_params(spec, "2026-03-01T09:55:00.000000+00:00") == {
        "y": "2026",
        "m": "03",
        "d": "01",
        "match": "since",
        "at": "2026-03-01T09:55:00.000000+00:00",
        "day": "2026-03-01",
        "s": "1772358900",
    }


def test_a_graphql_full_read_sends_the_epoch_and_an_incremental_one_the_cursor() -> None:
    j = job()
    assert changes_since(j.source, None).variables == {"since": EPOCH}
    assert changes_since(j.source, "2026-03-01T09:55:00.000000+00:00").variables == {
        "since": "2026-03-01T09:55:00.000000+00:00"
    }
    assert cursor_variables(Incremental(cursor="c", variable="t", format="epoch"), EPOCH) == {"t": 0}


def test_the_cursor_reached_is_the_latest_change_time_in_any_form() -> None:
    spec = Incremental(cursor="updated_at")
    records = [
        {"updated_at": "2026-03-01T10:00:00+01:00"},
        {"updated_at": "2026-03-01T09:30:00Z"},
        {"updated_at": "2026-02-01"},
        {"updated_at": None},
    ]
    assert reached_cursor(records, spec, None, "src") == "2026-03-01T09:30:00.000000+00:00"
    assert reached_cursor([], spec, "2026-03-02T00:00:00Z", "src") == "2026-03-02T00:00:00.000000+00:00"
    assert reached_cursor([], spec, None, "src") is None
    with pytest.raises(SourceError, match=r"record 1 from src: incremental\.cursor 'updated_at' gave 'yesterday'"):
        reached_cursor([{"updated_at": "2026-01-01"}, {"updated_at": "yesterday"}], spec, None, "src")
    assert parse_cursor("2025-01-28") == datetime(2025, 1, 28, tzinfo=UTC)


# ── the run log keeps it ─────────────────────────────────────────────────────────────────────────


def record(status: str, mode: str, cursor: str, started: str, digest: str = "d") -> dict[str, Any]:
    return {
        "record_type": "run",
        "run_id": started,
        "status": status,
        "started_at": started,
        "config_digest": digest,
        "jobs": [JOB],
        "source_reads": {JOB: {"mode": mode, "reason": "-", "cursor": cursor, "records": 1}},
    }


def test_only_successful_runs_move_the_cursor(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    lines = [
        record("ok", "full", "c1", "t1"),
        record("ok", "incremental", "c2", "t2"),
        record("failed", "incremental", "c3", "t3"),
        record("refused", "incremental", "c4", "t4"),
        record("ok", "incremental", "c5", "t5"),
        record("interrupted", "full", "c6", "t6"),
        record("crashed", "incremental", "c7", "t7"),
    ]
    log.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    assert source_cursor(log, JOB) == SourceCursor(
        cursor="c5", config_digest="d", run_id="t5", last_full_at="t1", incremental_runs=2
    )
    assert source_cursor(log, "another-job") is None
    assert source_cursor(tmp_path / "missing.jsonl", JOB) is None


# ── the plan of a delta ──────────────────────────────────────────────────────────────────────────


def test_an_incremental_plan_archives_nothing_and_min_records_does_not_refuse_it() -> None:
    from reconcile.desired import build_desired
    from reconcile.plan import JobInput, compute_plan
    from tests.unit.test_plan import NOW as PLAN_NOW
    from tests.unit.test_plan import actual, council_page, planx_job, service_page, team

    state = actual(
        services=[service_page("barnet", "s1", councils=("c1",)), service_page("camden", "s2")],
        councils=[council_page("barnet", "c1")],
    )
    job_ = planx_job()
    delta = SourceRead(mode="incremental", reason="r", since="s", cursor="c", records=0)
    for records in ([], [team("camden", flows=("Apply", "Object"))]):
        desired = build_desired(job_, records)
        full = compute_plan([JobInput(job_, desired, state)], now=PLAN_NOW, config_digest="d")
        incremental = compute_plan([JobInput(job_, desired, state, delta)], now=PLAN_NOW, config_digest="d")
        assert "archive" in [a.action for a in full.actions]
        assert [a.action for a in incremental.actions if a.action == "archive"] == []
        # what the delta holds is planned as a full read plans it
        sent = {r["slug"] for r in records}
        assert [a for a in full.actions if a.key in sent] == [a for a in incremental.actions if a.key in sent]
        assert not [d for d in incremental.diagnostics if d.code.startswith("guard")]
        assert incremental.source_reads == {job_.name: delta}


def test_the_report_lists_what_is_unlinked_as_of_the_last_full_read() -> None:
    from reconcile.dashboard import render_dashboard

    def unlinked(key: str) -> dict[str, Any]:
        message = f"no Councils page carries ExternalCustomerID {key!r}"
        return {"code": "relation_target_missing", "resource": "services", "key": key, "message": message}

    full = record("ok", "full", "c1", "2026-03-01T02:00:00.000Z")
    full["warnings"] = [unlinked("barnet"), unlinked("camden")]
    delta = record("ok", "incremental", "c2", "2026-03-02T02:00:00.000Z")
    delta["warnings"] = [unlinked("camden")]  # the only unlinked key among the records that changed
    html = render_dashboard([full, delta], run_log="runs.jsonl", generated_at="now")  # type: ignore[list-item]
    section = html[html.index(f'<section id="job-{JOB}">') :]
    assert "Still unlinked (as of the last full read, 01 Mar 02:00)" in section
    assert "<code>barnet</code>" in section and "<code>camden</code>" in section
    html = render_dashboard([full], run_log="runs.jsonl", generated_at="now")  # type: ignore[list-item]
    assert "<h3>Still unlinked</h3>" in html
