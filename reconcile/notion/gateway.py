"""Every Notion call of a run goes through one NotionGateway.

The gateway speaks in Notion objects and canonical values; pacing, retries and the safety of
creates live one layer down in NotionTransport. Errors from notion-client are mapped here, once,
into reconcile.errors: one line with Notion's code and message and what to do, never the token.

Reads cost the floor: one GET databases and one GET data_sources per resource (cached for the
run), then ceil(pages / 100) queries; a relation is read item by item only when Notion says it
holds more than the 25 references a page object carries.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import notion_client
from notion_client.errors import HTTPResponseError, RequestTimeoutError

from reconcile.errors import NotionAuthError, NotionError, ReconcileError
from reconcile.http import notion_bucket
from reconcile.model import Diagnostic, NotionSettings, PageState, ResourceConfig, ResourceState
from reconcile.notion.transport import (
    AmbiguousWriteError,
    CallCounter,
    NotionTransport,
    RetryPolicy,
    check_token_destination,
)
from reconcile.notion.values import decode, normalise_page_id

NOTION_VERSION = "2025-09-03"
PAGE_SIZE = 100
MAX_FILTER_CONDITIONS = 100  # Notion's limit on the items of one compound filter
SPLITTABLE_TYPES = frozenset({"title", "rich_text", "url", "email", "phone_number"})
KEY_FILTER_TYPES = frozenset({"title", "rich_text", "url", "email", "phone_number", "number", "select", "status"})
# Added to the page dict create_page returns: "created", "committed", "found" or "recreated".
RESOLUTION_KEY = "_reconcile_resolution"
_BY_CREATION = [{"timestamp": "created_time", "direction": "ascending"}]

Filter = dict[str, Any]


class NotionGateway:
    """One run's connection to Notion: resolution cache, bulk reads, guarded writes."""

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
        self._resolved: dict[tuple[str, str | None], tuple[str, dict[str, dict]]] = {}
        self._read_cache: dict[tuple[str, bool, tuple[str, str] | None], list[dict]] = {}
        self._item_cache: dict[tuple[str, str], list[dict]] = {}
        self.data_source_names: dict[str, str] = {}
        self.create_resolutions: Counter[str] = Counter()
        # Never `with Client(...)`: it swaps in a fresh httpx.Client and bypasses the transport.
        self.client = notion_client.Client(
            auth=token,
            base_url=base_url,
            notion_version=NOTION_VERSION,
            timeout_ms=int(settings.timeout_s * 1000),
            retry=False,
            client=httpx.Client(transport=self.transport),
            logger=logging.getLogger("reconcile.notion.client"),
            log_level=logging.CRITICAL,  # its failure lines would duplicate our mapped errors
        )

    def close(self) -> None:
        self.client.close()

    # ── schema ───────────────────────────────────────────────────────────────────────────────

    def resolve(self, database_id: str, data_source_name: str | None) -> tuple[str, dict[str, dict]]:
        """(data source id, schema properties by name), read once per run."""
        cache_key = (database_id, data_source_name)
        with self._lock:
            if cache_key in self._resolved:
                return self._resolved[cache_key]
        database = self._call(
            f"reading database {database_id}",
            self.client.databases.retrieve,
            database_id=database_id,
        )
        source = _pick_data_source(database_id, database.get("data_sources") or [], data_source_name)
        data_source = self._call(
            f"reading data source {source['id']}",
            self.client.data_sources.retrieve,
            data_source_id=source["id"],
        )
        resolved = (data_source["id"], dict(data_source.get("properties") or {}))
        with self._lock:
            self._resolved[cache_key] = resolved
            self.data_source_names[data_source["id"]] = source.get("name") or database_id
        return resolved

    # ── reads ────────────────────────────────────────────────────────────────────────────────

    def query_pages(
        self,
        data_source_id: str,
        *,
        filter: Filter | None = None,
        in_trash: bool = False,
        split_on: tuple[str, str] | None = None,
    ) -> list[dict]:
        """Every page matching `filter`, past Notion's 10,000-result cap, in creation order.

        A capped query (request_status incomplete) is continued with a created_time window
        starting at the last page's minute; pages of that minute are read again (the overlap
        costs ceil(overlap / 100) extra queries) and de-duplicated by id. When one minute alone
        exceeds the cap, that minute is split on the text property `split_on` (contains /
        does_not_contain a character that divides the pages seen), recursively.
        """
        # Several resources (or jobs, or a lookup and the plan) may read one data source in a run:
        # whole-source reads are served once until something is written. Filtered reads (the
        # re-check after an ambiguous create) always go to Notion.
        cache_key = (data_source_id, in_trash, split_on) if filter is None else None
        with self._lock:
            cached = self._read_cache.get(cache_key) if cache_key else None
        if cached is not None:
            return list(cached)
        found: dict[str, dict] = {}
        _QueryWalk(self, data_source_id, in_trash, split_on, found).collect(_conditions(filter))
        pages = list(found.values())
        if cache_key:
            with self._lock:
                self._read_cache[cache_key] = pages
        return list(pages)

    def forget_reads(self) -> None:
        """Drop cached reads: called on every write, so a read after a write sees it."""
        with self._lock:
            self._read_cache.clear()
            self._item_cache.clear()

    def query_window(self, data_source_id: str, conditions: list[Filter], in_trash: bool) -> tuple[list[dict], bool]:
        """The pages of one query followed through its cursors; and whether it was complete."""
        body: dict[str, Any] = {"page_size": PAGE_SIZE, "sorts": _BY_CREATION}
        if conditions:
            body["filter"] = conditions[0] if len(conditions) == 1 else {"and": conditions}
        if in_trash:
            body["in_trash"] = True
        pages: list[dict] = []
        complete = True
        cursor: str | None = None
        while True:
            response = self._call(
                f"querying data source {data_source_id}",
                self.client.data_sources.query,
                data_source_id=data_source_id,
                start_cursor=cursor,
                **body,
            )
            pages += [r for r in response.get("results", []) if r.get("object") == "page"]
            complete = complete and _is_complete(response)
            cursor = response.get("next_cursor")
            if not response.get("has_more") or not cursor:
                return pages, complete

    def read_resource(
        self,
        resource: ResourceConfig,
        *,
        data_source_id: str,
        schema: dict[str, dict],
        include_trash: bool,
        strip_warnings: list[Diagnostic],
    ) -> ResourceState:
        """The live (and, if asked, trashed) pages of a resource as canonical managed values."""
        match_type = schema.get(resource.match.property, {}).get("type", "")
        split_on = (resource.match.property, match_type) if match_type in SPLITTABLE_TYPES else None
        pages = {p["id"]: p for p in self.query_pages(data_source_id, split_on=split_on)}
        if include_trash:
            trashed = self.query_pages(data_source_id, in_trash=True, split_on=split_on)
            pages.update({p["id"]: p for p in trashed})
        managed = [name for name in resource.managed_properties if name in schema]
        states = [self._page_state(resource, page, managed, strip_warnings) for page in pages.values()]
        return ResourceState(
            resource=resource.name,
            database_id=resource.database,
            data_source_id=data_source_id,
            schema={name: prop.get("type", "") for name, prop in schema.items()},
            pages=tuple(s for s in states if not s.in_trash),
            trashed=tuple(s for s in states if s.in_trash and s.key is not None),
        )

    def read_trashed(
        self, resource: ResourceConfig, *, data_source_id: str, schema: dict[str, dict]
    ) -> tuple[PageState, ...]:
        """Trashed pages that carry a key (candidates for restore), without re-reading live ones."""
        match_type = schema.get(resource.match.property, {}).get("type", "")
        split_on = (resource.match.property, match_type) if match_type in SPLITTABLE_TYPES else None
        pages = self.query_pages(data_source_id, in_trash=True, split_on=split_on)
        managed = [name for name in resource.managed_properties if name in schema]
        states = [self._page_state(resource, page, managed, []) for page in pages]
        return tuple(s for s in states if s.in_trash and s.key is not None)

    def _page_state(
        self,
        resource: ResourceConfig,
        page: dict,
        managed: list[str],
        strip_warnings: list[Diagnostic],
    ) -> PageState:
        properties = page.get("properties") or {}
        values = {name: self._decoded(page["id"], properties[name]) for name in managed if name in properties}
        raw_key = _raw_key(values.get(resource.match.property))
        key = raw_key.strip() if raw_key is not None else None
        url = page.get("url", "")
        if key and key != raw_key:
            strip_warnings.append(_whitespace_warning(resource.name, raw_key or "", key, url))
        return PageState(
            page_id=page["id"],
            url=url,
            key=key or None,
            raw_key=raw_key,
            values=values,
            in_trash=bool(page.get("in_trash") or page.get("archived")),
            last_edited_time=page.get("last_edited_time", ""),
        )

    def _decoded(self, page_id: str, prop: dict) -> Any:
        if prop.get("type") == "relation" and prop.get("has_more"):
            items = self.retrieve_property_items(page_id, prop["id"])
            return tuple(sorted({normalise_page_id(i["relation"]["id"]) for i in items}))
        return decode(prop)

    def retrieve_page(self, page_id: str) -> dict:
        return self._call(f"reading page {page_id}", self.client.pages.retrieve, page_id=page_id)

    def retrieve_property_items(self, page_id: str, property_id: str) -> list[dict]:
        """Every item of a paginated page property (relation, title, rich_text, people)."""
        with self._lock:
            cached = self._item_cache.get((page_id, property_id))
        if cached is not None:
            return list(cached)
        items = self._property_items(page_id, property_id)
        with self._lock:
            self._item_cache[(page_id, property_id)] = items
        return list(items)

    def _property_items(self, page_id: str, property_id: str) -> list[dict]:
        items: list[dict] = []
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

    def find_pages_by_key(self, data_source_id: str, *, match_property: str, match_type: str, key: str) -> list[dict]:
        """Live pages whose match property holds `key` (surrounding whitespace ignored)."""
        condition = _key_condition(match_property, match_type, key)
        pages = self.query_pages(data_source_id, filter=condition)
        return [p for p in pages if _page_key(p, match_property) == key]

    # ── writes ───────────────────────────────────────────────────────────────────────────────

    def create_page(
        self,
        data_source_id: str,
        properties: dict,
        *,
        match_property: str,
        match_type: str,
        key: str,
    ) -> dict:
        """Create a page, or return the one an earlier ambiguous attempt already committed.

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
                page = self._create(data_source_id, properties)
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
            resolution = "created" if attempts == 1 else "recreated"
            self._record_resolution(key, resolution)
            return page | {RESOLUTION_KEY: resolution}

    def _create(self, data_source_id: str, properties: dict) -> dict:
        return self._call(
            f"creating a page in data source {data_source_id}",
            self.client.pages.create,
            parent={"type": "data_source_id", "data_source_id": data_source_id},
            properties=properties,
        )

    def _committed_page(
        self,
        exc: AmbiguousWriteError,
        data_source_id: str,
        match_property: str,
        match_type: str,
        key: str,
    ) -> dict | None:
        if exc.committed_resource_id:
            self._record_resolution(key, "committed")
            return self.retrieve_page(exc.committed_resource_id) | {RESOLUTION_KEY: "committed"}
        for delay in self._recheck_delays:
            if delay:
                self._sleep(delay)
            found = self.find_pages_by_key(
                data_source_id, match_property=match_property, match_type=match_type, key=key
            )
            if found:
                self._record_resolution(key, "found")
                return found[0] | {RESOLUTION_KEY: "found"}
        return None

    def _record_resolution(self, key: str, resolution: str) -> None:
        with self._lock:
            self.create_resolutions[resolution] += 1
        if resolution != "created":
            self._logger.info("create of %r resolved: %s", key, resolution)

    def update_page(self, page_id: str, *, properties: dict | None = None, in_trash: bool | None = None) -> dict:
        self.forget_reads()
        changes: dict[str, Any] = {}
        if properties is not None:
            changes["properties"] = properties
        if in_trash is not None:
            changes["in_trash"] = in_trash
        return self._call(f"updating page {page_id}", self.client.pages.update, page_id=page_id, **changes)

    # ── error mapping ────────────────────────────────────────────────────────────────────────

    def _call(self, what: str, fn: Callable[..., Any], /, **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except ReconcileError:
            raise
        except HTTPResponseError as exc:
            raise self._mapped(what, exc) from exc
        except RequestTimeoutError as exc:
            raise NotionError(
                f"Notion did not answer in time while {what}",
                hint=f"timeout {self.settings.timeout_s:g}s; retried within the retry policy",
                code="timeout",
            ) from exc
        except httpx.TransportError as exc:
            raise NotionError(
                f"could not reach Notion at {self.settings.base_url} while {what} ({type(exc).__name__})",
                hint="check the network or NOTION_BASE_URL",
                code="connection_error",
            ) from exc

    def _mapped(self, what: str, exc: HTTPResponseError) -> NotionError:
        code, message = _error_code_and_message(exc)
        message = self._scrub(message)
        status = exc.status
        if status == 401:
            return NotionAuthError(
                f"Notion rejected the token (NOTION_TOKEN): {message}",
                hint="set NOTION_TOKEN to the integration's internal secret",
                code=code,
                status=status,
            )
        if status == 404 and what.startswith("reading database"):
            database_id = what.rsplit(" ", 1)[-1]
            return NotionAuthError(
                f"database {database_id} not found: share it with the integration "
                "(database ⋯ menu → Connections → add the integration) and check the id",
                code=code,
                status=status,
            )
        if status in (403, 404):
            return NotionAuthError(
                f"Notion refused access while {what}: {code}: {message}",
                hint="share the database with the integration and give it read/update/insert content capabilities",
                code=code,
                status=status,
            )
        return NotionError(
            f"Notion answered {status} {code} while {what}: {message}",
            hint=_hint_for(status),
            code=code,
            status=status,
        )

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text


# ── the capped-query walk ────────────────────────────────────────────────────────────────────────


class _QueryWalk:
    """Collects every page under some conditions, splitting windows that hit the result cap."""

    def __init__(
        self,
        gateway: NotionGateway,
        data_source_id: str,
        in_trash: bool,
        split_on: tuple[str, str] | None,
        found: dict[str, dict],
    ) -> None:
        self.gateway = gateway
        self.data_source_id = data_source_id
        self.in_trash = in_trash
        self.split_on = split_on
        self.found = found

    def collect(self, conditions: list[Filter]) -> None:
        # Shown created_time is rounded down to the minute, while the filter may compare the
        # precise time: bounds are whole minutes, half-open [T, T + 1 min), correct either way.
        lower: str | None = None
        while True:
            window = conditions + ([_created("on_or_after", lower)] if lower else [])
            pages = self._query(window)
            if pages is None:
                return
            first, last = _minute(pages[0]["created_time"]), _minute(pages[-1]["created_time"])
            if first != last:
                lower = last
                continue
            # One minute holds the whole capped window: created_time cannot divide it further.
            following = _next_minute(last)
            minute = [_created("on_or_after", last), _created("before", following)]
            self.split(conditions + minute, pages, used=frozenset())
            lower = following

    def split(self, conditions: list[Filter], seen: list[dict], used: frozenset[str]) -> None:
        char = self._dividing_char(seen, used)
        if char is None or len(conditions) + 1 > MAX_FILTER_CONDITIONS:
            raise NotionError(
                f"more than the query cap of pages in data source {self.data_source_id} were "
                f"created in the same minute ({seen[0].get('created_time')}) and cannot be "
                "divided further by their match property; reconcile cannot read them all",
                hint="Notion returns at most 10,000 results per query",
                code="query_result_limit_reached",
            )
        name, prop_type = self.split_on or ("", "")
        for operator in ("contains", "does_not_contain"):
            branch = [*conditions, {"property": name, prop_type: {operator: char}}]
            pages = self._query(branch)
            if pages is not None:
                self.split(branch, pages, used | {char})

    def _query(self, conditions: list[Filter]) -> list[dict] | None:
        """The pages of a capped query (recorded), or None when the query was complete."""
        pages, complete = self.gateway.query_window(self.data_source_id, conditions, self.in_trash)
        for page in pages:
            self.found.setdefault(page["id"], page)
        return None if complete or not pages else pages

    def _dividing_char(self, pages: list[dict], used: frozenset[str]) -> str | None:
        """The character present in closest to half of the pages' match values."""
        if self.split_on is None:
            return None
        name = self.split_on[0]
        counts: Counter[str] = Counter()
        for page in pages:
            counts.update(set(_page_text(page, name)) - used)
        half = len(pages) / 2
        dividing = [c for c, n in counts.items() if 0 < n < len(pages)]
        return min(dividing, key=lambda c: (abs(counts[c] - half), c), default=None)


