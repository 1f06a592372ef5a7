"""The per-page summary of a plan or an apply as CSV, for audit (`--csv FILE` on plan and apply).

One row per action: which job and resource, the page's key, what was planned, where the page is,
which properties change, and (after an apply) whether the write succeeded and Notion's error code.
Property values are not written: the CSV is an audit trail of what was touched, not a data export.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from reconcile.model import Action, ApplyResult, Outcome, Plan, SchemaChange

__all__ = ["COLUMNS", "plan_rows", "rows_to_csv", "write_csv"]

COLUMNS = (
    "job",
    "resource",
    "key",
    "action",
    "page_url",
    "page_id",
    "changed_properties",
    "status",
    "error_code",
    "message",
)

# A cell starting with one of these is a formula to a spreadsheet; a key must never run as one.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def plan_rows(plan: Plan, resource_jobs: Mapping[str, str], result: ApplyResult | None = None) -> list[dict[str, str]]:
    """One row per action; status is "planned" without a result, else the write's outcome."""
    outcomes = outcomes_by_action(result.outcomes) if result is not None else {}
    rows = [schema_row(c, resource_jobs, plan, result) for c in plan.schema_changes]
    return rows + [
        action_row(a, resource_jobs, outcomes.get((a.action, a.resource, a.key)), result) for a in plan.actions
    ]


def schema_row(
    change: SchemaChange, resource_jobs: Mapping[str, str], plan: Plan, result: ApplyResult | None
) -> dict[str, str]:
    """A schema change (made before every page write): action `schema_<change>`, the property."""
    # The schema requests go first and a refused one stops the run: any page write means they landed
    # (a result from before schema outcomes were kept says no more).
    landed = result is not None and (bool(result.outcomes) or not plan.actions)
    kept = (
        [
            s.status
            for s in result.schema
            if (s.resource, s.property, s.change) == (change.resource, change.property, change.change)
        ]
        if result is not None
        else []
    )
    status = "planned" if result is None else kept[0] if kept else "ok" if landed else "not_attempted"
    return dict.fromkeys(COLUMNS, "") | {
        "job": resource_jobs.get(change.resource, ""),
        "resource": change.resource,
        "action": f"schema_{change.change}",
        "changed_properties": change.property,
        "status": status,
    }


def outcomes_by_action(outcomes: Iterable[Outcome]) -> dict[tuple[str, str, str], Outcome]:
    return {(o.action, o.resource, o.key): o for o in outcomes}


def action_row(
    action: Action, resource_jobs: Mapping[str, str], outcome: Outcome | None, result: ApplyResult | None
) -> dict[str, str]:
    # An action with no outcome after an apply was never attempted (e.g. the run stopped early).
    status = "planned" if result is None else (outcome.status if outcome else "not_attempted")
    return {
        "job": resource_jobs.get(action.resource, ""),
        "resource": action.resource,
        "key": action.key,
        "action": action.action,
        "page_url": action.url or (outcome.page_url if outcome else None) or "",
        "page_id": (outcome.page_id if outcome and outcome.page_id else action.page_id) or "",
        "changed_properties": "; ".join(c.name for c in action.changes),
        "status": status,
        "error_code": (outcome.error_code if outcome else None) or "",
        "message": (outcome.message if outcome else None) or "",
    }


def safe_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def rows_to_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: safe_cell(str(row.get(c, ""))) for c in COLUMNS})
    return buffer.getvalue()


def write_csv(path: str | os.PathLike[str], rows: Iterable[Mapping[str, Any]]) -> None:
    target = Path(path)
    if target.parent != Path():
        target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(rows_to_csv(rows), encoding="utf-8")
