"""One action per page: indexes by key, duplicates, desired values by the live schema, and what
becomes of pages whose key left the source."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from reconcile.expressions import compile_expression
from reconcile.model import (
    NEW_PAGE_PREFIX,
    Action,
    DesiredPage,
    DesiredState,
    Diagnostic,
    Job,
    PageState,
    PropertyChange,
    PropertyMapping,
    ResourceConfig,
    ResourceState,
)
from reconcile.plan.common import is_empty, page_digest, run_context
from reconcile.plan.heal import heal_actions, healable, survivor
from reconcile.plan.parts import body_change, created_body, desired_hash, icon_cover_changes, part_problem
from reconcile.plan.types import desired_value
from reconcile.values import equal, normalise


@dataclass
class ResourceIndex:
    """Live and trashed pages of one resource by key, with the keys that must not be written."""

    live: dict[str, PageState]
    trashed: dict[str, PageState]
    blocked: set[str] = field(default_factory=set)
    heals: list[Action] = field(default_factory=list)  # extra pages this integration made, to trash


# ── indexes and duplicates ───────────────────────────────────────────────────────────────────────


def index_resource(
    r: ResourceConfig, state: ResourceState, diags: list[Diagnostic], bot_user_id: str | None = None
) -> ResourceIndex:
    """Pages by key. A key on several live pages all made by this integration (`bot_user_id`) is
    healed: it lives on the survivor and the others get `heal` actions; any other key on two live
    pages is reported and blocked."""
    first: dict[str, PageState] = {}
    shared: dict[str, list[PageState]] = {}  # keys on several live pages: all of them (a list per key only there)
    for p in state.pages:
        if p.key and first.setdefault(p.key, p) is not p:
            shared.setdefault(p.key, [first[p.key]]).append(p)
    trashed: dict[str, PageState] = {}
    for p in sorted(state.trashed, key=lambda p: p.last_edited_time, reverse=True):
        if p.key and p.key not in trashed:
            trashed[p.key] = p
    index = ResourceIndex(live=first, trashed=trashed)  # survivors of healed keys replace their first page
    for key in sorted(first):
        pages = shared.get(key) or [first[key]]
        if len(pages) > 1 and healable(r, pages, bot_user_id):
            index.live[key] = survivor(pages)
            index.heals += heal_actions(r, key, pages, index.live[key])
        elif len(pages) > 1:
            index.blocked.add(key)
            diags.append(
                Diagnostic(
                    severity="error",
                    code="duplicate_page_key",
                    message=f"{len(pages)} pages in {r.name} carry {r.match.property} {key!r}; "
                    "nothing is written for this key until only one does",
                    resource=r.name,
                    key=key,
                    urls=tuple(p.link for p in pages),
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
                    urls=tuple(p.link for p in pages),
                )
            )
    return index


def block_duplicate_records(
    r: ResourceConfig,
    desired: DesiredState,
    index: ResourceIndex,
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
                urls=(page.link,) if page else (),
            )
        )


def allowlist_keys(job: Job) -> set[str] | None:
    if job.source.allowlist is None:
        return None
    return {a.strip() for a in job.source.allowlist}


# ── desired values, by the live schema ───────────────────────────────────────────────────────────


def mappings_by_name(r: ResourceConfig) -> Mapping[str, PropertyMapping]:
    """The resource's mappings by property name (made once per resource: asked once per page)."""
    return _by_name(r.properties)


@lru_cache(maxsize=64)
def _by_name(mappings: tuple[PropertyMapping, ...]) -> Mapping[str, PropertyMapping]:
    return MappingProxyType({m.name: m for m in mappings})


def desired_values(
    job: Job,
    r: ResourceConfig,
    page: DesiredPage,
    state: ResourceState,
    indexes: dict[str, ResourceIndex],
    creating: dict[str, set[str]],
    diags: list[Diagnostic],
    unlinked: set[tuple[str, str]],
) -> dict[str, Any] | None:
    """Canonical values of the page's mapped properties; None (and an error) when one cannot be."""
    values: dict[str, Any] = {}
    mappings = mappings_by_name(r)
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
            values[name] = desired_value(mapping, prop_type, raw, state)
        except ValueError as exc:
            diags.append(
                Diagnostic(
                    severity="error",
                    code=getattr(exc, "code", "invalid_value"),
                    message=f"{name}: {value_problem(exc)}; nothing is written for this key",
                    resource=r.name,
                    key=page.key,
                )
            )
            return None
    hashed = desired_hash(r, page, state.schema)
    if hashed is not None:
        values[hashed[0]] = hashed[1]
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
    indexes: dict[str, ResourceIndex],
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
    index: ResourceIndex,
    diags: list[Diagnostic],
    unlinked: set[tuple[str, str]],
    page: DesiredPage | None = None,
) -> Action | None:
    desired = page if page is not None else DesiredPage(resource=r.name, key=key, values={})
    parts = r.content is not None or r.icon is not None or r.cover is not None
    problem = part_problem(r, desired) if parts else None
    if problem is not None:
        diags.append(Diagnostic("error", "invalid_value", f"{problem}; nothing is written for this key", r.name, key))
        return None
    live = index.live.get(key)
    if live is not None:
        if r.mode == "create-only":
            return None
        props = changed_properties(values, live.values, state.schema)
        if not parts:
            return update_action(r, key, live, props, ()) if props else None
        held = body_change(r, desired, live, props, state.schema)
        changes = (*held.changes, *icon_cover_changes(r, desired, live))
        return update_action(r, key, live, changes, held.blocks) if changes else None
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
        # The trashed page's body is not read, so neither it nor its hash is written here: the next
        # run reads it when the hash differs.
        changes = changed_properties(values, trashed.values, state.schema)
        if parts:
            held = body_change(r, desired, trashed, changes, state.schema)
            changes = (*held.changes, *icon_cover_changes(r, desired, trashed))
        return Action(
            action="restore",
            resource=r.name,
            key=key,
            page_id=trashed.page_id,
            url=trashed.link,
            changes=changes,
            reason=f"{r.match.property} {key!r} is back in the source; restoring its page from the trash",
            digest=page_digest(trashed),
        )
    props = tuple(
        PropertyChange(name=n, type=state.schema[n], before=None, after=v) for n, v in values.items() if not is_empty(v)
    )
    made = created_body(r, desired, props, state.schema) if parts else None
    return Action(
        action="create",
        resource=r.name,
        key=key,
        page_id=None,
        url=None,
        changes=(*made.changes, *icon_cover_changes(r, desired, None)) if made else props,
        reason=f"{r.match.property} {key!r} is in the source and has no page",
        blocks=made.blocks if made else (),
        written_last=made.written_last if made else (),
    )


def update_action(
    r: ResourceConfig, key: str, live: PageState, changes: tuple[PropertyChange, ...], blocks: tuple[Any, ...]
) -> Action:
    return Action(
        action="update",
        resource=r.name,
        key=key,
        page_id=live.page_id,
        url=live.link,
        changes=changes,
        reason=update_reason(changes),
        digest=page_digest(live),
        blocks=blocks,
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


# ── pages whose key left the source ──────────────────────────────────────────────────────────────


def missing_actions(
    r: ResourceConfig,
    desired: DesiredState,
    state: ResourceState,
    index: ResourceIndex,
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
                    url=page.link,
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
        url=page.link,
        changes=changes,
        reason=f"{r.match.property} {key!r} is no longer in the source; marking the page",
        digest=page_digest(page),
    )
