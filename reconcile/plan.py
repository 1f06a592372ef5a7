"""compute_plan: desired state + actual state + now → Plan. Pure: no I/O, no clock, no environment.

Decisions, per resource and key:
- a key produced by two records, or carried by two live pages, is an error for that key: nothing is
  written for it, the rest of the run goes on;
- desired and live page: update the properties whose canonical values differ (never create-only);
- desired, no live page, a trashed page with the key: restore it (never a duplicate);
- desired, no page at all: create (upsert, create-only) or warn (update-only);
- live page whose key left the source: on_missing (archive | mark | ignore); with an allowlist only
  keys on the allowlist are managed, so pages of other councils are never touched;
- touch rules: a page related to a page that changed gets the run's time;
- blast-radius guards: errors that block apply unless overridden, and the plan says so.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from reconcile.expressions import compile_expression
from reconcile.model import (
    NEW_PAGE_PREFIX,
    Action,
    ActualState,
    DesiredPage,
    DesiredState,
    Diagnostic,
    Job,
    PageState,
    Plan,
    PropertyChange,
    ResourceConfig,
    ResourceInfo,
    ResourceState,
)
from reconcile.values import equal, normalise

BLOCKING_PREFIX = "guard_"


@dataclass(frozen=True)
class JobInput:
    job: Job
    desired: DesiredState
    actual: ActualState


@dataclass
class _ResourceIndex:
    """Live and trashed pages of one resource by key, with the keys that must not be written."""

    live: dict[str, PageState]
    trashed: dict[str, PageState]
    blocked: set[str] = field(default_factory=set)


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
    touches = [a for a in ordered if a.action == "touch"]
    ordered = [a for a in ordered if a.action != "touch"] + touches
    return _JobPlan(actions=ordered, diagnostics=diags, infos=infos, removals=removals)


# ── indexes and duplicates ───────────────────────────────────────────────────────────────────────


def index_resource(r: ResourceConfig, state: ResourceState, diags: list[Diagnostic]) -> _ResourceIndex:
    """Pages by key; a key on two live pages is reported and blocked."""
    live: dict[str, list[PageState]] = defaultdict(list)
    for p in state.pages:
        if p.key:
            live[p.key].append(p)
    trashed: dict[str, PageState] = {}
    for p in sorted(state.trashed, key=lambda p: p.last_edited_time, reverse=True):
        if p.key and p.key not in trashed:
            trashed[p.key] = p
    index = _ResourceIndex(live={k: v[0] for k, v in live.items()}, trashed=trashed)
    for key, pages in sorted(live.items()):
        if len(pages) > 1:
            index.blocked.add(key)
            diags.append(
                Diagnostic(
                    severity="error",
                    code="duplicate_page_key",
                    message=f"{len(pages)} pages in {r.name} carry {r.match.property} {key!r}; "
                    "nothing is written for this key until only one does",
                    resource=r.name,
                    key=key,
                    urls=tuple(p.url for p in pages),
                )
            )
        if any(p.raw_key != key for p in pages):
            diags.append(
                Diagnostic(
                    severity="warning",
                    code="key_needed_strip",
                    message=f"{r.match.property} {pages[0].raw_key!r} has surrounding white space; matched as {key!r}",
                    resource=r.name,
                    key=key,
                    urls=tuple(p.url for p in pages),
                )
            )
    return index


def block_duplicate_records(
    r: ResourceConfig,
    desired: DesiredState,
    index: _ResourceIndex,
    diags: list[Diagnostic],
    reported: set[tuple[str | None, str, str]],
) -> None:
    """Block keys that several records produce; report each once even when resources share rows."""
    for key in desired.resources[r.name].duplicate_keys:
        index.blocked.add(key)
        if (r.records, r.match.expression, key) in reported:
            continue
        reported.add((r.records, r.match.expression, key))
        page = index.live.get(key)
        diags.append(
            Diagnostic(
                severity="error",
                code="duplicate_source_key",
                message=f"several source records give {r.name} the key {key!r}; nothing is written for it",
                resource=r.name,
                key=key,
                urls=(page.url,) if page else (),
            )
        )


def allowlist_keys(job: Job) -> set[str] | None:
    if job.source.allowlist is None:
        return None
    return {a.strip() for a in job.source.allowlist}


# ── desired values, by the live schema ───────────────────────────────────────────────────────────


def desired_values(
    job: Job,
    r: ResourceConfig,
    page: DesiredPage,
    state: ResourceState,
    indexes: dict[str, _ResourceIndex],
    creating: dict[str, set[str]],
    diags: list[Diagnostic],
    unlinked: set[tuple[str, str]],
) -> dict[str, Any] | None:
    """Canonical values of the page's mapped properties; None (and an error) when one cannot be."""
    values: dict[str, Any] = {}
    mappings = {m.name: m for m in r.properties}
    for name, raw in page.values.items():
        prop_type = state.schema.get(name)
        if prop_type is None:
            continue  # an optional mapping the live schema lacks (schema check warned)
        mapping = mappings.get(name)
        if mapping is not None and mapping.relation is not None:
            raw = relation_targets(job, r, page.key, name, mapping.relation, raw, indexes, creating, diags, unlinked)
            if raw is None:
                continue  # a target key is ambiguous (on two pages): leave the relation as it is
        try:
            values[name] = normalise(prop_type, raw)
        except ValueError as exc:
            diags.append(
                Diagnostic(
                    severity="error",
                    code="invalid_value",
                    message=f"{name}: {value_problem(exc)}; nothing is written for this key",
                    resource=r.name,
                    key=page.key,
                )
            )
            return None
    return values


