"""The run log: what later runs learn from earlier ones."""

from __future__ import annotations

import json
from pathlib import Path

from reconcile.runlog import owed_touches


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
