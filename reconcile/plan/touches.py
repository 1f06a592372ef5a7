"""Touch rules: a page related to a page that changed gets the run's time, after that change and
only if it succeeded; and the stamps that are owed from earlier runs.

A stamp says "this page's related page changed, and the change landed". So a stamp is planned as
a request naming the actions it records (`Ref`s); compute.py places it after them, giving it their
positions (PropertyChange.depends_on), and apply leaves it out when one of them failed.
A page whose key is blocked (several pages carry it) is never stamped: nothing is written for
that key. A heal records no change of the data and stamps nothing.

Owed stamps (docs/reliability.md, "A stamp means the change landed"): a touch the run log says
failed; and, from Notion itself, which also works on a fresh machine without the run log, a page
that a managed page relates to while it carries no stamp at all, or whose related managed page
this integration edited in a later minute than the page itself was last edited.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
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
    TouchRule,
)
from reconcile.plan.common import is_empty, iso_time, page_digest
from reconcile.values import items_of

__all__ = [
    "Ref",
    "StampRequest",
    "merge_targets",
    "notion_owed_stamps",
    "owed_stamps",
    "place_stamps",
    "ref_of",
    "stamp_requests",
    "touched_ids",
]

# An action a stamp records: (resource, action kind, key). One key has one such action per plan.
Ref = tuple[str, str, str]
Blocked = dict[str, set[str]]  # resource -> keys nothing is written for


@dataclass(slots=True)
class StampRequest:
    """Set `rule.property` on `page` (of resource `resource`), recording `refs`."""

    resource: str
    page: PageState
    rule: TouchRule
    why: list[str] = field(default_factory=list)
    refs: list[Ref] = field(default_factory=list)


Requests = dict[tuple[str, str, str], StampRequest]  # (resource, page id, property) -> request


def ref_of(action: Action) -> Ref:
    return (action.resource, action.action, action.key)


# ── what is stamped, and why ─────────────────────────────────────────────────────────────────────


def stamp_requests(job: Job, actual: ActualState, by_resource: dict[str, list[Action]], blocked: Blocked) -> Requests:
    """Pages related (before or after) to a page this plan creates, changes, archives or restores."""
    requests: Requests = {}
    for r in job.resources:
        for rule in r.touch:
            related = job.resource(rule.related)
            rel_props = relation_properties(related, r.name)
            pages = stampable(actual.resources[r.name], blocked.get(r.name, set()))
            related_pages = {p.page_id: p for p in actual.resources[related.name].pages}
            related_pages.update({p.page_id: p for p in actual.resources[related.name].trashed})
            for action in by_resource[related.name]:
                if action.action in ("touch", "heal"):
                    continue
                for page_id in touched_ids(action, rel_props, related_pages):
                    if page_id in pages:
                        request = requests.setdefault(
                            (r.name, page_id, rule.property), StampRequest(r.name, pages[page_id], rule)
                        )
                        request.why.append(f"{related.name} {action.key!r} {past_tense(action.action)}")
                        request.refs.append(ref_of(action))
    return requests


def owed_stamps(
    job: Job, actual: ActualState, owed: frozenset[tuple[str, str]], blocked: Blocked, requests: Requests
) -> None:
    """Add the stamps the run log says failed in an earlier run and no later run wrote."""
    for r in job.resources:
        pages = stampable(actual.resources[r.name], blocked.get(r.name, set()))
        for rule in r.touch:
            for resource, page_id in sorted(owed):
                if resource == r.name and page_id in pages:
                    request = requests.setdefault(
                        (r.name, page_id, rule.property), StampRequest(r.name, pages[page_id], rule)
                    )
                    if not request.refs:
                        request.why.append("its stamp failed to be written in an earlier run")


def notion_owed_stamps(job: Job, actual: ActualState, blocked: Blocked, requests: Requests) -> None:
    """Add the stamps Notion itself says are owed (no run log needed): see the module docstring.
    A related page whose key is blocked records nothing yet: it owes no stamp."""
    for r in job.resources:
        pages = stampable(actual.resources[r.name], blocked.get(r.name, set()))
        for rule in r.touch:
            related = job.resource(rule.related)
            others = [p for p in actual.resources[related.name].pages if p.key not in blocked.get(related.name, set())]
            for page_id, why in owed_by_notion(
                pages, others, related, r.name, rule.property, actual.bot_user_id
            ).items():
                request = requests.setdefault(
                    (r.name, page_id, rule.property), StampRequest(r.name, pages[page_id], rule)
                )
                if not request.refs and not request.why:
                    request.why.append(why)


def owed_by_notion(
    pages: dict[str, PageState],
    related_pages: Iterable[PageState],
    related: ResourceConfig,
    resource: str,
    prop: str,
    bot_user_id: str | None,
) -> dict[str, str]:
    """page id -> why its stamp is owed, judged from the pages as Notion shows them.

    Notion rounds both times down to the minute. A successful stamp is always written after the
    change it records, so a stamped page is never older than its related page's last edit by this
    integration; a later minute means the stamp after that edit never landed.
    """
    owed: dict[str, str] = {}
    rel_props = relation_properties(related, resource)
    for other in related_pages:
        if not other.key:
            continue
        for page_id in related_ids(other, rel_props):
            page = pages.get(page_id)
            if page is None or page_id in owed:
                continue
            if is_empty(page.values.get(prop)):
                owed[page_id] = f"{related.name} {other.key!r} relates to it and it was never stamped"
            elif edited_later(other, page, bot_user_id):
                owed[page_id] = (
                    f"{related.name} {other.key!r} was last changed by this integration after this page's stamp"
                )
    return owed


def edited_later(other: PageState, page: PageState, bot_user_id: str | None) -> bool:
    """Whether this integration edited `other` in a later minute than `page` was last edited."""
    later = minute(other.last_edited_time) > minute(page.last_edited_time)
    return later and bool(bot_user_id) and other.last_edited_by == bot_user_id


def stamp_candidates(job: Job, actual: ActualState) -> bool:
    """Whether any related page was edited in a later minute than the page it stamps: only then
    does the plan need to know which user is this integration (a call the healthy path never makes)."""
    for r in job.resources:
        pages = {p.page_id: p for p in actual.resources[r.name].pages}
        for rule in r.touch:
            related = job.resource(rule.related)
            rel_props = relation_properties(related, r.name)
            for other in actual.resources[related.name].pages:
                for page_id in related_ids(other, rel_props):
                    page = pages.get(page_id)
                    if page is not None and minute(other.last_edited_time) > minute(page.last_edited_time):
                        return True
    return False


# ── where the stamps go ──────────────────────────────────────────────────────────────────────────


def merge_targets(by_resource: dict[str, list[Action]], requests: Requests) -> dict[tuple[str, str | None], int]:
    """(resource, page id) -> position in by_resource of the update each page's stamp merges into:
    an update of the stamped page that is not itself recorded by a stamp (the two would wait for
    each other). Pages without one get a touch of their own."""
    recorded = {ref for request in requests.values() for ref in request.refs}
    wanted = {(resource, page_id) for resource, page_id, _ in requests}
    return {
        (resource, a.page_id): i
        for resource, actions in by_resource.items()
        for i, a in enumerate(actions)
        if a.action == "update" and (resource, a.page_id) in wanted and ref_of(a) not in recorded
    }


def place_stamps(
    actual: ActualState,
    by_resource: dict[str, list[Action]],
    requests: Requests,
    now: datetime,
    merges: dict[tuple[str, str | None], int],
    positions: dict[Ref, int],
) -> None:
    """Each stamp merged into its update (`merges`), else a touch of its own; each naming the
    positions (`positions`: where the writes it records run) of what it records."""
    stamp = iso_time(now)
    for (resource, page_id, prop), request in sorted(requests.items()):
        state = actual.resources[resource]
        after = tuple(sorted({positions[ref] for ref in request.refs if ref in positions}))
        change = PropertyChange(prop, state.schema.get(prop, "date"), request.page.values.get(prop), stamp, after)
        actions = by_resource[resource]
        reason = "; ".join(request.why)
        i = merges.get((resource, page_id))
        if i is not None:
            a = actions[i]
            actions[i] = replace(a, changes=(*a.changes, change), reason=f"{a.reason}; {reason}")
        else:
            actions.append(touch(resource, request.page, change, reason))


def touch(resource: str, page: PageState, change: PropertyChange, reason: str) -> Action:
    return Action(
        action="touch",
        resource=resource,
        key=page.key or "",
        page_id=page.page_id,
        url=page.link,
        changes=(change,),
        reason=reason,
        digest=page_digest(page),
    )


# ── helpers ──────────────────────────────────────────────────────────────────────────────────────


def stampable(state: ResourceState, blocked: set[str]) -> dict[str, PageState]:
    """Live pages that may be stamped: never one whose key is blocked (nothing is written for it)."""
    return {p.page_id: p for p in state.pages if not (p.key and p.key in blocked)}


def relation_properties(related: ResourceConfig, resource: str) -> list[str]:
    return [m.name for m in related.properties if m.relation == resource]


def related_ids(page: PageState, rel_props: list[str]) -> tuple[str, ...]:
    if len(rel_props) == 1:
        return items_of(page.values.get(rel_props[0]))
    return tuple({i for prop in rel_props for i in items_of(page.values.get(prop))})


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


def minute(moment: str) -> str:
    """ "2026-01-02T03:04:05.678Z" → "2026-01-02T03:04": the precision Notion shows edit times with."""
    return moment[:16]