def value_problem(exc: ValueError) -> str:
    """The codec's complaint without the offending value, so a redacted plan leaks nothing."""
    return str(exc).split(", got ")[0]


def relation_targets(
    job: Job,
    r: ResourceConfig,
    key: str,
    prop: str,
    target: str,
    target_keys: list[str],
    indexes: dict[str, _ResourceIndex],
    creating: dict[str, set[str]],
    diags: list[Diagnostic],
    unlinked: set[tuple[str, str]],
) -> list[str] | None:
    """Page ids (or new-page placeholders) for the target keys; missing targets are warned about.

    None when a target key is blocked (two pages carry it): which page is meant is unknown, so the
    relation must not be rewritten, not even to unlink.
    """
    index = indexes[target]
    target_cfg = job.resource(target)
    ids = []
    for k in target_keys:
        if k in index.blocked:
            return None
        if k in index.live:
            ids.append(index.live[k].page_id)
        elif k in creating[target]:
            ids.append(f"{NEW_PAGE_PREFIX}{target}:{k}")
        else:
            unlinked.add((target, k))
            diags.append(
                Diagnostic(
                    severity="warning",
                    code="relation_target_missing",
                    message=f"no {target} page carries {target_cfg.match.property} {k!r}; {r.name} {key!r} stays "
                    f"unlinked ({prop}) until one does",
                    resource=r.name,
                    key=key,
                )
            )
    return ids


MISSING_PAGE_LIMIT = 10


def grouped_missing_pages(diags: list[Diagnostic]) -> list[Diagnostic]:
    """Many `page_missing` warnings for one resource become one line, so a big source stays readable."""
    by_resource: dict[str | None, list[Diagnostic]] = defaultdict(list)
    for d in diags:
        if d.code == "page_missing":
            by_resource[d.resource].append(d)
    crowded = {name for name, found in by_resource.items() if len(found) > MISSING_PAGE_LIMIT}
    if not crowded:
        return diags
    out = [d for d in diags if not (d.code == "page_missing" and d.resource in crowded)]
    for name in sorted(n for n in crowded if n is not None):
        keys = [d.key for d in by_resource[name] if d.key]
        sample = ", ".join(repr(k) for k in keys[:5])
        out.append(
            Diagnostic(
                severity="warning",
                code="page_missing",
                message=f"{len(keys)} source keys have no {name} page ({sample}, …); {name} is update-only, "
                "so nothing is created for them",
                resource=name,
            )
        )
    return out


# ── one action per page ──────────────────────────────────────────────────────────────────────────


def page_action(
    r: ResourceConfig,
    key: str,
    values: dict[str, Any],
    state: ResourceState,
    index: _ResourceIndex,
    diags: list[Diagnostic],
    unlinked: set[tuple[str, str]],
) -> Action | None:
    live = index.live.get(key)
    if live is not None:
        if r.mode == "create-only":
            return None
        changes = changed_properties(values, live.values, state.schema)
        if not changes:
            return None
        return Action(
            action="update",
            resource=r.name,
            key=key,
            page_id=live.page_id,
            url=live.url,
            changes=changes,
            reason=update_reason(changes),
            digest=page_digest(live),
        )
    if r.mode == "update-only":
        if (r.name, key) not in unlinked and r.properties:
            diags.append(
                Diagnostic(
                    severity="warning",
                    code="page_missing",
                    message=f"no {r.name} page carries {r.match.property} {key!r}; {r.name} is update-only, "
                    "so nothing is created",
                    resource=r.name,
                    key=key,
                )
            )
        return None
    trashed = index.trashed.get(key)
    if trashed is not None:
        changes = changed_properties(values, trashed.values, state.schema)
        return Action(
            action="restore",
            resource=r.name,
            key=key,
            page_id=trashed.page_id,
            url=trashed.url,
            changes=changes,
            reason=f"{r.match.property} {key!r} is back in the source; restoring its page from the trash",
            digest=page_digest(trashed),
        )
    changes = tuple(
        PropertyChange(name=n, type=state.schema[n], before=None, after=v) for n, v in values.items() if not is_empty(v)
    )
    return Action(
        action="create",
        resource=r.name,
        key=key,
        page_id=None,
        url=None,
        changes=changes,
        reason=f"{r.match.property} {key!r} is in the source and has no page",
    )


