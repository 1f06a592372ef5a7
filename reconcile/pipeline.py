"""The stages wired together: config → source → desired → Notion read → plan → apply → run record.

Each function here only sequences the stages; the work is in the stage modules.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from reconcile.apply import ApplyResult, Executor, Progress
from reconcile.desired import build_desired
from reconcile.errors import ConfigError, PlanFileError, StalePlanError
from reconcile.model import (
    ActualState,
    Config,
    DesiredState,
    Diagnostic,
    Job,
    Plan,
    Record,
    ResourceState,
)
from reconcile.notion.schema import check_schema
from reconcile.plan import JobInput, compute_plan, page_digest
from reconcile.planfile import plan_to_dict
from reconcile.source import SourceRun, fetch_records

Fetch = Callable[[Job], list[Record]]


@dataclass
class PlanRun:
    """A plan (which holds everything apply needs) and the diagnostics the reads added to it."""

    plan: Plan
    diagnostics: list[Diagnostic] = field(default_factory=list)


def selected_jobs(config: Config, names: Sequence[str] | None) -> list[Job]:
    if not names:
        return list(config.jobs)
    known = {j.name for j in config.jobs}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(
            f"{config.path}: no job named {unknown[0]!r}", hint=f"jobs in this file: {', '.join(sorted(known))}"
        )
    return [config.job(n) for n in names]


def make_plan(
    config: Config,
    gateway: Any,
    *,
    now: datetime,
    job_names: Sequence[str] | None = None,
    allow_large_changes: bool = False,
    fetch: Fetch | None = None,
    owed_touches: frozenset[tuple[str, str]] = frozenset(),
) -> PlanRun:
    """Fetch every selected job's source, read Notion, and compute the plan."""
    sources = SourceRun()  # per-key lookup errors
    fetch = fetch or (lambda job: fetch_records(job, gateway=gateway, run=sources))
    inputs = []
    extra: list[Diagnostic] = []
    for job in selected_jobs(config, job_names):
        records = fetch(job)
        extra += sources.diagnostics
        sources.diagnostics.clear()
        desired = build_desired(job, records)
        actual, diags = read_job_state(gateway, job, desired)
        extra += diags
        inputs.append(JobInput(job=job, desired=desired, actual=actual))
    plan = compute_plan(
        inputs,
        now=now,
        config_digest=config.digest,
        allow_large_changes=allow_large_changes,
        owed_touches=owed_touches,
    )
    if extra:
        plan = Plan(**{**plan.__dict__, "diagnostics": (*extra, *plan.diagnostics)})
    return PlanRun(plan=plan, diagnostics=extra)


def read_job_state(gateway: Any, job: Job, desired: DesiredState) -> tuple[ActualState, list[Diagnostic]]:
    """Each resource's schema (checked against the mapping) and pages, in as few calls as possible."""
    states: dict[str, ResourceState] = {}
    diags: list[Diagnostic] = []
    for r in job.resources:
        data_source_id, schema = gateway.resolve(r.database, r.data_source)
        diags += check_schema(
            r,
            schema,
            data_source_name=gateway.data_source_name(data_source_id),
            related_data_sources=related_data_sources(gateway, job),
        )
        state = gateway.read_resource(r, data_source_id=data_source_id, schema=schema, include_trash=False)
        wanted = {p.key for p in desired.resources[r.name].pages}
        live = {p.key for p in state.pages}
        if r.mode != "update-only" and wanted - live:
            # Only when something would be created: a trashed page with that key is restored instead.
            trashed = read_trashed(gateway, r, data_source_id, schema)
            state = ResourceState(**{**state.__dict__, "trashed": tuple(p for p in trashed if p.key in wanted)})
        states[r.name] = state
    return ActualState(resources=states), diags


def read_trashed(gateway: Any, r: Any, data_source_id: str, schema: dict[str, dict]) -> tuple[Any, ...]:
    if hasattr(gateway, "read_trashed"):
        return gateway.read_trashed(r, data_source_id=data_source_id, schema=schema)
    return gateway.read_resource(r, data_source_id=data_source_id, schema=schema, include_trash=True).trashed


