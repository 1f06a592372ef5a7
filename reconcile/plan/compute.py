"""compute_plan: desired state + actual state + now → Plan, the actions in the order apply runs them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from reconcile.model import Action, Diagnostic, Job, Plan, ResourceConfig, ResourceInfo, ResourceState
from reconcile.plan.common import JobInput, iso_time
from reconcile.plan.guards import guard_diagnostics, overridden
from reconcile.plan.pages import (
    ResourceIndex,
    allowlist_keys,
    block_duplicate_records,
    desired_values,
    grouped_missing_pages,
    index_resource,
    missing_actions,
    page_action,
)
from reconcile.plan.touches import owed_touch_actions, touch_actions


def compute_plan(
    inputs: Iterable[JobInput],
    *,
    now: datetime,
    config_digest: str,
    allow_large_changes: bool = False,
    owed_touches: frozenset[tuple[str, str]] = frozenset(),
) -> Plan:
    """The plan for every job: what apply will do, exactly.

    `owed_touches` are (resource, page id) pairs whose stamp an earlier run failed to write (from
    the run log): they are stamped now, since nothing else would ever trigger them again.
    """
    actions: list[Action] = []
    diagnostics: list[Diagnostic] = []
    infos: list[ResourceInfo] = []
    record_counts: dict[str, int] = {}
    overrides: list[str] = []
    names = []
    for item in inputs:
        names.append(item.job.name)
        record_counts[item.job.name] = item.desired.record_count
        job_plan = plan_job(item, now=now, owed_touches=owed_touches)
        guard = guard_diagnostics(item, job_plan.removals, job_plan.infos)
        if guard and (allow_large_changes or item.job.guards.allow_large_changes):
            guard = [overridden(d) for d in guard]
            overrides += [d.message for d in guard]
        actions += job_plan.actions
        diagnostics += job_plan.diagnostics + guard
        infos += job_plan.infos
    return Plan(
        created_at=iso_time(now),
        config_digest=config_digest,
        jobs=tuple(names),
        resources=tuple(infos),
        actions=tuple(actions),
        diagnostics=tuple(diagnostics),
        record_counts=record_counts,
        guard_overrides=tuple(overrides),
    )


@dataclass
class _JobPlan:
    actions: list[Action]
    diagnostics: list[Diagnostic]
    infos: list[ResourceInfo]
    removals: dict[str, int]


def plan_job(item: JobInput, *, now: datetime, owed_touches: frozenset[tuple[str, str]] = frozenset()) -> _JobPlan:
    job, desired, actual = item.job, item.desired, item.actual
    diags: list[Diagnostic] = []
    managed_keys = allowlist_keys(job)
    indexes = {r.name: index_resource(r, actual.resources[r.name], diags) for r in job.resources}
    reported: set[tuple[str | None, str, str]] = set()
    for r in job.resources:
        block_duplicate_records(r, desired, indexes[r.name], diags, reported)
    creating = {
        r.name: {p.key for p in desired.resources[r.name].pages if p.key not in indexes[r.name].live}
        if r.mode != "update-only"
        else set()
        for r in job.resources
    }
    by_resource: dict[str, list[Action]] = defaultdict(list)
    unlinked: set[tuple[str, str]] = set()
    removals: dict[str, int] = {}
    for r in job.resources:
        state = actual.resources[r.name]
        index = indexes[r.name]
        for page in desired.resources[r.name].pages:
            if page.key in index.blocked:
                continue
            values = desired_values(job, r, page, state, indexes, creating, diags, unlinked)
            if values is None:
                continue
            action = page_action(r, page.key, values, state, index, diags, unlinked)
            if action is not None:
                by_resource[r.name].append(action)
        missing = missing_actions(r, desired, state, index, managed_keys, now)
        removals[r.name] = len(missing)
        by_resource[r.name] += missing
    touch_actions(job, actual, by_resource, now)
    owed_touch_actions(job, actual, by_resource, now, owed_touches)
    diags = grouped_missing_pages(diags)
    infos = [resource_info(r, actual.resources[r.name], indexes[r.name], by_resource[r.name]) for r in job.resources]
    ordered = [a for r in apply_order(job) for a in sorted_actions(by_resource[r.name])]
    return _JobPlan(actions=touches_first(ordered), diagnostics=diags, infos=infos, removals=removals)


# ── the order apply runs ─────────────────────────────────────────────────────────────────────────


def apply_order(job: Job) -> list[ResourceConfig]:
    """Relation targets before the resources that point at them, so new pages exist when linked."""
    order: list[ResourceConfig] = []
    seen: set[str] = set()

    def visit(r: ResourceConfig, path: tuple[str, ...]) -> None:
        if r.name in seen or r.name in path:
            return
        for m in r.properties:
            if m.relation is not None and m.relation != r.name:
                visit(job.resource(m.relation), (*path, r.name))
        seen.add(r.name)
        order.append(r)

    for r in job.resources:
        visit(r, ())
    return order


KIND_ORDER = {"create": 0, "restore": 1, "update": 2, "archive": 3, "touch": 4}


def sorted_actions(actions: list[Action]) -> list[Action]:
    return sorted(actions, key=lambda a: (KIND_ORDER[a.action], a.key))


def touches_first(actions: list[Action]) -> list[Action]:
    """The actions with the stand-alone touches moved to the front: the order apply runs them.

    A touch records that a related page changed in this run. Sent last, it is lost for good when
    the run dies before it: the next plan sees that page already changed and owes no touch (the
    run log only knows the stamps that were tried and failed). Sent first, a stamp may land in a
    run whose other writes then fail, and the run that completes them stamps again: at least
    once, never lost. Touches only name existing pages, so nothing they need is created later.
    A touch merged into an update of the same page runs with that update.
    """
    return [a for a in actions if a.action == "touch"] + [a for a in actions if a.action != "touch"]


def resource_info(r: ResourceConfig, state: ResourceState, index: ResourceIndex, actions: list[Action]) -> ResourceInfo:
    touched = {a.key for a in actions}
    return ResourceInfo(
        name=r.name,
        database_id=state.database_id,
        data_source_id=state.data_source_id,
        match_property=r.match.property,
        match_type=state.schema.get(r.match.property, ""),
        managed=len(index.live),
        unchanged=len([k for k in index.live if k not in touched]),
        mode=r.mode,
    )
