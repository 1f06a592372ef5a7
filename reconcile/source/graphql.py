"""Fetch records from a GraphQL endpoint (Hasura's envelope: errors come back as HTTP 200).

The request goes through the one HTTP layer (source/client.py): a 429, a 5xx, a timeout or a
dropped connection is retried within the source's `max_attempts` and `max_retry_seconds`, a
query being a read. Any failure left is one SourceError, before anything is planned.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from reconcile.errors import SourceError
from reconcile.http import RetryPolicy
from reconcile.model import Record, SourceConfig
from reconcile.source.client import USER_AGENT, SourceClient
from reconcile.source.common import records_at, refuse_unstorable_text, require_keys, short_body

__all__ = ["USER_AGENT", "fetch_graphql", "graphql_document"]


def fetch_graphql(
    source: SourceConfig,
    *,
    transport: httpx.BaseTransport | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    logger: logging.Logger | None = None,
) -> list[Record]:
    """POST the configured query and return the records found at `source.records`."""
    payload: dict[str, Any] = {"query": source.query, "variables": dict(source.variables)}
    if source.options.get("operation_name"):
        payload["operationName"] = source.options["operation_name"]
    # No Authorization header unless the config sets one: the public PlanX API runs unauthenticated.
    what = "GraphQL source"
    with SourceClient(
        source, what=what, transport=transport, policy=policy, sleep=sleep, clock=clock, logger=logger
    ) as client:
        document = graphql_document(source.endpoint, client.post_json(source.endpoint, payload))
    records = records_at(document, source.records, source.endpoint)
    require_keys(records, source.key, f"{what} {source.endpoint}")
    refuse_unstorable_text(records, source.key, f"{what} {source.endpoint}")
    return records


def graphql_document(endpoint: str, document: Any) -> dict[str, Any]:
    """The response's JSON object, or a SourceError saying exactly why it is unusable."""
    if not isinstance(document, dict):
        raise SourceError(f"GraphQL source {endpoint} answered JSON that is not an object")
    errors = document.get("errors")
    if errors:
        raise SourceError(
            f"GraphQL source {endpoint} returned errors: {graphql_error_summary(errors)}",
            hint="nothing was written; fix the query in the config",
        )
    if "error" in document and "data" not in document:
        raise SourceError(f"GraphQL source {endpoint} returned an error: {short_body(str(document))}")
    if document.get("data") is None:
        raise SourceError(
            f"GraphQL source {endpoint} returned no data", hint="nothing was written; the response had no 'data'"
        )
    return document


def graphql_error_summary(errors: Any) -> str:
    if not isinstance(errors, list):
        return short_body(str(errors))
    parts = []
    for err in errors[:3]:
        if isinstance(err, dict):
            message = str(err.get("message", err))
            ext = err.get("extensions") or {}
            where = ext.get("path") if isinstance(ext, dict) else None
            code = ext.get("code") if isinstance(ext, dict) else None
            detail = ", ".join(str(x) for x in (code, where) if x)
            parts.append(f"{message} [{detail}]" if detail else message)
        else:
            parts.append(str(err))
    more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(parts) + more
