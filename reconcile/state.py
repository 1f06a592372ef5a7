"""Notion → ActualState for one job: each resource's schema (checked against its mapping) and pages.

Reads cost the floor: the gateway resolves each database once per run and reads each data source
in bulk; trashed pages are read only when the plan may create something (a trashed page carrying
that key is restored instead of a duplicate being made). The schemas, and the live types against
the values the source asks for, are checked before any page is read. The integration's own user
is asked for only when the plan needs it (a key on several pages, or a stamp Notion may say is
owed), so the healthy path makes no extra call.

Read your own writes: Notion's query index may lag behind writes, retrieving a page by id does
not. A page this machine wrote moments ago (the run log's `recent` writes) that a query shows
otherwise than the write left it (a page it created missing, a page it trashed still live) is
retrieved by id and replaces what the query said; and a page it edited that the plan would write
again is read by id before the plan is made once more (`rewritten_recently`, `reread_pages`). A
run long after the last write makes no extra call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from reconcile.content.read import with_bodies
from reconcile.model import (
    Action,
    ActualState,
    DesiredState,
    Diagnostic,
    Job,
    NotionRead,
    PageState,
    ResourceConfig,
    ResourceState,
)
from reconcile.notion.schema import check_schema, foreign_relation_targets, live_options, maps_people
from reconcile.plan.touches import stamp_candidates
from reconcile.plan.types import check_value_types
from reconcile.ports import NotionReader, PropertySchema
from reconcile.readcache import CacheEntry, CacheKey, Decision, ReadSession, iso, latest_edit
from reconcile.runlog import LeftAs, RecentWrites

__all__ = [
    "check_job_schemas",
    "has_duplicates",
    "read_ahead",
    "read_job_state",
    "related_data_sources",
    "reread_pages",
    "rewritten_recently",
    "with_bot_user",
]

Declared = Mapping[str, Mapping[str, str]]  # resource -> property -> the type the config declares
# page id -> the page as retrieved by id, None when it is gone or no longer in the data source
Fresh = dict[str, PageState | None]


def read_job_state(
    gateway: NotionReader,
    job: Job,
    desired: DesiredState,
    declared: Declared | None = None,
    recent: RecentWrites | None = None,
    cache: ReadSession | None = None,
    ahead: ReadAhead | None = None,
) -> tuple[ActualState, list[Diagnostic]]:
    """The job's live pages, resource by resource, and the schema warnings (errors raise). With a
    read cache, a resource the cache holds is read incrementally (`cache` records how each was read
    and what the next run may start from). `ahead`: the schemas and pages read_ahead read while the
    source was fetched (only the desired values are checked, and the trash read, here)."""
    if ahead is None:
        schemas, diags = check_job_schemas(gateway, job, desired, declared)
    else:
        schemas, diags = ahead.schemas, list(ahead.diagnostics)
        check_desired_values(gateway, job, desired, schemas, declared)
    states: dict[str, ResourceState] = {}
    for r in job.resources:
        data_source_id, schema = schemas[r.name]
        wanted = {p.key for p in desired.resources[r.name].pages}
        mine = (recent or {}).get(r.name, {})
        seen = ahead.seen.get(r.name) if ahead is not None else None
        states[r.name] = resource_state(gateway, r, data_source_id, schema, wanted, mine, cache, seen)
    actual = with_bodies(gateway, job, desired, with_bot_user(gateway, job, ActualState(resources=states)))
    return actual, diags


@dataclass(frozen=True)
class ReadAhead:
    """What of a job's Notion state can be read before its desired state is known: the schemas
    (mappings checked against them) and each resource's pages as the queries show them."""

    schemas: dict[str, tuple[str, PropertySchema]]
    diagnostics: tuple[Diagnostic, ...]
    seen: dict[str, Seen]


def read_ahead(
    gateway: NotionReader, job: Job, cache: ReadSession | None, before_cached: Callable[[], object] = lambda: None
) -> ReadAhead:
    """The schemas and the pages, in the order read_job_state reads them: the mappings are checked
    before any page is queried. `before_cached` is called before pages are held (the cached ones
    loaded, or a full read begun): the run waits there for its source's answer to be let go, so
    that the two are never held at once; the queries of changes go out beside the source."""
    schemas, diags = check_job_schemas(gateway, job, None)
    seen = {r.name: seen_pages(gateway, r, *schemas[r.name], cache, before_cached) for r in job.resources}
    return ReadAhead(schemas, tuple(diags), seen)


