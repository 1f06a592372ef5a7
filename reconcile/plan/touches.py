"""Touch rules: a page related to a page that changed gets the run's time; a stamp an earlier run
failed to write is owed and written now."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime

from reconcile.model import (
    NEW_PAGE_PREFIX,
    Action,
    ActualState,
    Job,
    PageState,
    PropertyChange,
    ResourceConfig,
    ResourceState,
)
from reconcile.plan.common import iso_time, page_digest
from reconcile.values import items_of


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
            ids.update(items_of(before.values.get(prop)))
        if prop in changed:
            ids.update(items_of(changed[prop].after))
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
