"""Run records: what each apply did, appended as one JSON line to the run log."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from reconcile.apply import ApplyResult
from reconcile.model import Config, Plan
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


def record_run(
    config: Config,
    plan: Plan,
    result: ApplyResult,
    *,
    api_calls: dict[str, Any],
    started: datetime,
    finished: datetime,
    command: str = "apply",
    saved: bool = False,
) -> dict[str, Any]:
    """Build the run record of one execution and append it to the config's run log."""
    from reconcile.pipeline import plan_fingerprint

    record = run_record(
        plan=plan,
        plan_id=plan_fingerprint(plan),
        result=result,
        started=started,
        finished=finished,
        api_calls=api_calls,
        config_path=config.path,
    )
    record["command"] = command
    record["from_saved_plan"] = saved
    record["resource_jobs"] = resource_jobs(config.jobs)
    append_run(config.run_log, record)
    return record


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


def owed_touches(path: str | os.PathLike[str]) -> frozenset[tuple[str, str]]:
    """(resource, page id) whose stamp a run failed to write and no later run wrote.

    A failed touch (or a failed update, into which a touch may have been merged) is owed; a later
    successful write of that page settles it.
    """
    owed: set[tuple[str, str]] = set()
    for record in read_runs(path):
        for outcome in record.get("outcomes", []):
            if outcome.get("action") not in ("touch", "update") or not outcome.get("page_id"):
                continue
            pair = (str(outcome.get("resource")), str(outcome["page_id"]))
            if outcome.get("status") == "failed":
                owed.add(pair)
            elif outcome.get("status") == "ok":
                owed.discard(pair)
    return frozenset(owed)


def applied_plan_ids(path: str | os.PathLike[str]) -> set[str]:
    return {r["plan_id"] for r in read_runs(path) if r.get("plan_id") and r.get("from_saved_plan")}


# ── history and per-job views (for `reconcile history`, the CSV and the HTML report) ─────────────


def resource_jobs(jobs: Iterable[Any]) -> dict[str, str]:
    """resource name -> job name, for the config's jobs (resource names are unique across jobs)."""
    return {r.name: job.name for job in jobs for r in job.resources}


def job_of(record: dict[str, Any], resource: str | None) -> str:
    """The job a resource of this run belongs to; records without the map had one job or are "?"."""
    mapping = record.get("resource_jobs") or {}
    if resource in mapping:
        return mapping[resource]
    jobs = record.get("jobs") or []
    return jobs[0] if len(jobs) == 1 else "?"


def job_split(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per job of one run: counts per action of the writes made, failures, warnings and outcomes."""
    out: dict[str, dict[str, Any]] = {
        job: {"counts": {}, "failed": 0, "warnings": [], "outcomes": []} for job in record.get("jobs") or []
    }
    for outcome in record.get("outcomes") or []:
        part = out.setdefault(job_of(record, outcome.get("resource")), empty_job_part())
        part["outcomes"].append(outcome)
        if outcome.get("status") == "ok":
            part["counts"][outcome["action"]] = part["counts"].get(outcome["action"], 0) + 1
        elif outcome.get("status") == "failed":
            part["failed"] += 1
    for warning in record.get("warnings") or []:
        out.setdefault(job_of(record, warning.get("resource")), empty_job_part())["warnings"].append(warning)
    return out


def empty_job_part() -> dict[str, Any]:
    return {"counts": {}, "failed": 0, "warnings": [], "outcomes": []}


def written_counts(record: dict[str, Any]) -> dict[str, int]:
    """action -> writes that succeeded in this run."""
    return {action: c.get("ok", 0) for action, c in (record.get("counts") or {}).items() if c.get("ok", 0)}


def history_row(record: dict[str, Any]) -> dict[str, Any]:
    """One run as a flat summary: when, which jobs, what was written, what failed, what it cost."""
    api = record.get("api_calls") or {}
    return {
        "started_at": record.get("started_at", ""),
        "jobs": list(record.get("jobs") or []),
        "written": written_counts(record),
        "failed": int(record.get("failed") or 0),
        "warnings": len(record.get("warnings") or []),
        "api_calls": int(api.get("total", 0)) if isinstance(api, dict) else 0,
        "duration_s": float(record.get("duration_s") or 0.0),
        "from_saved_plan": bool(record.get("from_saved_plan")),
    }


def unlinked_keys(record: dict[str, Any]) -> list[dict[str, str]]:
    """Keys still without a related page in this run (its `relation_target_missing` warnings)."""
    seen: dict[tuple[str, str], dict[str, str]] = {}
    for warning in record.get("warnings") or []:
        if warning.get("code") != "relation_target_missing":
            continue
        resource, key = warning.get("resource") or "", warning.get("key") or ""
        seen.setdefault(
            (resource, key),
            {"job": job_of(record, resource), "resource": resource, "key": key, "message": warning.get("message", "")},
        )
    return [seen[k] for k in sorted(seen)]