def check_job_schemas(
    gateway: NotionReader, job: Job, desired: DesiredState | None, declared: Declared | None = None
) -> tuple[dict[str, tuple[str, PropertySchema]], list[Diagnostic]]:
    """Every resource's (data source id, schema), once each mapping fits its live schema and, given
    the desired state, once every mapped value fits its property's live type; the warnings."""
    schemas: dict[str, tuple[str, PropertySchema]] = {}
    diags: list[Diagnostic] = []
    related = related_data_sources(gateway, job)
    for r in job.resources:
        data_source_id, schema = gateway.resolve(r.database, r.data_source)
        diags += check_schema(
            r,
            schema,
            data_source_name=gateway.data_source_name(data_source_id),
            related_data_sources=related,
            data_source_names=relation_names(gateway, r, schema, related),
        )
        schemas[r.name] = (data_source_id, schema)
    if desired is not None:
        check_desired_values(gateway, job, desired, schemas, declared)
    return schemas, diags


def check_desired_values(
    gateway: NotionReader,
    job: Job,
    desired: DesiredState,
    schemas: Mapping[str, tuple[str, PropertySchema]],
    declared: Declared | None,
) -> None:
    """Every mapped value the source asks for against its property's live type (a mismatch raises)."""
    live_types = {name: {p: s.get("type", "") for p, s in schema.items()} for name, (_, schema) in schemas.items()}
    names = {name: gateway.data_source_name(ds) or name for name, (ds, _) in schemas.items()}
    check_value_types(job, desired, live_types, names, declared)


def relation_names(
    gateway: NotionReader, r: ResourceConfig, schema: PropertySchema, related: dict[str, str]
) -> dict[str, str]:
    """Titles of the data sources at both ends of a relation that points elsewhere (for its message;
    the one extra read happens only then)."""
    foreign = foreign_relation_targets(r, schema, related)
    if not foreign:
        return {}
    names = {ds: gateway.data_source_name(ds) or ds for ds in related.values()}
    return names | {ds: gateway.data_source_title(ds) for ds in foreign}


def with_bot_user(gateway: NotionReader, job: Job, actual: ActualState) -> ActualState:
    """The state with the integration's user id, when planning needs to know which pages it made."""
    if not (has_duplicates(job, actual) or stamp_candidates(job, actual)):
        return actual
    return replace(actual, bot_user_id=gateway.bot_user_id())


def has_duplicates(job: Job, states: ActualState | Mapping[str, ResourceState]) -> bool:
    """Whether some key of a resource the integration creates pages in is carried by several pages."""
    resources = states.resources if isinstance(states, ActualState) else states
    for r in job.resources:
        if r.mode == "update-only" or r.name not in resources:
            continue
        keys = [p.key for p in resources[r.name].pages if p.key]
        if len(keys) != len(set(keys)):
            return True
    return False


def resource_state(
    gateway: NotionReader,
    r: ResourceConfig,
    data_source_id: str,
    schema: PropertySchema,
    wanted: set[str],
    mine: Mapping[str, LeftAs],
    cache: ReadSession | None = None,
    seen: Seen | None = None,
) -> ResourceState:
    """One resource's live pages (and the trashed ones carrying a wanted key when a create may be
    planned), with this machine's recent writes the query does not show yet read by id."""
    seen = seen if seen is not None else seen_pages(gateway, r, data_source_id, schema, cache)
    fresh = read_fresh(gateway, r, data_source_id, schema, unshown(mine, {p.page_id for p in seen.live}))
    state = ResourceState(
        resource=r.name,
        database_id=r.database,
        data_source_id=data_source_id,
        schema={name: prop.get("type", "") for name, prop in schema.items()},
        pages=overlaid(seen.live, fresh, trashed=False),
        options=live_options(schema),
        users=gateway.users() if maps_people(r, schema) else None,
    )
    if r.mode == "update-only" or wanted <= {p.key for p in state.pages}:
        seen.keep(cache, state.pages, None if seen.trashed is None else overlaid(seen.trashed, fresh, trashed=True))
        return state
    trashed = seen.trashed
    if trashed is None:
        trashed = gateway.read_trashed(r, data_source_id=data_source_id, schema=schema)
        seen = seen if seen.timed else replace(seen, cursor=latest_edit(trashed, seen.cursor))
    missed = [i for i in unshown_in_trash(mine, {p.page_id for p in trashed}) if i not in fresh]
    fresh.update(read_fresh(gateway, r, data_source_id, schema, missed))
    all_trashed = overlaid(trashed, fresh, trashed=True)
    seen.keep(cache, state.pages, all_trashed)
    return replace(state, trashed=tuple(p for p in all_trashed if p.key in wanted))


