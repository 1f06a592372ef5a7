"""Run records: what each apply did, appended as one JSON line to the run log."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from reconcile.apply import ApplyResult
from reconcile.model import Plan
from reconcile.plan import iso_time

RUN_RECORD_VERSION = 1


def run_record(
    *,
    plan: Plan,
    plan_id: str,
    result: ApplyResult,
    started: datetime,
    finished: datetime,
    api_calls: dict[str, Any],
    config_path: str,
) -> dict[str, Any]:
    """The JSON record of one apply (no property values beyond keys and ids; never the token)."""
    return {
        "record_version": RUN_RECORD_VERSION,
        "started_at": iso_time(started),
        "finished_at": iso_time(finished),
        "duration_s": round((finished - started).total_seconds(), 3),
        "config": config_path,
        "config_digest": plan.config_digest,
        "plan_id": plan_id,
        "jobs": list(plan.jobs),
        "planned": plan.summary,
        "counts": result.counts(),
        "failed": len(result.failed),
        "outcomes": [o.as_dict() for o in result.outcomes],
        "warnings": [
            {"code": d.code, "resource": d.resource, "key": d.key, "message": d.message}
            for d in plan.diagnostics
            if d.severity == "warning"
        ],
        "errors": [
            {"code": d.code, "resource": d.resource, "key": d.key, "message": d.message, "urls": list(d.urls)}
            for d in plan.diagnostics
            if d.severity == "error"
        ],
        "record_counts": dict(plan.record_counts),
        "api_calls": api_calls,
    }


def append_run(path: str | os.PathLike[str], record: dict[str, Any]) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, sort_keys=True) + "\n")


def read_runs(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every readable record of the run log, oldest first (a torn last line is skipped)."""
    target = Path(path)
    if not target.exists():
        return []
    runs = []
    for line in target.read_text(encoding="utf-8").splitlines():
        try:
            runs.append(json.loads(line))
        except ValueError:
            continue
    return runs


def applied_plan_ids(path: str | os.PathLike[str]) -> set[str]:
    return {r["plan_id"] for r in read_runs(path) if r.get("plan_id") and r.get("from_saved_plan")}
