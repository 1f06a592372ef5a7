"""Run records for the history and report tests, shaped like reconcile.runlog.run_record's."""

from __future__ import annotations

from typing import Any


def run(
    started: str,
    *,
    outcomes: list[tuple[str, str, str, str]] = (),  # (action, resource, key, status)
    warnings: list[tuple[str, str, str]] = (),  # (code, resource, key)
    jobs: tuple[str, ...] = ("planx-live-services",),
    resource_jobs: dict[str, str] | None = None,
    api_total: int = 7,
) -> dict[str, Any]:
    counts: dict[str, dict[str, int]] = {}
    for action, _, _, status in outcomes:
        counts.setdefault(action, {"ok": 0, "failed": 0, "skipped": 0})[status] += 1
    return {
        "record_version": 1,
        "started_at": started,
        "finished_at": started,
        "duration_s": 1.5,
        "jobs": list(jobs),
        "counts": counts,
        "failed": sum(1 for o in outcomes if o[3] == "failed"),
        "outcomes": [
            {
                "action": a,
                "resource": r,
                "key": k,
                "status": s,
                **({"error_code": "validation_error"} if s == "failed" else {}),
            }
            for a, r, k, s in outcomes
        ],
        "warnings": [
            {"code": c, "resource": r, "key": k, "message": f"no councils page carries ExternalCustomerID {k!r}"}
            for c, r, k in warnings
        ],
        "api_calls": {"total": api_total, "by_route": {}},
        **({"resource_jobs": resource_jobs} if resource_jobs else {}),
    }


def two_job_runs() -> list[dict[str, Any]]:
    jobs = ("planx-live-services", "planning-data")
    owners = {"services": "planx-live-services", "councils": "planx-live-services", "pd-councils": "planning-data"}
    return [
        run(
            "2026-01-01T02:00:00.000Z",
            outcomes=[("create", "services", "barnet", "ok"), ("create", "services", "camden", "ok")],
            warnings=[("relation_target_missing", "services", "camden")],
        ),
        run(
            "2026-01-02T02:00:00.000Z",
            jobs=jobs,
            resource_jobs=owners,
            outcomes=[
                ("update", "services", "barnet", "ok"),
                ("touch", "councils", "barnet", "ok"),
                ("update", "pd-councils", "BNE", "failed"),
                ("update", "pd-councils", "CMD", "ok"),
            ],
            warnings=[("relation_target_missing", "services", "camden"), ("key_needed_strip", "pd-councils", "CMD")],
        ),
    ]