def related_data_sources(gateway: Any, job: Job) -> dict[str, str]:
    """Data source id of every resource of the job (resolve is cached: no extra calls)."""
    return {r.name: gateway.resolve(r.database, r.data_source)[0] for r in job.resources}


def plan_fingerprint(plan: Plan) -> str:
    body = json.dumps(plan_to_dict(plan), sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()[:24]


def execute(plan: Plan, gateway: Any, *, workers: int, progress: Progress | None = None) -> ApplyResult:
    return Executor(gateway, workers=workers, progress=progress).run(plan)


# ── saved plans ──────────────────────────────────────────────────────────────────────────────────


def check_saved_plan(
    plan: Plan, config: Config, *, now: datetime, applied_ids: set[str], max_age_s: float | None = None
) -> None:
    """Refuse a saved plan made from another config, too old, or already applied."""
    if plan.config_digest != config.digest:
        raise PlanFileError(
            "the saved plan was made from a different config",
            hint=f"{config.path} changed since; run `reconcile plan` again",
        )
    created = datetime.fromisoformat(plan.created_at.replace("Z", "+00:00"))
    age = (now.astimezone(UTC) - created).total_seconds()
    limit = config.max_plan_age_s if max_age_s is None else max_age_s
    if age > limit:
        raise StalePlanError(
            f"the saved plan is {age / 3600:.1f} h old, older than the maximum of {limit / 3600:.1f} h",
            hint="run `reconcile plan -o FILE` again",
        )
    if plan_fingerprint(plan) in applied_ids:
        raise PlanFileError("this plan was already applied", hint="run `reconcile plan` for a new one")


def saved_plan_states(config: Config, plan: Plan, gateway: Any) -> dict[str, ResourceState]:
    """The live pages of the plan's resources: the stale check's evidence. The plan itself says
    where to write; this only checks that Notion still agrees with it."""
    states: dict[str, ResourceState] = {}
    by_name = {r.name: r for job in config.jobs for r in job.resources}
    for info in plan.resources:
        if info.name not in by_name:
            raise PlanFileError(f"the saved plan names resource {info.name!r}, which the config does not have")
        r = by_name[info.name]
        data_source_id, schema = gateway.resolve(r.database, r.data_source)
        if data_source_id != info.data_source_id:
            raise StalePlanError(f"{r.name}: the database now resolves to another data source")
        live_type = schema.get(info.match_property, {}).get("type")
        if live_type != info.match_type:
            raise StalePlanError(f"{r.name}: the match property {info.match_property!r} changed since the plan")
        if any(a.resource == r.name for a in plan.actions):
            states[r.name] = gateway.read_resource(r, data_source_id=data_source_id, schema=schema)
    return states


def stale_actions(plan: Plan, states: dict[str, ResourceState], gateway: Any) -> list[str]:
    """Why each action of the plan no longer fits Notion (empty when the plan is still good)."""
    problems = []
    live_by_id = {p.page_id: p for s in states.values() for p in s.pages}
    keys = {name: {p.key for p in s.pages} for name, s in states.items()}
    for a in plan.actions:
        if a.resource not in states:
            continue
        live_keys = keys[a.resource]
        if a.action == "create":
            if a.key in live_keys:
                problems.append(f"{a.resource} {a.key!r}: a page with this key exists now")
            continue
        if a.action == "restore":
            if a.key in live_keys:
                problems.append(f"{a.resource} {a.key!r}: a live page with this key exists now")
            elif not gateway.retrieve_page(a.page_id).get("in_trash"):
                problems.append(f"{a.resource} {a.key!r}: page {a.page_id} left the trash since the plan was made")
            continue
        page = live_by_id.get(a.page_id or "")
        if page is None:
            problems.append(f"{a.resource} {a.key!r}: page {a.page_id} is gone or was moved to the trash")
        elif a.digest and page_digest(page) != a.digest:
            problems.append(f"{a.resource} {a.key!r}: the page changed in Notion since the plan was made")
    return problems


def assert_fresh(plan: Plan, states: dict[str, ResourceState], gateway: Any) -> None:
    problems = stale_actions(plan, states, gateway)
    if problems:
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        raise StalePlanError(f"saved plan is stale: {problems[0]}{more}", hint="run `reconcile plan` again")