@dataclass(frozen=True)
class Seen:
    """A resource's pages as the queries (and the read cache) show them, before any read by id."""

    resource: ResourceConfig
    key: CacheKey | None
    decision: Decision | None
    live: tuple[PageState, ...]
    trashed: tuple[PageState, ...] | None  # those carrying a key; None when the trash was not read
    cursor: str  # where the next read starts (before the safety window)
    pages_read: int
    timed: bool = False  # the cursor is Notion's time before the read (else the latest edit seen)

    def keep(
        self, cache: ReadSession | None, live: tuple[PageState, ...], trashed: tuple[PageState, ...] | None
    ) -> None:
        """Record what this read saw (with the pages read by id) for the next run, and how it read."""
        if cache is None or self.key is None or self.decision is None:
            return
        d = self.decision
        full = d.mode == "full"
        now = iso(cache.now)
        entry = CacheEntry(
            key=self.key,
            cursor=self.cursor,
            full_read_at=now if full or d.entry is None else d.entry.full_read_at,
            incremental_reads=0 if full or d.entry is None else d.entry.incremental_reads + 1,
            read_at=now,
            pages=live,
            trashed=trashed,
        )
        cache.keep(self.resource.name, entry, NotionRead(self.resource.name, d.mode, d.reason, self.pages_read))


def seen_pages(
    gateway: NotionReader,
    r: ResourceConfig,
    data_source_id: str,
    schema: PropertySchema,
    cache: ReadSession | None,
    before_cached: Callable[[], object] = lambda: None,
) -> Seen:
    """Every live page (a full read), or the cached ones with what changed since laid over them."""
    key = cache.key(r, data_source_id, schema) if cache is not None else None
    decision = cache.decide(r.name, key) if cache is not None and key is not None else None
    # Notion's time before these queries: the next read starts from it (less the safety window).
    # Without it, the latest edit seen stands in (later edits carry that minute or a later one).
    started = gateway.server_time() if cache is not None else None
    if decision is None or decision.entry is None:
        before_cached()  # a full read holds the workspace too: not beside the source's answer either
        return full_read(gateway, r, data_source_id, schema, key, decision, started)
    edited = gateway.read_edited_since(
        r, data_source_id=data_source_id, schema=schema, since=decision.since, in_trash=False
    )
    binned = gateway.read_edited_since(
        r, data_source_id=data_source_id, schema=schema, since=decision.since, in_trash=True
    )
    before_cached()
    cached = cache.pages_of(r.name) if cache is not None else None
    if cached is None:
        changed = Decision("full", "the read cache was written by another run during this one")
        return full_read(gateway, r, data_source_id, schema, key, changed, started)
    live, trashed = merged(*cached, edited, binned)
    cursor = started or latest_edit((*edited, *binned), decision.entry.cursor)
    return Seen(r, key, decision, live, trashed, cursor, len(edited) + len(binned), timed=bool(started))


def full_read(
    gateway: NotionReader,
    r: ResourceConfig,
    data_source_id: str,
    schema: PropertySchema,
    key: CacheKey | None,
    decision: Decision | None,
    started: str | None,
) -> Seen:
    live = gateway.read_resource(r, data_source_id=data_source_id, schema=schema).pages
    return Seen(r, key, decision, live, None, started or latest_edit(live), len(live), timed=bool(started))


