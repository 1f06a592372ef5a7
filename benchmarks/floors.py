"""The physical floor of a run's Notion calls, computed from the sandbox's ground truth.

Nothing here asks reconcile what it did: the floor comes from the pages the sandbox holds (their
count and creation times) and from what the benchmark changed in the source.

    reads  = 2 schema reads per resource (GET database + GET data source), once per run
           + ceil(pages / 100) queries per data source (at least 1)
           + for a data source that would create: its trash lookup, ceil(trashed / 100) (at least 1)
           + the 10,000-result cap overlap: pages of the boundary minute are read twice
           + one GET /v1/pages/{id} per page the run writes again that the run before it wrote
             moments ago (notion.index_lag_seconds, which benchmarks/run.py sets to a day so that
             back-to-back scenarios read them however slow the machine)
           + for a data source the run created pages in: the read-back after the creates (which
             heals a key two writers made twice), a walk of its pages after the run
           + GET /v1/users/me once when pages with a body (content and its hash property) exist:
             whether this integration edited each of them last
           + one body read (GET /v1/blocks/{id}/children) per page whose body changes
           + after a schema write, the database and data source read again (2)
    writes = exactly the pages whose desired state differs
           + one block call per page whose body gains a line (the services snapshot: one service added)
           + one PATCH /v1/data_sources/{id} per data source whose declared schema lacks a property
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

PAGE_SIZE = 100
QUERY_CAP = 10_000


def query_pages_floor(pages: int, page_size: int = PAGE_SIZE) -> int:
    """Queries to read `pages` results when nothing caps them: ceil(pages / 100), at least 1."""
    return max(1, math.ceil(pages / page_size))


def minute_of(created_time: str) -> str:
    """ "2026-01-02T03:04:05.678Z" → "2026-01-02T03:04": Notion shows created_time to the minute."""
    return created_time[:16]


@dataclass(frozen=True)
class CappedWalk:
    """What reading a data source costs when a query stops at the result cap."""

    queries: int  # queries of the whole walk, overlap included
    overlap_pages: int  # pages read twice (the boundary minute of each capped window)
    windows: int  # created_time windows the walk needed


def capped_walk(created_times: Iterable[str], cap: int = QUERY_CAP, page_size: int = PAGE_SIZE) -> CappedWalk:
    """The queries a creation-ordered read needs, continuing each capped window at its last minute.

    A window that reaches the cap is continued with `created_time on_or_after <minute of its last
    page>`, so the pages of that minute already served are served again. Raises ValueError when
    one capped window lies within a single minute (the walk must then split on a property; the
    benchmark spreads creation times so that this does not happen).
    """
    times = sorted(created_times)
    queries = overlap = windows = 0
    start = 0
    while True:
        windows += 1
        window = times[start:]
        served = window[:cap]
        queries += query_pages_floor(len(served), page_size)
        if len(window) <= cap:
            return CappedWalk(queries=queries, overlap_pages=overlap, windows=windows)
        first, last = minute_of(served[0]), minute_of(served[-1])
        if first == last:
            raise ValueError(f"{cap} pages created within the minute {first}: the walk must split on a property")
        boundary = next(i for i, t in enumerate(window) if minute_of(t) == last)
        overlap += len(served) - boundary
        start += boundary


@dataclass
class Floor:
    """The fewest Notion calls of one scenario, by kind."""

    schema: int = 0
    queries: int = 0  # live pages, ceil(pages / 100) per data source
    trash: int = 0  # trash lookups of the data sources that would create
    overlap: int = 0  # extra queries caused by the 10,000-result cap
    readback: int = 0  # the read-back after creates: a walk of each data source the run created in
    creates: int = 0
    updates: int = 0  # services updates, restores and archives (PATCH of a services page)
    touches: int = 0  # councils pages stamped (PATCH of a councils page)
    rereads: int = 0  # pages read by id: written moments ago by the run before, written again now
    bot_user: int = 0  # GET /v1/users/me: whether the integration edited the pages with bodies last
    body_reads: int = 0  # GET /v1/blocks/{id}/children of the bodies that change
    block_writes: int = 0  # block calls (append, update, delete) that change bodies
    schema_writes: int = 0  # PATCH /v1/data_sources/{id}: a declared property added
    per_data_source: dict[str, int] = field(default_factory=dict)  # all queries by data source

    @property
    def reads(self) -> int:
        return (
            (self.schema + self.queries + self.trash + self.overlap + self.readback + self.rereads)
            + self.bot_user
            + self.body_reads
        )

    @property
    def writes(self) -> int:
        return self.creates + self.updates + self.touches + self.block_writes + self.schema_writes

    @property
    def total(self) -> int:
        return self.reads + self.writes


@dataclass(frozen=True)
class DataSourcePages:
    """A data source's pages as the sandbox holds them before the run."""

    data_source_id: str
    live_created: tuple[str, ...]
    trashed: int
    would_create: bool
    after_created: tuple[str, ...] = ()  # its live pages' created times after the run (the read-back)


def scenario_floor(
    sources: Iterable[DataSourcePages],
    *,
    creates: int,
    updates: int,
    touches: int,
    rereads: int = 0,
    cap: int = QUERY_CAP,
    bodies: int = 0,
    schema_writes: int = 0,
    bot_user: int = 0,
) -> Floor:
    floor = Floor(creates=creates, updates=updates, touches=touches, rereads=rereads)
    floor.body_reads = floor.block_writes = bodies
    floor.schema_writes, floor.bot_user = schema_writes, bot_user
    floor.schema += 2 * schema_writes
    for ds in sources:
        walk = capped_walk(ds.live_created, cap=cap)
        plain = query_pages_floor(len(ds.live_created))
        trash = query_pages_floor(ds.trashed) if ds.would_create else 0
        readback = capped_walk(ds.after_created, cap=cap).queries if ds.would_create and creates else 0
        floor.schema += 2
        floor.queries += plain
        floor.overlap += walk.queries - plain
        floor.trash += trash
        floor.readback += readback
        floor.per_data_source[ds.data_source_id] = walk.queries + trash + readback
    return floor


def ratio(actual: float, floor: float) -> float:
    """actual / floor; 1.0 when both are 0 (nothing to do and nothing done)."""
    if floor == 0:
        return 1.0 if actual == 0 else math.inf
    return actual / floor


def bodies_floor(pages: int, *, first: bool, body_calls_per_create: int = 0, after_creates: bool = False) -> Floor:
    """The fewest calls of the bodies scenario (one resource with `content` and a hash property,
    `pages` pages in one data source).

    A first run: 2 schema reads, 1 query (nothing there yet), 1 trash lookup (it creates), one
    create per page carrying its body (children in the create request), `body_calls_per_create`
    block calls per page when a body does not fit in the create, and the read-back after the creates
    (ceil(pages / 100) queries). A no-change run: 2 schema reads, the read cache's query of the pages
    edited since its last read (1 when none was; ceil(pages / 100) on the run right after the
    creates, whose pages are newer than that read) and of the trash (1), and GET /v1/users/me once
    (whether the integration edited each page last); no body is read and nothing is written.
    """
    if first:
        floor = Floor(schema=2, queries=1, trash=1, creates=pages * (1 + body_calls_per_create))
        floor.readback = query_pages_floor(pages)
        return floor
    edited = query_pages_floor(pages) if after_creates else 1
    return Floor(schema=2, queries=edited, trash=1, bot_user=1)
