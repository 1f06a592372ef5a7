"""Planning and rendering in-process: build_desired + compute_plan over synthetic in-memory state.

No I/O is timed: the source records and the Notion state are built first, then CPU time
(time.process_time) and peak traced memory (tracemalloc) of planning are measured, then rendering.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from notion_sandbox.planx import synthetic_snapshot
from notion_sandbox.seed import COUNCILS_DB_ID, SERVICES_DB_ID
from reconcile.config import load_config
from reconcile.content.blocks import markdown_hash
from reconcile.desired import build_desired
from reconcile.model import ActualState, DesiredState, Job, PageState, Plan, ResourceState
from reconcile.plan import JobInput, compute_plan
from reconcile.planfile import plan_to_dict
from reconcile.render import render_text
from reconcile.values import normalise

NOW = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
SERVICES_SCHEMA = {
    "Name": "title",
    "Description": "rich_text",
    "Service Count": "number",
    "ExternalCustomerID": "rich_text",
    "Councils": "relation",
    "Content Hash": "rich_text",
}
COUNCILS_SCHEMA = {
    "Name": "title",
    "ExternalCustomerID": "rich_text",
    "Integration Last Updated": "date",
    "PlanX Live Services": "relation",
}
ENV = {"SERVICES_DB_ID": SERVICES_DB_ID, "COUNCILS_DB_ID": COUNCILS_DB_ID, "PLANX_GRAPHQL_URL": "http://127.0.0.1:1"}


@dataclass(frozen=True)
class Measured:
    """One in-memory planning case."""

    case: str
    actions: int
    plan_cpu_s: float
    plan_peak_mb: float
    render_cpu_s: float
    render_chars: int


@dataclass(frozen=True)
class PlanningResult:
    records: int
    cases: tuple[Measured, ...]

    @property
    def worst_plan_cpu_s(self) -> float:
        return max(c.plan_cpu_s for c in self.cases)

    @property
    def worst_peak_mb(self) -> float:
        return max(c.plan_peak_mb for c in self.cases)

    @property
    def worst_render_cpu_s(self) -> float:
        return max(c.render_cpu_s for c in self.cases)


def planx_job(slugs: list[str], workdir: Path) -> Job:
    """The repo's PlanX job, with the allowlist set to these councils."""
    from benchmarks.scenarios import write_mappings

    path = write_mappings(workdir / "mappings.planning.yaml", slugs)
    return load_config(str(path), ENV).job("planx-live-services")


def source_records(count: int) -> list[dict[str, Any]]:
    """What the GraphQL query returns for the synthetic snapshot: online flows only, by name."""
    records = []
    for team in synthetic_snapshot(count)["teams"]:
        flows = sorted((f for f in team["flows"] if f["status"] == "online"), key=lambda f: f["name"])
        records.append(
            {
                "slug": team["slug"],
                "name": team["name"],
                "flows": [{"name": f["name"], "slug": f["slug"]} for f in flows],
            }
        )
    return records


def page_id(kind: int, number: int) -> str:
    return str(uuid.UUID(int=(kind << 64) | number))


def council_pages(slugs: list[str]) -> tuple[PageState, ...]:
    return tuple(
        PageState(
            page_id=page_id(1, i),
            url=f"https://www.notion.so/{page_id(1, i).replace('-', '')}",
            key=slug,
            raw_key=slug,
            values={"ExternalCustomerID": slug, "Integration Last Updated": "2026-02-01T03:00:00.000Z"},
            last_edited_time="2026-02-01T03:00:00.000Z",
        )
        for i, slug in enumerate(slugs)
    )


def service_pages(desired: DesiredState, councils: tuple[PageState, ...], stale: set[str]) -> tuple[PageState, ...]:
    """Live services pages equal to the desired ones, except those in `stale` (older Description)."""
    council_ids = {p.key: p.page_id for p in councils}
    pages = []
    for i, page in enumerate(desired.resources["services"].pages):
        values = {
            name: normalise(SERVICES_SCHEMA[name], raw) for name, raw in page.values.items() if name != "Councils"
        }
        values["Councils"] = tuple(sorted(council_ids[k] for k in page.values["Councils"]))
        values["Content Hash"] = markdown_hash(page.body or "")  # the body as written (not read: as desired)
        if page.key in stale:
            values["Description"] = "An older list of services"
        pages.append(
            PageState(
                page_id=page_id(2, i),
                url=f"https://www.notion.so/{page_id(2, i).replace('-', '')}",
                key=page.key,
                raw_key=page.key,
                values=values,
                last_edited_time="2026-02-01T03:00:00.000Z",
                icon=page.icon,
            )
        )
    return tuple(pages)


def actual_state(services: tuple[PageState, ...], councils: tuple[PageState, ...]) -> ActualState:
    return ActualState(
        resources={
            "services": ResourceState("services", "db-services", "ds-services", SERVICES_SCHEMA, services),
            "councils": ResourceState("councils", "db-councils", "ds-councils", COUNCILS_SCHEMA, councils),
        }
    )


def traced(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, CPU seconds, peak traced MB) of one call; tracing slows it, so CPU is not reported."""
    gc.collect()
    tracemalloc.start()
    started = time.process_time()
    value = fn()
    cpu = time.process_time() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return value, cpu, peak / 2**20


def cpu_time(fn: Callable[[], Any]) -> tuple[Any, float]:
    gc.collect()
    started = time.process_time()
    value = fn()
    return value, time.process_time() - started


def planning_benchmark(count: int, workdir: Path | None = None) -> PlanningResult:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="reconcile-plan-bench-") as tmp:
        job = planx_job([f"council-{n:05d}" for n in range(1, count + 1)], Path(workdir or tmp))
    records = source_records(count)
    slugs = [r["slug"] for r in records]
    councils = council_pages(slugs)
    desired = build_desired(job, records)
    cases = {
        "all creates": actual_state((), councils),
        "no change": actual_state(service_pages(desired, councils, set()), councils),
        "10% changed": actual_state(service_pages(desired, councils, set(slugs[3::10])), councils),
    }
    measured = [measure_case(case, job, records, actual) for case, actual in cases.items()]
    return PlanningResult(records=count, cases=tuple(measured))


def measure_case(case: str, job: Job, records: list[dict[str, Any]], actual: ActualState) -> Measured:
    def plan_it() -> Plan:
        desired = build_desired(job, records)
        return compute_plan([JobInput(job=job, desired=desired, actual=actual)], now=NOW, config_digest="bench")

    plan, plan_cpu = cpu_time(plan_it)
    _, _, peak = traced(plan_it)
    text, render_cpu = cpu_time(lambda: render_text(plan_to_dict(plan), color=False))
    return Measured(
        case=case,
        actions=len(plan.actions),
        plan_cpu_s=plan_cpu,
        plan_peak_mb=peak,
        render_cpu_s=render_cpu,
        render_chars=len(text),
    )
