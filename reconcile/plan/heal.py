"""Heal: a key whose live pages were all made by this integration keeps one; the others go to the trash.

Notion has no idempotency keys: two runs at once (from two working directories, each with its own
lock), or a create that commits after the client gave up on it, leave two pages for one key. When
every page of the key was created by this integration, in a resource it creates pages in, the plan
keeps the survivor (the oldest `created_time`, then the lowest page id: every run that reads the
same pages picks the same one, so concurrent runs heal without talking to each other) and moves
each other page to the trash with a `heal` action. The key then counts as live on the survivor.
A key with a page a person (or another integration) made is never healed: it stays blocked and
reported, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from reconcile.model import Action, PageState, ResourceConfig
from reconcile.plan.common import page_digest

__all__ = ["heal_actions", "healable", "survivor"]

# A page whose created_time is unknown sorts after every dated one.
_UNKNOWN = datetime.max.replace(tzinfo=UTC)


def healable(r: ResourceConfig, pages: Sequence[PageState], bot_user_id: str | None) -> bool:
    """Whether a duplicated key may be healed: every page made by this integration, in a
    resource it creates pages in (an update-only resource holds people's pages)."""
    if r.mode == "update-only" or not bot_user_id or len(pages) < 2:
        return False
    return all(p.created_by == bot_user_id for p in pages)


def survivor(pages: Sequence[PageState]) -> PageState:
    """The page that stays: the oldest created_time (Notion shows it to the minute), then the lowest id."""
    return min(pages, key=lambda p: (created_at(p.created_time), p.page_id))


def created_at(moment: str) -> datetime:
    if not moment:
        return _UNKNOWN
    parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def heal_actions(r: ResourceConfig, key: str, pages: Sequence[PageState], keep: PageState) -> list[Action]:
    """A `heal` for each page of the key but the survivor, lowest id first."""
    reason = (
        f"{len(pages)} pages this integration made carry {r.match.property} {key!r}; "
        f"page {keep.page_id} (the oldest) stays and this one goes to the trash"
    )
    others = sorted((p for p in pages if p.page_id != keep.page_id), key=lambda p: p.page_id)
    return [
        Action(
            action="heal",
            resource=r.name,
            key=key,
            page_id=p.page_id,
            url=p.link,
            changes=(),
            reason=reason,
            digest=page_digest(p),
        )
        for p in others
    ]
