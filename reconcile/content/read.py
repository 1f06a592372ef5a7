"""Which page bodies a run reads, and reading them (the read stage's part of page bodies).

A body costs at least one call to read (GET /v1/blocks/{page}/children, one more per 100 blocks
and per block with children), so a run reads only the bodies that may differ from the desired one:

- every managed body, when the resource names no `hash_property`;
- else the pages whose hash property differs from the desired body's hash (the source changed,
  or the body was never written), and the pages someone other than this integration edited
  last (a person's body edit shows as an edit of the page: docs/sandbox.md "Blocks").

The hash is written with every body write, so a page the tool left as it should be costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from reconcile.content.blocks import markdown_hash, node_of
from reconcile.model import ActualState, DesiredPage, DesiredState, Job, PageState, ResourceConfig
from reconcile.ports import NotionReader

__all__ = ["needs_reading", "with_bodies"]


def with_bodies(
    gateway: NotionReader, job: Job, desired: DesiredState, actual: ActualState, *, workers: int = 4
) -> ActualState:
    """The state with the bodies that may differ from the desired ones read (and the integration's
    user, when that was needed to tell)."""
    bot: list[str] = [actual.bot_user_id] if actual.bot_user_id else []

    def bot_user() -> str:
        if not bot:
            bot.append(gateway.bot_user_id())
        return bot[0]

    states = dict(actual.resources)
    for r in job.resources:
        if r.content is None or r.name not in states or r.name not in desired.resources:
            continue
        wanted = {p.key: p for p in desired.resources[r.name].pages}
        state = states[r.name]
        due = [p for p in state.pages if p.key in wanted and needs_reading(r, p, wanted[p.key], bot_user)]
        read = dict(zip((p.page_id for p in due), read_bodies(gateway, due, workers), strict=True))
        states[r.name] = replace(state, pages=tuple(read.get(p.page_id, p) for p in state.pages))
    return replace(actual, resources=states, bot_user_id=bot[0] if bot else actual.bot_user_id)


def read_bodies(gateway: NotionReader, pages: list[PageState], workers: int) -> list[PageState]:
    """The pages with their bodies, read by a few workers at once (the transport's token bucket
    keeps them within the rate limit; one by one, latency would set the pace instead)."""
    if workers <= 1 or len(pages) <= 1:
        return [read_body(gateway, p) for p in pages]
    with ThreadPoolExecutor(max_workers=min(workers, len(pages))) as pool:
        return list(pool.map(lambda p: read_body(gateway, p), pages))


def needs_reading(r: ResourceConfig, page: PageState, wanted: DesiredPage, bot_user: Callable[[], str]) -> bool:
    hash_property = r.content.hash_property if r.content is not None else None
    if not hash_property:
        return True
    if page.values.get(hash_property) != markdown_hash(wanted.body or ""):
        return True
    return page.last_edited_by != bot_user()


def read_body(gateway: NotionReader, page: PageState) -> PageState:
    return replace(page, body=tuple(node_of(b) for b in gateway.read_body(page.page_id)))