def changed_properties(
    desired: dict[str, Any], current: dict[str, Any], schema: dict[str, str]
) -> tuple[PropertyChange, ...]:
    changes = []
    for name, after in desired.items():
        before = current.get(name)
        prop_type = schema[name]
        if before is None and prop_type in ("title", "rich_text"):
            before = ""
        if not equal(prop_type, after, before):
            changes.append(PropertyChange(name=name, type=prop_type, before=before, after=after))
    return tuple(changes)


def update_reason(changes: tuple[PropertyChange, ...]) -> str:
    names = ", ".join(c.name for c in changes)
    return f"differs from the source in {names}"


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == () or value == []


# ── pages whose key left the source ──────────────────────────────────────────────────────────────


def missing_actions(
    r: ResourceConfig,
    desired: DesiredState,
    state: ResourceState,
    index: _ResourceIndex,
    managed_keys: set[str] | None,
    now: datetime,
) -> list[Action]:
    if r.on_missing.action == "ignore":
        return []
    wanted = {p.key for p in desired.resources[r.name].pages}
    actions = []
    for key, page in sorted(index.live.items()):
        if key in wanted or key in index.blocked:
            continue
        if managed_keys is not None and key not in managed_keys:
            continue
        if r.on_missing.action == "archive":
            actions.append(
                Action(
                    action="archive",
                    resource=r.name,
                    key=key,
                    page_id=page.page_id,
                    url=page.url,
                    changes=(),
                    reason=f"{r.match.property} {key!r} is no longer in the source; moving the page to the trash",
                    digest=page_digest(page),
                )
            )
        else:
            mark = mark_action(r, key, page, state, now)
            if mark is not None:
                actions.append(mark)
    return actions


def mark_action(r: ResourceConfig, key: str, page: PageState, state: ResourceState, now: datetime) -> Action | None:
    """Set the `mark` properties; stamps (expressions using `run`) only move when a flag changes."""
    context = {"run": run_context(now)}
    values = {}
    stamps = set()
    for m in r.on_missing.set:
        if m.name not in state.schema:
            continue
        values[m.name] = normalise(state.schema[m.name], compile_expression(m.expression or "null").search(context))
        if "run" in (m.expression or ""):
            stamps.add(m.name)
    changes = changed_properties(values, page.values, state.schema)
    flags_changed = [c for c in changes if c.name not in stamps]
    stamps_empty = [c for c in changes if c.name in stamps and is_empty(c.before)]
    if not flags_changed and not stamps_empty:
        return None
    if not flags_changed:
        changes = tuple(stamps_empty)
    return Action(
        action="update",
        resource=r.name,
        key=key,
        page_id=page.page_id,
        url=page.url,
        changes=changes,
        reason=f"{r.match.property} {key!r} is no longer in the source; marking the page",
        digest=page_digest(page),
    )


def run_context(now: datetime) -> dict[str, str]:
    return {"time": iso_time(now), "date": now.astimezone(UTC).date().isoformat()}


# ── touch rules ──────────────────────────────────────────────────────────────────────────────────


def touch_actions(job: Job, actual: ActualState, by_resource: dict[str, list[Action]], now: datetime) -> None:
    """Stamp pages related to changed pages; merged into an update of the same page when there is one."""
    stamp = iso_time(now)
    for r in job.resources:
        for rule in r.touch:
            related = job.resource(rule.related)
            rel_props = [m.name for m in related.properties if m.relation == r.name]
            state = actual.resources[r.name]
            pages_by_id = {p.page_id: p for p in state.pages}
            reasons: dict[str, list[str]] = defaultdict(list)
            related_pages = {p.page_id: p for p in actual.resources[related.name].pages}
            related_pages.update({p.page_id: p for p in actual.resources[related.name].trashed})
            for action in by_resource[related.name]:
                if action.action == "touch":
                    continue
                for page_id in touched_ids(action, rel_props, related_pages):
                    if page_id in pages_by_id:
                        reasons[page_id].append(f"{related.name} {action.key!r} {past_tense(action.action)}")
            actions = by_resource[r.name]
            mergeable = {a.page_id: i for i, a in enumerate(actions) if a.action in ("update", "restore")}
            for page_id, why in sorted(reasons.items()):
                merge_touch(actions, mergeable, r, pages_by_id[page_id], rule.property, stamp, why, state)