# ── helpers ──────────────────────────────────────────────────────────────────────────────────────


def _pick_data_source(database_id: str, sources: list[dict], name: str | None) -> dict:
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


def _conditions(filter: Filter | None) -> list[Filter]:
    if filter is None:
        return []
    if set(filter) == {"and"}:
        return list(filter["and"])
    return [filter]


def _created(operator: str, moment: str) -> Filter:
    return {"timestamp": "created_time", "created_time": {operator: moment}}


def _minute(moment: str) -> str:
    """An ISO timestamp rounded down to its minute, as "YYYY-MM-DDTHH:MM:00.000Z" in UTC."""
    parsed = datetime.fromisoformat(moment).astimezone(UTC)
    return parsed.strftime("%Y-%m-%dT%H:%M:00.000Z")


def _next_minute(minute: str) -> str:
    return _minute((datetime.fromisoformat(minute) + timedelta(minutes=1)).isoformat())


def _is_complete(response: dict) -> bool:
    status = response.get("request_status") or {}
    return status.get("type") != "incomplete"


def _raw_key(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return None
    return str(value)


def _page_text(page: dict, name: str) -> str:
    prop = (page.get("properties") or {}).get(name)
    if not prop:
        return ""
    value = decode(prop)
    return value if isinstance(value, str) else ""


def _page_key(page: dict, name: str) -> str | None:
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


def _whitespace_warning(resource: str, raw_key: str, key: str, url: str) -> Diagnostic:
    return Diagnostic(
        severity="warning",
        code="key_whitespace",
        message=f"{resource}: the key {raw_key!r} has surrounding whitespace; matched as {key!r}",
        resource=resource,
        key=key,
        urls=(url,) if url else (),
    )


def _error_code_and_message(exc: HTTPResponseError) -> tuple[str, str]:
    """Notion's own code and message, also for bodies notion-client did not recognise."""
    code, message = str(getattr(exc.code, "value", exc.code)), str(exc)
    try:
        body = json.loads(exc.body)
    except (TypeError, ValueError):
        body = None
    if isinstance(body, dict):
        code = body.get("code") if isinstance(body.get("code"), str) else code
        message = body.get("message") if isinstance(body.get("message"), str) else message
    elif code == "notionhq_client_response_error":
        code = "non_json_response"
    return code, message


def _hint_for(status: int) -> str | None:
    if status == 400:
        return "the request did not fit the data source; check the mapped values and schema"
    if status == 429:
        return "rate limited after every retry; lower notion.rate_limit or retry later"
    if status >= 500 or status == 409:
        return "Notion kept failing after every retry; run again later"
    return None
