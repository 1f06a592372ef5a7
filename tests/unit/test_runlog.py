"""The run log: what later runs learn from earlier ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from reconcile.plan import iso_time
from reconcile.runlog import owed_touches, recent_writes


def write(path: Path, *outcomes_per_run: list[dict]) -> None:
    path.write_text("".join(json.dumps({"outcomes": o}) + "\n" for o in outcomes_per_run), encoding="utf-8")


def test_a_failed_stamp_is_owed_until_a_later_run_writes_that_page(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    failed = {"action": "touch", "resource": "councils", "key": "barnet", "page_id": "p1", "status": "failed"}
    ok = {**failed, "status": "ok"}
    write(log, [failed, {**failed, "page_id": "p2", "status": "ok"}])
    assert owed_touches(log) == frozenset({("councils", "p1")})
    write(log, [failed], [ok])
    assert owed_touches(log) == frozenset()
    assert owed_touches(tmp_path / "missing.jsonl") == frozenset()


def test_creates_and_archives_never_owe_a_stamp(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    write(log, [{"action": "create", "resource": "services", "key": "x", "page_id": "p9", "status": "failed"}])
    assert owed_touches(log) == frozenset()


# ── recent writes: what the read stage checks by id while Notion's index may lag ─────────────────

NOW = datetime(2026, 3, 11, 12, 0, 0, tzinfo=UTC)


def run_at(finished: datetime | None, *outcomes: dict, started: datetime | None = None) -> dict:
    record: dict = {"outcomes": list(outcomes)}
    if finished is not None:
        record["finished_at"] = iso_time(finished)
    if started is not None:
        record["started_at"] = iso_time(started)
    return record


def outcome(action: str, page_id: str, status: str = "ok", resource: str = "services") -> dict:
    return {"action": action, "resource": resource, "key": page_id, "page_id": page_id, "status": status}


def test_recent_writes_say_what_the_last_write_left_each_page_as(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    earlier, just_now = NOW - timedelta(seconds=100), NOW - timedelta(seconds=5)
    runs = [
        run_at(
            earlier, outcome("create", "p1"), outcome("create", "p2"), outcome("archive", "p3"), outcome("create", "p6")
        ),
        run_at(
            just_now,
            outcome("update", "p1"),
            outcome("archive", "p2"),
            outcome("restore", "p3"),
            outcome("touch", "c1", resource="councils"),
            outcome("create", "p4", status="failed"),  # an ambiguous create that may have landed
            outcome("update", "p5", status="skipped"),  # never sent
        ),
    ]
    log.write_text("".join(json.dumps(r) + "\n" for r in runs), encoding="utf-8")

    assert recent_writes(log, NOW, 120) == {
        "services": {"p1": "edited", "p2": "trashed", "p3": "live", "p4": "edited", "p6": "live"},
        "councils": {"c1": "edited"},
    }
    assert recent_writes(log, NOW, 60) == {  # p6 was written before the window
        "services": {"p1": "edited", "p2": "trashed", "p3": "live", "p4": "edited"},
        "councils": {"c1": "edited"},
    }


def test_a_nightly_run_has_no_recent_writes_and_a_zero_window_trusts_the_queries(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    last_night = run_at(NOW - timedelta(hours=20), outcome("create", "p1"))
    log.write_text(json.dumps(last_night) + "\n", encoding="utf-8")
    assert recent_writes(log, NOW, 120) == {}
    assert recent_writes(log, NOW + timedelta(hours=-20, seconds=3), 0) == {}
    assert recent_writes(tmp_path / "missing.jsonl", NOW, 120) == {}


def test_a_stopped_run_counts_from_its_start_and_clocks_may_disagree(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    runs = [
        run_at(None, outcome("create", "p1"), started=NOW - timedelta(seconds=30)),  # no finish written
        run_at(NOW + timedelta(seconds=20), outcome("create", "p2")),  # another machine, its clock ahead
        run_at(NOW + timedelta(hours=3), outcome("create", "p3")),  # a fake clock far away: not recent
        {"finished_at": "not a time", "outcomes": [outcome("create", "p4")]},
    ]
    log.write_text("".join(json.dumps(r) + "\n" for r in runs), encoding="utf-8")
    assert recent_writes(log, NOW, 120) == {"services": {"p1": "live", "p2": "live"}}