def owed_touch_actions(
    job: Job,
    actual: ActualState,
    by_resource: dict[str, list[Action]],
    now: datetime,
    owed: frozenset[tuple[str, str]],
) -> None:
    """Stamp pages whose stamp failed in an earlier run, unless this run stamps them anyway."""
    stamp = iso_time(now)
    for r in job.resources:
        pages = {p.page_id: p for p in actual.resources[r.name].pages}
        actions = by_resource[r.name]
        for rule in r.touch:
            stamped = {a.page_id for a in actions if any(c.name == rule.property for c in a.changes)}
            mergeable = {a.page_id: i for i, a in enumerate(actions) if a.action in ("update", "restore")}
            for resource, page_id in sorted(owed):
                if resource != r.name or page_id in stamped or page_id not in pages:
                    continue
                why = ["its stamp failed to be written in an earlier run"]
                merge_touch(actions, mergeable, r, pages[page_id], rule.property, stamp, why, actual.resources[r.name])


def touched_ids(action: Action, rel_props: list[str], related_pages: dict[str, PageState]) -> set[str]:
    """Ids of pages a changed page is related to, before or after the change."""
    ids: set[str] = set()
    before = related_pages.get(action.page_id or "")
    changed = {c.name: c for c in action.changes}
    for prop in rel_props:
        if before is not None:
            ids.update(before.values.get(prop) or ())
        if prop in changed:
            ids.update(changed[prop].after or ())
    return {i for i in ids if not i.startswith(NEW_PAGE_PREFIX)}


def past_tense(kind: str) -> str:
    return {"create": "was created", "update": "changed", "archive": "was archived", "restore": "was restored"}[kind]


def merge_touch(
    actions: list[Action],
    mergeable: dict[str | None, int],
    r: ResourceConfig,
    page: PageState,
    prop: str,
    stamp: str,
    why: list[str],
    state: ResourceState,
) -> None:
    change = PropertyChange(name=prop, type=state.schema.get(prop, "date"), before=page.values.get(prop), after=stamp)
    reason = "; ".join(why)
    i = mergeable.get(page.page_id)
    if i is not None:
        a = actions[i]
        actions[i] = replace(a, changes=(*a.changes, change), reason=f"{a.reason}; {reason}")
        return
    actions.append(
        Action(
            action="touch",
            resource=r.name,
            key=page.key or "",
            page_id=page.page_id,
            url=page.url,
            changes=(change,),
            reason=reason,
            digest=page_digest(page),
        )
    )


# ── ordering, info, guards ───────────────────────────────────────────────────────────────────────


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


def resource_info(
    r: ResourceConfig, state: ResourceState, index: _ResourceIndex, actions: list[Action]
) -> ResourceInfo:
    touched = {a.key for a in actions}
    return ResourceInfo(
        name=r.name,
        database_id=state.database_id,
        data_source_id=state.data_source_id,
        managed=len(index.live),
        unchanged=len([k for k in index.live if k not in touched]),
        mode=r.mode,
    )


def guard_diagnostics(item: JobInput, removals: dict[str, int], infos: list[ResourceInfo]) -> list[Diagnostic]:
    """Blast-radius guards: too few source records, or too many archives for a resource."""
    guards = item.job.guards
    out = []
    if item.desired.record_count < guards.min_records:
        out.append(
            Diagnostic(
                severity="error",
                code="guard_min_records",
                message=f"job {item.job.name}: the source returned {item.desired.record_count} records "
                f"(after the allowlist), fewer than min_records {guards.min_records}; refusing to apply "
                "(a source outage must never archive the CRM). Override with --allow-large-changes",
            )
        )
    managed = {i.name: i.managed for i in infos}
    for name, count in sorted(removals.items()):
        limit = max(int(guards.max_archive_ratio * managed.get(name, 0)), guards.max_archive_count)
        if count and count > limit:
            out.append(
                Diagnostic(
                    severity="error",
                    code="guard_archive_limit",
                    message=f"{name}: the plan removes {count} of {managed.get(name, 0)} managed pages, more "
                    f"than the limit of {limit} (max_archive_ratio {guards.max_archive_ratio:g}, "
                    f"max_archive_count {guards.max_archive_count}); refusing to apply. Override with "
                    "--allow-large-changes",
                    resource=name,
                )
            )
    return out


def overridden(d: Diagnostic) -> Diagnostic:
    """A guard error turned into a warning by an explicit override; the plan says so."""
    message = d.message.split("; refusing to apply")[0] + "; allowed by --allow-large-changes / allow_large_changes"
    return replace(d, severity="warning", code=d.code + "_overridden", message=message)


# ── digests and time ─────────────────────────────────────────────────────────────────────────────


def page_digest(page: PageState) -> str:
    """A digest of a page's managed values and trash state: what a stale check compares."""
    body = json.dumps({"v": page.values, "t": page.in_trash}, sort_keys=True, default=list)
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def iso_time(now: datetime) -> str:
    """UTC, millisecond precision, like Notion's own timestamps."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
