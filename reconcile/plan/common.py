"""What every part of planning shares: the input of one job, the run's time, page digests."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reconcile.model import ActualState, DesiredState, Job, PageState, SourceRead


@dataclass(frozen=True)
class JobInput:
    job: Job
    desired: DesiredState
    actual: ActualState
    # How the job's source was read: an incremental read holds only the records changed since the
    # last successful run, so the keys it lacks are not missing.
    source_read: SourceRead | None = None

    @property
    def incremental(self) -> bool:
        return self.source_read is not None and self.source_read.mode == "incremental"


def iso_time(now: datetime) -> str:
    """UTC, millisecond precision, like Notion's own timestamps."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def run_context(now: datetime) -> dict[str, str]:
    return {"time": iso_time(now), "date": now.astimezone(UTC).date().isoformat()}


def page_digest(page: PageState) -> str:
    """A digest of a page's managed values and trash state: what a stale check compares."""
    body = json.dumps({"v": page.values, "t": page.in_trash}, sort_keys=True, default=list)
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == () or value == []
