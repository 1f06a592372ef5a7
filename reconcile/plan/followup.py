"""The heal-only follow-up of an apply that created pages. Pure: no I/O.

After its creates, apply reads the resources it created in back; a concurrent run (or a create
that Notion committed after the client gave up) may have left a key with several pages. The
follow-up plans only what the read-back proves: `heal` actions for the extra pages this
integration made, and updates that point relations away from them to the page that stays. Never
a create, never another update: under query lag a read-back can miss pages, so nothing else may be
inferred from it (the next run's plan sees everything).
"""

from __future__ import annotations

from reconcile.model import Action, Diagnostic, Job, PageState, PropertyChange, ResourceState
from reconcile.plan.common import page_digest
from reconcile.plan.pages import index_resource
from reconcile.values import items_of

__all__ = ["heal_followup"]


def heal_followup(
    job: Job, states: dict[str, ResourceState], bot_user_id: str, healed: set[str]
) -> tuple[list[Action], list[Diagnostic]]:
    """(relation updates away from extra pages, then the heals; the duplicates left alone) for the
    resources in `healed`, with `states` holding them and the resources that relate to them."""
    heals: list[Action] = []
    diags: list[Diagnostic] = []
    moved: dict[str, str] = {}  # extra page id -> the page that stays
    for r in job.resources:
        if r.name not in healed or r.name not in states:
            continue
        found: list[Diagnostic] = []
        index = index_resource(r, states[r.name], found, bot_user_id)
        heals += index.heals
        diags += [d for d in found if d.code == "duplicate_page_key"]
        moved.update({h.page_id or "": index.live[h.key].page_id for h in index.heals})
    return relinks(job, states, moved) + heals, diags


def relinks(job: Job, states: dict[str, ResourceState], moved: dict[str, str]) -> list[Action]:
    """An update for each page whose relation points at an extra page: to the page that stays."""
    out = []
    for r in job.resources:
        state = states.get(r.name)
        if state is None:
            continue
        for page in state.pages:
            changes = tuple(
                change
                for m in r.properties
                if m.relation is not None
                for change in [relinked(page, m.name, moved)]
                if change is not None
            )
            if changes:
                out.append(
                    Action(
                        action="update",
                        resource=r.name,
                        key=page.key or "",
                        page_id=page.page_id,
                        url=page.link,
                        changes=changes,
                        reason="it pointed at a page healed away; pointing at the page that stays",
                        digest=page_digest(page),
                    )
                )
    return out


def relinked(page: PageState, prop: str, moved: dict[str, str]) -> PropertyChange | None:
    current = items_of(page.values.get(prop))
    if not any(i in moved for i in current):
        return None
    after = tuple(sorted({moved.get(i, i) for i in current}))
    return PropertyChange(name=prop, type="relation", before=current, after=after)
