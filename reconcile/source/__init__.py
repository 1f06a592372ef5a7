"""Sources: where records come from. `fetch_records` dispatches on the job's source kind.

    graphql  POST a query (source/graphql.py)
    http     GET JSON page by page (source/http.py)
    lookup   GET once per existing page, enriching it (source/lookup.py)

Every request goes through the one HTTP layer (reconcile/http.py, with the sources' rules in
source/client.py): retries, Retry-After, pacing, the request log and the secret checks are there.

A `SourceRun` carries what sources hand to the rest of a run besides records: the pages a lookup
already read (so the state read does not query them again) and per-key problems (Diagnostics).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from reconcile.errors import ConfigError
from reconcile.model import Diagnostic, Job, Record, SourceConfig

if TYPE_CHECKING:
    from reconcile.source.lookup import LookupGateway

__all__ = ["SourceRun", "fetch_records"]


@dataclass
class SourceRun:
    """One run's shared source state: the per-key diagnostics of lookups."""

    diagnostics: list[Diagnostic] = field(default_factory=list)


def fetch_records(
    job: Job, *, gateway: LookupGateway | None = None, run: SourceRun | None = None, since: str | None = None
) -> list[Record]:
    """The job's records, or a SourceError; a failed fetch never reaches the planner. With `since`
    (an incremental source, reconcile/source/incremental.py), only those changed since then."""
    kind = job.source.kind
    if kind == "graphql":
        from reconcile.source.graphql import fetch_graphql

        return fetch_graphql(changes_since(job.source, since))
    if kind == "http":
        from reconcile.source.http import fetch_http

        return fetch_http(changes_since(job.source, since))
    if kind == "lookup":
        from reconcile.source.lookup import fetch_lookup

        if gateway is None:
            raise ConfigError(f"job {job.name}: a lookup source needs the Notion gateway")
        run = run if run is not None else SourceRun()
        return fetch_lookup(job, gateway, diagnostics=run.diagnostics)
    raise ConfigError(f"job {job.name}: source kind {kind!r} is not supported")


def changes_since(source: SourceConfig, since: str | None) -> SourceConfig:
    """The source asking only for the records changed since `since`: the cursor goes in as the
    query parameters (http) or the variable (graphql) its `incremental:` names. A full read sends
    no parameter, and the variable as the epoch: the query declares it either way."""
    if source.incremental is None:
        return source
    from reconcile.source.incremental import EPOCH, cursor_params, cursor_variables

    if source.kind == "graphql":
        sent = cursor_variables(source.incremental, since or EPOCH)
        return replace(source, variables={**source.variables, **sent})
    if since is None:
        return source
    return replace(source, params={**source.params, **cursor_params(source.incremental, since)})