def merged(
    live: tuple[PageState, ...],
    trashed: tuple[PageState, ...] | None,
    edited: tuple[PageState, ...],
    binned: tuple[PageState, ...],
) -> tuple[tuple[PageState, ...], tuple[PageState, ...] | None]:
    """The cached pages with the changed ones laid over them: a page trashed since leaves the live
    pages (and joins the trashed ones when it carries a key), a page edited, created or restored
    since takes its place among the live ones. Pages stay in creation order, as a full read lists
    them (a new page last within its minute)."""
    pages = {p.page_id: p for p in live}
    bin_ = {p.page_id: p for p in trashed} if trashed is not None else None
    for p in binned:
        pages.pop(p.page_id, None)
        if bin_ is not None:
            bin_.pop(p.page_id, None)
            if p.key is not None:
                bin_[p.page_id] = p
    for p in edited:
        if bin_ is not None:
            bin_.pop(p.page_id, None)
        pages[p.page_id] = p
    ordered = tuple(sorted(pages.values(), key=lambda p: p.created_time))
    return ordered, None if bin_ is None else tuple(sorted(bin_.values(), key=lambda p: p.created_time))


def unshown(mine: Mapping[str, LeftAs], live: set[str]) -> list[str]:
    """Pages a query of live pages shows otherwise than this machine's last write left them."""
    return sorted(
        i for i, left in mine.items() if (left == "live" and i not in live) or (left == "trashed" and i in live)
    )


def unshown_in_trash(mine: Mapping[str, LeftAs], trashed: set[str]) -> list[str]:
    """Pages a query of the trash shows otherwise than this machine's last write left them."""
    return sorted(
        i for i, left in mine.items() if (left == "trashed" and i not in trashed) or (left == "live" and i in trashed)
    )


def read_fresh(
    gateway: NotionReader, r: ResourceConfig, data_source_id: str, schema: PropertySchema, page_ids: list[str]
) -> Fresh:
    if not page_ids:
        return {}
    found = {p.page_id: p for p in gateway.read_pages(r, page_ids, data_source_id=data_source_id, schema=schema)}
    return {i: found.get(i) for i in page_ids}


def overlaid(
    pages: Iterable[PageState], fresh: Mapping[str, PageState | None], *, trashed: bool
) -> tuple[PageState, ...]:
    """A query's pages (live ones, or trashed ones carrying a key) with each page read by id in
    place of what the query said of it: kept there, dropped, or added at the end."""

    def kept(page: PageState | None) -> PageState | None:
        belongs = page is not None and page.in_trash == trashed and (page.key is not None or not trashed)
        return page if belongs else None

    out = [p if p.page_id not in fresh else kept(fresh[p.page_id]) for p in pages]
    listed = {p.page_id for p in pages}
    out += [kept(p) for i, p in fresh.items() if i not in listed]
    return tuple(p for p in out if p is not None)


def rewritten_recently(actions: Iterable[Action], recent: RecentWrites) -> dict[str, set[str]]:
    """resource -> pages the plan would write that this machine edited moments ago: the query may
    show them as they were before that edit, so they are read by id before planning again."""
    out: dict[str, set[str]] = {}
    for a in actions:
        if a.page_id and (recent.get(a.resource) or {}).get(a.page_id) == "edited":
            out.setdefault(a.resource, set()).add(a.page_id)
    return out


def reread_pages(gateway: NotionReader, job: Job, actual: ActualState, page_ids: dict[str, set[str]]) -> ActualState:
    """The job's state with these pages as retrieved by id (live, trashed, or gone)."""
    states = dict(actual.resources)
    for r in job.resources:
        ids = sorted(page_ids.get(r.name) or ())
        if not ids or r.name not in states:
            continue
        data_source_id, schema = gateway.resolve(r.database, r.data_source)
        fresh = read_fresh(gateway, r, data_source_id, schema, ids)
        state = states[r.name]
        pages, trashed = overlaid(state.pages, fresh, trashed=False), overlaid(state.trashed, fresh, trashed=True)
        states[r.name] = replace(state, pages=pages, trashed=trashed)
    reread = replace(actual, resources=states)  # the integration's user, when known, stays known
    return reread if reread.bot_user_id else with_bot_user(gateway, job, reread)


def related_data_sources(gateway: NotionReader, job: Job) -> dict[str, str]:
    """Data source id of every resource of the job (resolve is cached: no extra calls)."""
    return {r.name: gateway.resolve(r.database, r.data_source)[0] for r in job.resources}
