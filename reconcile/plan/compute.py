"""compute_plan: desired state + actual state + now → Plan, the actions in the order apply runs them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from reconcile.gcpause import without_cycle_collection
from reconcile.model import Action, Diagnostic, Job, Plan, ResourceConfig, ResourceInfo, ResourceState, SourceRead
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
from reconcile.plan.touches import (
    merge_targets,
    notion_owed_stamps,
    owed_stamps,
    place_stamps,
    ref_of,
    stamp_requests,
)


@without_cycle_collection
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
    reads: dict[str, SourceRead] = {}
    overrides: list[str] = []
    names = []
    jobs = tuple(inputs)  # walked again for the relation labels
    for item in jobs:
        names.append(item.job.name)
        record_counts[item.job.name] = item.desired.record_count
        if item.source_read is not None:
            reads[item.job.name] = item.source_read
        job_plan = plan_job(item, now=now, owed_touches=owed_touches)
        guard = guard_diagnostics(item, job_plan.removals, job_plan.infos)
        if guard and (allow_large_changes or item.job.guards.allow_large_changes):
            guard = [overridden(d) for d in guard]
            overrides += [d.message for d in guard]
        actions += shifted(job_plan.actions, len(actions))
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
        labels=relation_labels(actions, jobs),
        source_reads=reads,
    )


def page_titles(item: JobInput, ids: set[str]) -> dict[str, str]:
    """page id -> title (or key, for a page without a title) of the pages among `ids` the job read."""
    out: dict[str, str] = {}
    for state in item.actual.resources.values():
        labels = state.users.labels if state.users is not None else {}  # people: "Name <email>"
        out |= {i: label for i, label in labels.items() if i in ids}
        for page in (*state.pages, *state.trashed):
            if page.page_id in ids:
                out[page.page_id] = page.title or page.key or ""
    return {k: v for k, v in out.items() if v}


def relation_labels(actions: Iterable[Action], inputs: Sequence[JobInput]) -> dict[str, str]:
    """The titles of the pages the plan's relation values name: what people read instead of ids
    (looked up for those ids only: a map of every page read would be a workspace's worth of titles)."""
    ids = {
        item
        for a in actions
        for c in a.changes
        if c.type in ("relation", "people")
        for value in (c.before, c.after)
        for item in (value if isinstance(value, tuple | list) else ())
        if isinstance(item, str)
    }
    titles: dict[str, str] = {}
    for job in inputs if ids else ():
        titles |= page_titles(job, ids)
    return {i: titles[i] for i in sorted(ids) if i in titles}


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
    indexes = {r.name: index_resource(r, actual.resources[r.name], diags, actual.bot_user_id) for r in job.resources}
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
            action = page_action(r, page.key, values, state, index, diags, unlinked, page)
            if action is not None:
                by_resource[r.name].append(action)
        # An incremental read holds only what changed: the keys it lacks are not missing.
        missing = [] if item.incremental else missing_actions(r, desired, state, index, managed_keys, now)
        removals[r.name] = len(missing)
        by_resource[r.name] += missing + index.heals
    blocked = {name: index.blocked for name, index in indexes.items()}
    stamps = stamp_requests(job, actual, by_resource, blocked)
    owed_stamps(job, actual, owed_touches, blocked, stamps)
    notion_owed_stamps(job, actual, blocked, stamps)
    order = apply_order(job)
    merges = merge_targets(by_resource, stamps)
    first = [a for r in order for a in sorted_actions(by_resource[r.name]) if not stamping(a, merges)]
    place_stamps(actual, by_resource, stamps, now, merges, {ref_of(a): i for i, a in enumerate(first)})
    last = [a for r in order for a in sorted_actions([a for a in by_resource[r.name] if stamping(a, merges)])]
    diags = grouped_missing_pages(diags)
    infos = [resource_info(r, actual.resources[r.name], indexes[r.name], by_resource[r.name]) for r in job.resources]
    return _JobPlan(actions=first + last, diagnostics=diags, infos=infos, removals=removals)


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


KIND_ORDER = {"create": 0, "restore": 1, "update": 2, "archive": 3, "heal": 4, "touch": 5}


def sorted_actions(actions: list[Action]) -> list[Action]:
    return sorted(actions, key=lambda a: (KIND_ORDER[a.action], a.key))


def stamping(action: Action, merges: dict[tuple[str, str | None], int]) -> bool:
    """Whether an action writes a stamp, and so runs after every write it may record.

    A stamp records that a related page changed in this run, so it is written after that change,
    and only if the change succeeded (apply checks PropertyChange.depends_on). A run that dies
    before its stamps loses none: the next plan makes the change again and stamps with it, or, when
    the change had landed, Notion shows the related page edited after the stamp and the stamp is owed
    (reconcile.plan.touches). Stamps only name existing pages, so nothing they need comes later.
    """
    return action.action == "touch" or (action.action == "update" and (action.resource, action.page_id) in merges)


def shifted(actions: list[Action], offset: int) -> list[Action]:
    """A job's actions placed after `offset` others in the plan: their dependencies move with them."""
    if not offset:
        return actions
    return [
        replace(a, changes=tuple(replace(c, depends_on=tuple(i + offset for i in c.depends_on)) for c in a.changes))
        if any(c.depends_on for c in a.changes)
        else a
        for a in actions
    ]


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
