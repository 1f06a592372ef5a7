"""Every Notion call of a run goes through one NotionGateway, the implementation of reconcile.ports.Gateway.

The gateway speaks in Notion objects and canonical values; pacing, retries and the safety of
creates live one layer down in NotionTransport. Errors from notion-client are mapped once
(reconcile.notion.failures) into reconcile.errors: one line with Notion's code and message and
what to do, never the token.

Reads cost the floor: one GET databases and one GET data_sources per resource (cached for the
run), then ceil(pages / 100) queries (past the 10,000-result cap: reconcile.notion.paging); a
relation is read item by item only when Notion says it holds more than the 25 references a page
object carries.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import notion_client
from notion_client.errors import HTTPResponseError, RequestTimeoutError

from reconcile.errors import NotionError, ReconcileError
from reconcile.http import AcyclicClient, notion_bucket
from reconcile.model import NotionSettings, PageState, ResourceConfig, ResourceState, UserDirectory, usual_page_url
from reconcile.notion.failures import connection_error, response_error, timeout_error
from reconcile.notion.paging import (
    DecodedRead,
    Filter,
    Kept,
    OnPage,
    QueryWalk,
    conditions_of,
    follow_cursors,
    plain_title,
)
from reconcile.notion.schema import live_options
from reconcile.notion.transport import (
    AmbiguousWriteError,
    CallCounter,
    NotionTransport,
    RetryPolicy,
    check_token_destination,
)
from reconcile.notion.users import WHAT as LISTING_USERS
from reconcile.notion.users import list_users, user_directory
from reconcile.ports import ApiCalls, CreatedPage, NotionObject, PropertySchema, Resolution
from reconcile.values import decode, normalise_page_id

__all__ = ["NOTION_VERSION", "NotionGateway"]

NOTION_VERSION = "2025-09-03"
PAGE_SIZE = 100
SPLITTABLE_TYPES = frozenset({"title", "rich_text", "url", "email", "phone_number"})
KEY_FILTER_TYPES = frozenset({"title", "rich_text", "url", "email", "phone_number", "number", "select", "status"})
_BY_CREATION = [{"timestamp": "created_time", "direction": "ascending"}]


class NotionGateway:
    """One run's connection to Notion (reconcile.ports.Gateway): resolution cache, bulk reads, guarded writes."""

    def __init__(
        self,
        token: str,
        settings: NotionSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger | None = None,
        recheck_delays: tuple[float, ...] | None = None,
    ) -> None:
        base_url = settings.base_url.rstrip("/")
        check_token_destination(base_url)
        self.settings = settings
        self.counter = CallCounter()
        # A little under the configured rate, one token of the burst in reserve, and slower for the
        # rest of the run when Notion answers 429 (reconcile/http.py).
        self.bucket = notion_bucket(settings.rate_limit, settings.burst, clock=clock, sleep=sleep)
        policy = RetryPolicy(
            max_attempts=settings.max_attempts,
            max_total_s=settings.max_retry_seconds,
            base_delay_s=settings.retry_base_s,
        )
        self.transport = NotionTransport(
            transport, policy, self.bucket, self.counter, clock=clock, sleep=sleep, logger=logger
        )
        self._token = token
        self._sleep = sleep
        self._logger = logger or logging.getLogger("reconcile.notion")
        # The re-check after an ambiguous create waits like retries do: long enough for a commit
        # still in flight to land (0, 1 and 3 backoff bases: 0, 0.5 s and 1.5 s by default).
        base = settings.retry_base_s
        self._recheck_delays = recheck_delays if recheck_delays is not None else (0.0, base, 3 * base)
        self._lock = threading.Lock()
        self._resolved: dict[tuple[str, str | None], tuple[str, PropertySchema]] = {}
        self._read_cache: dict[tuple[str, bool, tuple[str, str] | None], DecodedRead] = {}
        self._item_cache: dict[tuple[str, str], list[NotionObject]] = {}
        self.data_source_names: dict[str, str] = {}
        self._bot_user_id: str | None = None
        self._server_time: str | None = None
        self._users: UserDirectory | None = None
        self.create_resolutions: Counter[Resolution] = Counter()
        # Never `with Client(...)`: it swaps in a fresh httpx.Client and bypasses the transport.
        self.client = notion_client.Client(
            auth=token,
            base_url=base_url,
            notion_version=NOTION_VERSION,
            timeout_ms=int(settings.timeout_s * 1000),
            retry=False,
            client=AcyclicClient(transport=self.transport, event_hooks={"response": [self._note_server_time]}),
            logger=logging.getLogger("reconcile.notion.client"),
            log_level=logging.CRITICAL,  # its failure lines would duplicate our mapped errors
        )

    def close(self) -> None:
        self.client.close()

    def server_time(self) -> str | None:
        """Notion's own time when it answered the latest request (its Date header, to the second), in
        Notion's ISO form; None before any answer or when the header was missing. The read cache's
        cursor: every later edit carries this time or a later one, whatever this machine's clock says."""
        with self._lock:
            return self._server_time

    def _note_server_time(self, response: httpx.Response) -> None:
        moment = _http_date(response.headers.get("date"))
        if moment is not None:
            with self._lock:
                self._server_time = moment

    def api_calls(self) -> ApiCalls:
        counts = self.counter.snapshot()
        return ApiCalls(
            total=int(counts["total"]),
            by_route=dict(counts["by_route"]),
            rate_limited=int(counts["rate_limited"]),
            retries=int(counts["retries"]),
        )

    # ── schema ───────────────────────────────────────────────────────────────────────────────

    def resolve(self, database_id: str, data_source_name: str | None) -> tuple[str, PropertySchema]:
        """(data source id, schema properties by name), read once per run."""
        cache_key = (database_id, data_source_name)
        with self._lock:
            if cache_key in self._resolved:
                return self._resolved[cache_key]
        database = self.retrieve_database(database_id)
        source = _pick_data_source(database_id, database.get("data_sources") or [], data_source_name)
        data_source = self._call(
            f"reading data source {source['id']}",
            self.client.data_sources.retrieve,
            data_source_id=source["id"],
        )
        resolved = (str(data_source["id"]), dict(data_source.get("properties") or {}))
        with self._lock:
            self._resolved[cache_key] = resolved
            self.data_source_names[resolved[0]] = source.get("name") or database_id
        return resolved

    def data_source_name(self, data_source_id: str) -> str | None:
        with self._lock:
            return self.data_source_names.get(data_source_id)

    def data_source_title(self, data_source_id: str) -> str:
        """The title of any data source shared with the integration (for messages: one GET)."""
        found = self.data_source_name(data_source_id) or self._call(
            f"reading data source {data_source_id}", self.client.data_sources.retrieve, data_source_id=data_source_id
        )
        return found if isinstance(found, str) else plain_title(found) or data_source_id

    def bot_user_id(self) -> str:
        """The integration's own user id (`GET /v1/users/me`), asked once per run."""
        with self._lock:
            if self._bot_user_id is not None:
                return self._bot_user_id
        me = self._call("asking Notion who this integration is", self.client.users.me)
        with self._lock:
            self._bot_user_id = str(me.get("id") or "")
            return self._bot_user_id

    def users(self) -> UserDirectory:
        """The workspace's people (`GET /v1/users`, paged), read once per run."""
        with self._lock:
            if self._users is not None:
                return self._users

        def page_at(cursor: str | None) -> NotionObject:
            cursor_arg = {"start_cursor": cursor} if cursor else {}
            return self._call(LISTING_USERS, self.client.users.list, page_size=PAGE_SIZE, **cursor_arg)

        directory = user_directory(list_users(page_at))
        with self._lock:
            self._users = directory
        return directory

    def retrieve_database(self, database_id: str) -> NotionObject:
        return self._call(f"reading database {database_id}", self.client.databases.retrieve, database_id=database_id)

    # ── reads ────────────────────────────────────────────────────────────────────────────────

    def query_pages(
        self,
        data_source_id: str,
        *,
        filter: Filter | None = None,
        in_trash: bool = False,
        split_on: tuple[str, str] | None = None,
    ) -> list[NotionObject]:
        """Every page matching `filter`, past Notion's 10,000-result cap, in creation order, as raw
        page objects (for the few reads that need them; bulk reads decode as pages stream in)."""
        found = self.walk_pages(data_source_id, keep=_raw_page, filter=filter, in_trash=in_trash, split_on=split_on)
        return list(found.values())

    def walk_pages(
        self,
        data_source_id: str,
        *,
        keep: Callable[[NotionObject], Kept],
        filter: Filter | None = None,
        in_trash: bool = False,
        split_on: tuple[str, str] | None = None,
    ) -> dict[str, Kept]:
        """What `keep` makes of every page matching `filter`, by page id, in creation order: each page
        is handed to `keep` as its answer arrives, so no raw page outlives the answer it came in."""
        walk = QueryWalk(self.query_window, data_source_id, in_trash, split_on, keep)
        return walk.collect(conditions_of(filter))

    def forget_reads(self) -> None:
        """Drop cached reads: called on every write, so a read after a write sees it."""
        with self._lock:
            self._read_cache.clear()
            self._item_cache.clear()

    def query_window(self, data_source_id: str, conditions: list[Filter], in_trash: bool, on_page: OnPage) -> bool:
        """One query followed through its cursors, its pages handed to `on_page`; whether it was complete."""
        body: dict[str, Any] = {"page_size": PAGE_SIZE, "sorts": _BY_CREATION}
        if conditions:
            body["filter"] = conditions[0] if len(conditions) == 1 else {"and": conditions}
        if in_trash:
            body["in_trash"] = True
        what = f"querying data source {data_source_id}"

        def page_at(cursor: str | None) -> NotionObject:
            query = self.client.data_sources.query
            return self._call(what, query, data_source_id=data_source_id, start_cursor=cursor, **body)

        return follow_cursors(page_at, what, on_page)

    def read_resource(
        self,
        resource: ResourceConfig,
        *,
        data_source_id: str,
        schema: PropertySchema,
        include_trash: bool = False,
    ) -> ResourceState:
        """The live (and, if asked, trashed) pages of a resource as canonical managed values.

        Keys are matched stripped; the key exactly as stored stays in PageState.raw_key, from
        which the plan warns about keys with surrounding white space.
        """
        states = self._page_states(resource, data_source_id, schema, in_trash=False)
        if include_trash:
            states = {**states, **self._page_states(resource, data_source_id, schema, in_trash=True)}
        return ResourceState(
            resource=resource.name,
            database_id=resource.database,
            data_source_id=data_source_id,
            schema={name: prop.get("type", "") for name, prop in schema.items()},
            pages=tuple(s for s in states.values() if not s.in_trash),
            trashed=tuple(s for s in states.values() if s.in_trash and s.key is not None),
            options=live_options(schema),
        )

    def read_trashed(
        self, resource: ResourceConfig, *, data_source_id: str, schema: PropertySchema
    ) -> tuple[PageState, ...]:
        """Trashed pages that carry a key (candidates for restore), without re-reading live ones."""
        states = self._page_states(resource, data_source_id, schema, in_trash=True)
        return tuple(s for s in states.values() if s.in_trash and s.key is not None)

    def _page_states(
        self, resource: ResourceConfig, data_source_id: str, schema: PropertySchema, *, in_trash: bool
    ) -> dict[str, PageState]:
        """A data source's (live or trashed) pages as the resource's PageStates, decoded as they stream in.

        Several resources (or jobs, or a lookup and the plan) may read one data source in a run:
        a whole-source read is served once until something is written, to any resource that
        matches on the same property and manages the same properties or fewer.
        """
        managed = [name for name in resource.managed_properties if name in schema]
        split_on = _split_on(resource, schema)
        cache_key = (data_source_id, in_trash, split_on)
        with self._lock:
            cached = self._read_cache.get(cache_key)
        if cached is not None and cached.serves(resource.match.property, managed):
            return cached.projected(managed)
        states = self.walk_pages(
            data_source_id,
            keep=lambda page: self._page_state(resource, page, managed),
            in_trash=in_trash,
            split_on=split_on,
        )
        read = DecodedRead(resource.match.property, frozenset(managed), tuple(states.values()))
        with self._lock:
            self._read_cache[cache_key] = read
        return states

    def read_edited_since(
        self,
        resource: ResourceConfig,
        *,
        data_source_id: str,
        schema: PropertySchema,
        since: str,
        in_trash: bool,
    ) -> tuple[PageState, ...]:
        """Live (or trashed) pages whose last_edited_time is on or after `since` ("" for all), keyless
        ones too: what an incremental read lays over the read cache (reconcile/readcache.py)."""
        condition = {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": since}} if since else None
        split_on = _split_on(resource, schema)
        managed = [name for name in resource.managed_properties if name in schema]

        def keep(page: NotionObject) -> PageState:
            return self._page_state(resource, page, managed)

        states = self.walk_pages(data_source_id, keep=keep, filter=condition, in_trash=in_trash, split_on=split_on)
        return tuple(s for s in states.values() if s.in_trash == in_trash)

    def read_pages(
        self, resource: ResourceConfig, page_ids: Iterable[str], *, data_source_id: str, schema: PropertySchema
    ) -> tuple[PageState, ...]:
        """Pages retrieved one by one, as canonical managed values, live or trashed.

        Retrieving a page by id shows every write at once, where the query index may lag behind.
        A page that is gone, not shared, or no longer in this data source is left out.
        """
        managed = [name for name in resource.managed_properties if name in schema]
        states = []
        for page_id in page_ids:
            try:
                page = self.retrieve_page(page_id)
            except NotionError as exc:
                if exc.status in (403, 404):
                    continue
                raise
            if _same_id((page.get("parent") or {}).get("data_source_id"), data_source_id):
                states.append(self._page_state(resource, page, managed))
        return tuple(states)

    def _page_state(self, resource: ResourceConfig, page: NotionObject, managed: list[str]) -> PageState:
        properties = page.get("properties") or {}
        values = {name: self._decoded(page["id"], properties[name]) for name in managed if name in properties}
        raw_key = _raw_key(values.get(resource.match.property))
        key = raw_key.strip() if raw_key is not None else None
        title = shared_title(page_title(properties), values)
        return PageState(
            page_id=page["id"],
            url=unless_usual(str(page.get("url", "")), title, page["id"]),
            key=key or None,
            raw_key=raw_key,
            values=values,
            in_trash=bool(page.get("in_trash") or page.get("archived")),
            # Shared by many pages (minutes, the integration's user): one string each, not one per page.
            last_edited_time=sys.intern(str(page.get("last_edited_time") or "")),
            created_time=sys.intern(str(page.get("created_time") or "")),
            created_by=sys.intern(_user_id(page.get("created_by"))),
            last_edited_by=sys.intern(_user_id(page.get("last_edited_by"))),
            title=title,
            icon=shown_icon(page.get("icon")),
            cover=shown_icon(page.get("cover")),
        )

    def _decoded(self, page_id: str, prop: NotionObject) -> Any:
        if prop.get("type") == "relation" and prop.get("has_more"):
            items = self.retrieve_property_items(page_id, prop["id"])
            return tuple(sorted({normalise_page_id(i["relation"]["id"]) for i in items}))
        return decode(prop)

    def retrieve_page(self, page_id: str) -> NotionObject:
        return self._call(f"reading page {page_id}", self.client.pages.retrieve, page_id=page_id)

    def retrieve_property_items(self, page_id: str, property_id: str) -> list[NotionObject]:
        """Every item of a paginated page property (relation, title, rich_text, people)."""
        with self._lock:
            cached = self._item_cache.get((page_id, property_id))
        if cached is not None:
            return list(cached)
        items = self._property_items(page_id, property_id)
        with self._lock:
            self._item_cache[(page_id, property_id)] = items
        return list(items)

    def _property_items(self, page_id: str, property_id: str) -> list[NotionObject]:
        items: list[NotionObject] = []
        cursor: str | None = None
        while True:
            response = self._call(
                f"reading property {property_id} of page {page_id}",
                self.client.pages.properties.retrieve,
                page_id=page_id,
                property_id=property_id,
                start_cursor=cursor,
                page_size=PAGE_SIZE,
            )
            if response.get("object") != "list":
                return [response]
            items += response.get("results", [])
            cursor = response.get("next_cursor")
            if not response.get("has_more") or not cursor:
                return items

    def read_body(self, block_id: str) -> list[NotionObject]:
        """A page's (or block's) children in order, each with its own under "children": one paged
        GET per block that has children."""
        blocks: list[NotionObject] = []
        cursor: str | None = None
        while True:
            response = self._call(
                f"reading the content of {block_id}",
                self.client.blocks.children.list,
                block_id=block_id,
                start_cursor=cursor,
                page_size=PAGE_SIZE,
            )
            blocks += response.get("results", [])
            cursor = response.get("next_cursor")
            if not response.get("has_more") or not cursor:
                break
        for block in blocks:
            if block.get("has_children") and block.get("type") not in ("child_page", "child_database"):
                block["children"] = self.read_body(str(block["id"]))
        return blocks

    def find_pages_by_key(
        self, data_source_id: str, *, match_property: str, match_type: str, key: str
    ) -> list[NotionObject]:
        """Live pages whose match property holds `key` (surrounding whitespace ignored)."""
        condition = _key_condition(match_property, match_type, key)
        pages = self.query_pages(data_source_id, filter=condition)
        return [p for p in pages if _page_key(p, match_property) == key]

    def search_data_sources(self, query: str) -> list[NotionObject]:
        found = self._call(
            f"searching for an existing {query!r} database",
            self.client.search,
            query=query,
            filter={"property": "object", "value": "data_source"},
        )
        return list(found.get("results", []))

    # ── writes ───────────────────────────────────────────────────────────────────────────────

    def create_page(
        self,
        data_source_id: str,
        properties: dict[str, NotionObject],
        *,
        match_property: str,
        match_type: str,
        key: str,
        children: list[NotionObject] | None = None,
        parts: NotionObject | None = None,
    ) -> CreatedPage:
        """Create a page (with `children` blocks and the `parts` icon and cover), or return the one an
        earlier ambiguous attempt already committed.

        A create whose outcome is unknown is never resent blindly: the page named by Notion's
        committed_resource_id is returned, else the data source is re-queried by key (a few
        times, to ride out indexing lag) and a new create is sent only if the page is absent.
        How each create ended is counted in `create_resolutions`.
        """
        self.forget_reads()
        attempts = 0
        while True:
            attempts += 1
            try:
                page = self._create(data_source_id, properties, children, parts)
            except AmbiguousWriteError as exc:
                existing = self._committed_page(exc, data_source_id, match_property, match_type, key)
                if existing is not None:
                    return existing
                if attempts >= max(3, self.settings.max_attempts):
                    raise NotionError(
                        f"could not create the page for key {key!r}: {exc.message}",
                        hint="run plan again; the next apply re-checks before creating",
                        code=exc.code,
                        status=exc.status,
                    ) from exc
                self._logger.warning("create of %r was not committed; creating again", key)
                continue
            return self._resolved_create(key, page, "created" if attempts == 1 else "recreated")

    def _create(
        self,
        data_source_id: str,
        properties: dict[str, NotionObject],
        children: list[NotionObject] | None = None,
        parts: NotionObject | None = None,
    ) -> NotionObject:
        extra: dict[str, Any] = dict(parts or {})
        if children:
            extra["children"] = children
        return self._call(
            f"creating a page in data source {data_source_id}",
            self.client.pages.create,
            parent={"type": "data_source_id", "data_source_id": data_source_id},
            properties=properties,
            **extra,
        )

    def _committed_page(
        self,
        exc: AmbiguousWriteError,
        data_source_id: str,
        match_property: str,
        match_type: str,
        key: str,
    ) -> CreatedPage | None:
        if exc.committed_resource_id:
            return self._resolved_create(key, self.retrieve_page(exc.committed_resource_id), "committed")
        for delay in self._recheck_delays:
            if delay:
                self._sleep(delay)
            found = self.find_pages_by_key(
                data_source_id, match_property=match_property, match_type=match_type, key=key
            )
            if found:
                return self._resolved_create(key, found[0], "found")
        return None

    def _resolved_create(self, key: str, page: NotionObject, resolution: Resolution) -> CreatedPage:
        with self._lock:
            self.create_resolutions[resolution] += 1
        if resolution != "created":
            self._logger.info("create of %r resolved: %s", key, resolution)
        return CreatedPage(page=page, resolution=resolution)

    def update_page(
        self,
        page_id: str,
        *,
        properties: dict[str, NotionObject] | None = None,
        in_trash: bool | None = None,
        parts: NotionObject | None = None,
    ) -> NotionObject:
        """Write properties, trash state and the `parts` icon and cover (None in them clears)."""
        self.forget_reads()
        changes: dict[str, Any] = dict(parts or {})
        if properties is not None:
            changes["properties"] = properties
        if in_trash is not None:
            changes["in_trash"] = in_trash
        return self._call(f"updating page {page_id}", self.client.pages.update, page_id=page_id, **changes)

    def append_blocks(self, parent_id: str, children: list[NotionObject], after: str | None) -> list[str]:
        """Append blocks under a page or block, at the end, at the start (`after` "start") or after
        a block; the ids of the new blocks, in order."""
        self.forget_reads()
        where: dict[str, Any] = {}
        if after == "start":
            where["position"] = {"type": "start"}
        elif after:
            where["after"] = after
        answer = self._call(
            f"appending {len(children)} block(s) to {parent_id}",
            self.client.blocks.children.append,
            block_id=parent_id,
            children=children,
            **where,
        )
        return [str(b["id"]) for b in (answer.get("results") or [])[: len(children)]]

    def update_block(self, block_id: str, body: NotionObject) -> NotionObject:
        return self._call(f"updating block {block_id}", self.client.blocks.update, block_id=block_id, **body)

    def delete_block(self, block_id: str) -> NotionObject:
        """Move a block to the trash (Notion's delete is a trash: a person can restore it)."""
        return self._call(f"moving block {block_id} to the trash", self.client.blocks.delete, block_id=block_id)

    def update_data_source(self, data_source_id: str, properties: dict[str, NotionObject | None]) -> NotionObject:
        """One schema update of a data source (PATCH /v1/data_sources/{id}); Notion answers with the
        data source as it now is. The run's resolved schemas are read again after it."""
        self.forget_reads()
        with self._lock:
            self._resolved = {k: v for k, v in self._resolved.items() if not _same_id(v[0], data_source_id)}
        return self._call(
            f"updating the schema of data source {data_source_id}",
            self.client.data_sources.update,
            data_source_id=data_source_id,
            properties=properties,
        )

    def retrieve_data_source(self, data_source_id: str) -> NotionObject:
        return self._call(
            f"reading data source {data_source_id}", self.client.data_sources.retrieve, data_source_id=data_source_id
        )

    def create_database(self, parent_page_id: str, title: str, properties: dict[str, NotionObject]) -> NotionObject:
        """A database under a page, with one data source of these properties."""
        return self._call(
            f"creating database {title!r}",
            self.client.databases.create,
            parent={"type": "page_id", "page_id": parent_page_id},
            title=[{"type": "text", "text": {"content": title}}],
            initial_data_source={"properties": properties},
        )

    # ── error mapping ────────────────────────────────────────────────────────────────────────

    def _call(self, what: str, fn: Callable[..., Any], /, **kwargs: Any) -> NotionObject:
        try:
            result: NotionObject = fn(**kwargs)
        except ReconcileError:
            raise
        except HTTPResponseError as exc:
            raise response_error(what, exc, self._token) from exc
        except RequestTimeoutError as exc:
            raise timeout_error(what, self.settings.timeout_s) from exc
        except httpx.TransportError as exc:
            raise connection_error(what, self.settings.base_url, exc) from exc
        return result


# ── helpers ──────────────────────────────────────────────────────────────────────────────────────


def _pick_data_source(database_id: str, sources: list[NotionObject], name: str | None) -> NotionObject:
    names = [s.get("name", "") for s in sources]
    if name is not None:
        for source in sources:
            if source.get("name") == name:
                return source
        raise NotionError(
            f"database {database_id} has no data source named {name!r}; it has: "
            f"{', '.join(repr(n) for n in names) or 'none'}",
            hint="fix data_source: in the config",
            code="data_source_not_found",
        )
    if len(sources) == 1:
        return sources[0]
    if not sources:
        raise NotionError(f"database {database_id} has no data source", code="no_data_source")
    raise NotionError(
        f"database {database_id} has {len(sources)} data sources "
        f"({', '.join(repr(n) for n in names)}): set data_source: to the one to sync",
        code="multiple_data_sources",
    )


def _split_on(resource: ResourceConfig, schema: PropertySchema) -> tuple[str, str] | None:
    """The match property, when its type lets a capped minute be divided by a character."""
    match_type = str(schema.get(resource.match.property, {}).get("type", ""))
    return (resource.match.property, match_type) if match_type in SPLITTABLE_TYPES else None


def _http_date(value: str | None) -> str | None:
    """An HTTP Date header as "YYYY-MM-DDTHH:MM:SS.000Z" (None when absent or not a date)."""
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _raw_page(page: NotionObject) -> NotionObject:
    return page


def _same_id(a: Any, b: str) -> bool:
    return isinstance(a, str) and a.replace("-", "").lower() == b.replace("-", "").lower()


def _raw_key(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return None
    return str(value)


def _user_id(user: Any) -> str:
    return str(user.get("id") or "") if isinstance(user, dict) else ""


def _page_key(page: NotionObject, name: str) -> str | None:
    prop = (page.get("properties") or {}).get(name)
    raw = _raw_key(decode(prop)) if prop else None
    return raw.strip() if raw is not None else None


def _key_condition(match_property: str, match_type: str, key: str) -> Filter:
    if match_type not in KEY_FILTER_TYPES:
        raise NotionError(
            f"cannot look pages up by a {match_type} property ({match_property})",
            code="unsupported_match_type",
        )
    value: Any = key
    if match_type == "number":
        number = float(key)
        value = int(number) if number.is_integer() else number
    return {"property": match_property, match_type: {"equals": value}}


def shown_icon(value: Any) -> str | None:
    """An icon or cover as the plan compares it: the emoji, the external URL, or a name for the
    kinds a config cannot write (an uploaded file's URL changes on every read)."""
    if not isinstance(value, dict):
        return None
    kind = str(value.get("type") or "")
    if kind == "emoji":
        return str(value.get("emoji") or "")
    if kind == "external":
        return str((value.get("external") or {}).get("url") or "")
    return f"({kind or 'unknown'} {'icon' if kind != 'file' else 'file'})"


def unless_usual(url: str, title: str, page_id: str) -> str | None:
    """The page's URL, or None when it is the one Notion usually gives (PageState.link derives it)."""
    return None if url == usual_page_url(title, page_id) else url


def shared_title(title: str, values: dict[str, Any]) -> str:
    """The title, as the same string as the managed title value when that is equal (one string per
    page, not two)."""
    return next((v for v in values.values() if isinstance(v, str) and v == title), title)


def page_title(properties: NotionObject) -> str:
    """The text of the page's title property ("" when it has none)."""
    for prop in properties.values():
        if isinstance(prop, dict) and prop.get("type") == "title":
            return "".join(str(t.get("plain_text", "")) for t in prop.get("title") or [])
    return ""
