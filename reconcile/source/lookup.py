"""Enrich existing pages: one templated GET per page, its response mapped onto that same page.

    Notion (one bulk read) ─▶ pages with every `requires` property ─▶ URLs ({Property} filled in)
        ─▶ each distinct URL GET once, under a rate limit ─▶ rows {"page": {...}, "response": ...}

The gateway serves the state read that follows from the same query (reads are cached per run until
a write), so the data source is queried once. Lookups go through the one HTTP layer
(source/client.py), paced by its token bucket (retries too) and retried like any source. A lookup
that fails (HTTP error after the retries, a body that is not JSON, nothing at `records`, text
Notion cannot store) becomes a per-key error Diagnostic and that page gets no row: nothing is
written for it, and the other lookups go on.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import httpx

from reconcile.desired import key_text
from reconcile.errors import SourceError
from reconcile.expressions import ExpressionError, compile_expression
from reconcile.http import RetryPolicy, TokenBucket, shown_url
from reconcile.model import Diagnostic, Job, PageState, PropertyMapping, Record, ResourceConfig, ResourceState
from reconcile.ports import NotionReader
from reconcile.source.client import SourceClient
from reconcile.source.common import unstorable_text

__all__ = ["DEFAULT_LOOKUP_RATE", "fetch_lookup", "fill_template", "read_lookup_pages"]

DEFAULT_LOOKUP_RATE = 5.0  # requests per second; planning.data.gov.uk asks clients to be gentle
# No burst: 5 per second means 5 in the first second too.
DEFAULT_LOOKUP_BURST = 1
_FIELD = re.compile(r"\{([^{}]+)\}")

Outcome = tuple[Any, str | None]  # (document, None) or (None, why it failed)


# What a lookup needs from Notion: the data source and one bulk read of its pages.
LookupGateway = NotionReader


def fetch_lookup(
    job: Job,
    gateway: LookupGateway,
    *,
    diagnostics: list[Diagnostic],
    transport: httpx.BaseTransport | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    logger: logging.Logger | None = None,
) -> list[Record]:
    """One row per looked-up page; failed lookups are appended to `diagnostics`, not raised."""
    source = job.source
    resource = job.resource(source.options["resource"])
    requires = tuple(source.options.get("requires") or ())
    state = read_lookup_pages(gateway, resource, requires)
    templates: dict[str, str] = dict(source.options.get("urls") or {"": source.endpoint})
    wanted = [(page, page_urls(templates, page, requires)) for page in state.pages if is_looked_up(page, requires)]
    rate = source.options.get("rate_limit", DEFAULT_LOOKUP_RATE)  # None: unpaced (tests)
    bucket = TokenBucket(float(rate) if rate else None, DEFAULT_LOOKUP_BURST, clock=clock, sleep=sleep)
    distinct = list(dict.fromkeys(url for _, urls in wanted for url in urls.values()))
    with SourceClient(
        source,
        what="lookup",
        transport=transport,
        policy=policy,
        bucket=bucket,
        sleep=sleep,
        clock=clock,
        logger=logger,
    ) as client:
        outcomes = {url: fetch_one(client, url) for url in distinct}
    rows = []
    for page, urls in wanted:
        row = page_row(page, resource, requires, urls, outcomes, source.records, diagnostics)
        if row is not None:
            rows.append(row)
    if diagnostics and resource.on_missing.action != "ignore" and len(rows) < len(wanted):
        # A page whose lookup failed would look like a page that left the source.
        raise SourceError(
            f"{len(wanted) - len(rows)} lookup(s) of {resource.name} failed and its on_missing is "
            f"{resource.on_missing.action!r}: {diagnostics[-1].message}",
            hint="nothing was written; a failed lookup must not mark or archive a page",
        )
    return rows


def read_lookup_pages(gateway: LookupGateway, resource: ResourceConfig, requires: tuple[str, ...]) -> ResourceState:
    """The resource's live pages in one bulk read, with the `requires` properties decoded too."""
    data_source_id, schema = gateway.resolve(resource.database, resource.data_source)
    absent = [p for p in requires if p not in schema]
    if absent:
        raise SourceError(
            f"the lookup of {resource.name} needs property {absent[0]!r}, which its data source does not have",
            hint=f"add {absent[0]!r} to the database, or fix lookup.requires",
        )
    extra = tuple(PropertyMapping(name=p) for p in requires if p not in resource.managed_properties)
    widened = replace(resource, properties=(*resource.properties, *extra))
    return gateway.read_resource(widened, data_source_id=data_source_id, schema=schema)


def is_looked_up(page: PageState, requires: tuple[str, ...]) -> bool:
    """A page is looked up when it has its key (to be matched) and every required value."""
    return bool(page.key) and all(key_text(page.values.get(p)) for p in requires)


def page_urls(templates: Mapping[str, str], page: PageState, requires: tuple[str, ...]) -> dict[str, str]:
    return {name: fill_template(template, page.values) for name, template in templates.items()}


def fill_template(template: str, values: Mapping[str, Any]) -> str:
    """`template` with each `{Property}` replaced by the page's value, URL-encoded."""
    return _FIELD.sub(lambda m: quote(key_text(values.get(m.group(1))), safe=""), template)


def fetch_one(client: SourceClient, url: str) -> Outcome:
    try:
        return client.get_json(url), None
    except SourceError as exc:
        return None, exc.message


def page_row(
    page: PageState,
    resource: ResourceConfig,
    requires: tuple[str, ...],
    urls: Mapping[str, str],
    outcomes: Mapping[str, Outcome],
    records: str,
    diagnostics: list[Diagnostic],
) -> Record | None:
    """{"page": ..., "response": ...} for the page, or None (and a Diagnostic) when a lookup failed."""
    responses: dict[str, Any] = {}
    for name, url in urls.items():
        document, problem = outcomes[url]
        if problem is None:
            document, problem = response_part(document, records, url)
        if problem is not None:
            diagnostics.append(lookup_failure(resource, page, problem))
            return None
        responses[name] = document
    response = responses[""] if set(responses) == {""} else responses
    shown = dict.fromkeys((*requires, resource.match.property))
    return {"page": {name: page.values.get(name) for name in shown}, "response": response}


def response_part(document: Any, records: str, url: str) -> Outcome:
    """The part of a response the properties read (`records`, `@` by default)."""
    found = document
    if records != "@":
        try:
            found = compile_expression(records).search(document)
        except ExpressionError as exc:
            return None, f"records {records!r} failed on {shown_url(url)}: {exc}"
        if found is None:
            return None, f"the response from {shown_url(url)} has nothing at {records!r}"
    problem = unstorable_text(found, "response")
    if problem is not None:
        return None, f"the response from {shown_url(url)}: {problem} (Notion cannot store that text)"
    return found, None


def lookup_failure(resource: ResourceConfig, page: PageState, problem: str) -> Diagnostic:
    return Diagnostic(
        severity="error",
        code="lookup_failed",
        message=f"lookup for {resource.match.property} {page.key!r} failed: {problem}; nothing is written for it",
        resource=resource.name,
        key=page.key,
        urls=(page.link,) if page.link else (),
    )
