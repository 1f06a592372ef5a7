"""Fetch records from a GraphQL endpoint (Hasura's envelope: errors come back as HTTP 200)."""

from __future__ import annotations

from typing import Any

import requests

from reconcile.errors import SourceError
from reconcile.model import Record, SourceConfig
from reconcile.source.common import records_at, require_keys, short_body

USER_AGENT = "reconcile (+https://github.com/; declarative Notion sync)"


def fetch_graphql(source: SourceConfig, *, session: requests.Session | None = None) -> list[Record]:
    """POST the configured query and return the records found at `source.records`."""
    payload: dict[str, Any] = {"query": source.query, "variables": dict(source.variables)}
    if source.options.get("operation_name"):
        payload["operationName"] = source.options["operation_name"]
    # Never an Authorization header: the public PlanX API runs unauthenticated, and the Notion token
    # must never leave for anywhere but Notion.
    headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": USER_AGENT}
    headers.update(source.headers)
    http = session or requests.Session()
    try:
        response = http.post(source.endpoint, json=payload, headers=headers, timeout=source.timeout_s)
    except requests.Timeout as exc:
        raise SourceError(
            f"GraphQL source {source.endpoint} did not answer within {source.timeout_s:g} s",
            hint="nothing was written; try again later or raise timeout_seconds",
        ) from exc
    except requests.RequestException as exc:
        raise SourceError(
            f"GraphQL source {source.endpoint} could not be reached: {type(exc).__name__}",
            hint="nothing was written; check the endpoint URL and the network",
        ) from exc
    document = graphql_document(source.endpoint, response)
    records = records_at(document, source.records, source.endpoint)
    require_keys(records, source.key, f"GraphQL source {source.endpoint}")
    return records


def graphql_document(endpoint: str, response: requests.Response) -> dict[str, Any]:
    """The response's JSON object, or a SourceError saying exactly why it is unusable."""
    if not 200 <= response.status_code < 300:
        raise SourceError(
            f"GraphQL source {endpoint} answered HTTP {response.status_code}: {short_body(response.text)}",
            hint="nothing was written",
        )
    try:
        document = response.json()
    except ValueError as exc:
        raise SourceError(
            f"GraphQL source {endpoint} answered with a body that is not JSON: {short_body(response.text)}",
            hint="nothing was written",
        ) from exc
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
            detail = ", ".join(x for x in (code, where) if x)
            parts.append(f"{message} [{detail}]" if detail else message)
        else:
            parts.append(str(err))
    more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(parts) + more
