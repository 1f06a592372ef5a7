"""Sources: where records come from. `fetch_records` dispatches on the job's source kind."""

from __future__ import annotations

from typing import Any

from reconcile.errors import ConfigError
from reconcile.model import Job, Record


def fetch_records(job: Job, *, gateway: Any = None) -> list[Record]:
    """The job's records, or a SourceError; a failed fetch never reaches the planner."""
    kind = job.source.kind
    if kind == "graphql":
        from reconcile.source.graphql import fetch_graphql

        return fetch_graphql(job.source)
    raise ConfigError(f"job {job.name}: source kind {kind!r} is not supported yet")
