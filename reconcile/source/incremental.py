"""Incremental sources: ask a graphql or http source only for the records changed since the last
successful run, and say how each job's source was read.

    run log ──source_cursor──▶ SourceCursor ─┐
    --refresh, the config's policy, now ──────┴─▶ source_read ──▶ SourceRead (full | incremental, why, since)
    since ──cursor_params / cursor_variables──▶ the request
    records ──reached_cursor──▶ the cursor the run log keeps once the plan is applied successfully

The cursor is the latest change time among the records a run read (the source's own clock, never
ours), kept in the run record of a successful apply (reconcile/runlog.py): a failed, refused,
interrupted or crashed run leaves it where it was, so the next run asks again from there. The
cursor sent is the stored one minus the consistency buffer, for rows committed late with an earlier
time and for clocks that disagree; records read twice are planned twice, which writes nothing.

A full read happens when there is no cursor yet, when the config changed since it was stored (a new
mapping or allowlist entry needs every record), every `full_every` incremental runs, when the last
full read is older than `full_after`, or on `--refresh full`. Only a full read sees a record that
left the source, so only a full read archives (reconcile/plan/compute.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from reconcile.errors import ConfigError, SourceError
from reconcile.expressions import ExpressionError, compile_expression
from reconcile.model import Incremental, Job, Record, SourceRead
from reconcile.runlog import SourceCursor

__all__ = [
    "EPOCH",
    "REFRESH_CHOICES",
    "Refresh",
    "cursor_params",
    "cursor_text",
    "cursor_variables",
    "finished_read",
    "parse_cursor",
    "reached_cursor",
    "source_read",
]

Refresh = Literal["auto", "full", "incremental"]
REFRESH_CHOICES: tuple[Refresh, ...] = ("auto", "full", "incremental")
EPOCH = "1970-01-01T00:00:00.000000+00:00"  # the graphql variable of a full read


def source_read(
    job: Job, stored: SourceCursor | None, *, refresh: str, config_digest: str, now: datetime
) -> SourceRead | None:
    """How this run reads the job's source: None when it is not incremental at all."""
    spec = job.source.incremental
    if spec is None:
        return None
    if refresh not in REFRESH_CHOICES:
        raise ConfigError(f"--refresh {refresh!r}: expected one of {', '.join(REFRESH_CHOICES)}")
    why_full = full_read_reason(spec, stored, refresh=refresh, config_digest=config_digest, now=now)
    if why_full is not None or stored is None or stored.cursor is None:
        return SourceRead(mode="full", reason=why_full or "no cursor yet")
    since = cursor_text(parse_cursor(stored.cursor) - timedelta(seconds=spec.buffer_s))
    reason = f"records changed since the cursor {stored.cursor} of run {stored.run_id or '-'}, less {spec.buffer_s:g} s"
    return SourceRead(mode="incremental", reason=reason, since=since, cursor=stored.cursor)


def full_read_reason(
    spec: Incremental, stored: SourceCursor | None, *, refresh: str, config_digest: str, now: datetime
) -> str | None:
    """Why this run must read the whole source, or None when a read of the changes will do."""
    if refresh == "full":
        return "--refresh full"
    if stored is None or stored.cursor is None:
        return "no cursor yet: no earlier successful apply read this source"
    if stored.config_digest != config_digest:
        return "the config changed since the cursor was kept (a new mapping or allowlist needs every record)"
    if refresh == "incremental":
        return None
    if spec.full_every is not None and stored.incremental_runs >= spec.full_every:
        return f"{stored.incremental_runs} incremental runs since the last full read (full_every {spec.full_every})"
    if spec.full_after_s is not None:
        last = parse_cursor(stored.last_full_at) if stored.last_full_at else None
        if last is None or (now - last).total_seconds() >= spec.full_after_s:
            when = stored.last_full_at or "never"
            return f"the last full read ({when}) is older than full_after ({spec.full_after_s:g} s)"
    return None


def finished_read(read: SourceRead, records: Sequence[Record], spec: Incremental, where: str) -> SourceRead:
    """The read once its records are in: how many, and the cursor they reach."""
    stored = read.cursor if read.mode == "incremental" else None
    return replace(read, records=len(records), cursor=reached_cursor(records, spec, stored, where))


# ── the request ──────────────────────────────────────────────────────────────────────────────────


def cursor_params(spec: Incremental, since: str) -> dict[str, str]:
    """The query parameters that ask an http source for the records changed since `since`."""
    moment = parse_cursor(since)
    return {name: formatted(moment, since, fmt) for name, fmt in spec.params.items()}


def cursor_variables(spec: Incremental, since: str) -> dict[str, Any]:
    """The GraphQL variable that carries `since`, formatted as the config says."""
    if spec.variable is None:
        return {}
    moment = parse_cursor(since)
    value: Any = int(moment.timestamp()) if spec.format == "epoch" else formatted(moment, since, spec.format)
    return {spec.variable: value}


def formatted(moment: datetime, text: str, fmt: str) -> str:
    """iso: the cursor as kept; date: its UTC day; epoch: seconds; else a strftime pattern (text
    without a % directive is sent as it is, e.g. Planning Data's entry_date_match: since)."""
    if fmt == "iso":
        return text
    if fmt == "date":
        return moment.date().isoformat()
    if fmt == "epoch":
        return str(int(moment.timestamp()))
    return moment.strftime(fmt)


# ── the cursor ───────────────────────────────────────────────────────────────────────────────────


def reached_cursor(records: Sequence[Record], spec: Incremental, stored: str | None, where: str) -> str | None:
    """The latest change time among `records` (or the stored cursor, if later): what the run log
    keeps once this run is applied successfully."""
    try:
        expression = compile_expression(spec.cursor)
    except ExpressionError as exc:  # checked when the config is loaded
        raise SourceError(f"incremental.cursor {spec.cursor!r}: {exc}") from exc
    latest = parse_cursor(stored) if stored else None
    for i, record in enumerate(records):
        try:
            value = expression.search(record)
        except ExpressionError as exc:
            raise SourceError(f"incremental.cursor {spec.cursor!r} failed on record {i} from {where}: {exc}") from exc
        if value is None or value == "":
            continue  # a record without a change time cannot move the cursor
        moment = cursor_time(value, i, where, spec.cursor)
        if latest is None or moment > latest:
            latest = moment
    return cursor_text(latest) if latest is not None else None


def cursor_time(value: Any, index: int, where: str, expression: str) -> datetime:
    if isinstance(value, str):
        try:
            return parse_cursor(value)
        except ValueError:
            pass
    raise SourceError(
        f"record {index} from {where}: incremental.cursor {expression!r} gave {value!r}, not an ISO 8601 date or time",
        hint="nothing was written; point incremental.cursor at the record's last-change time",
    )


def parse_cursor(text: str) -> datetime:
    """An ISO 8601 date or time as an aware UTC datetime (a date is its midnight, no zone is UTC)."""
    cleaned = text.strip().replace("Z", "+00:00").replace(" ", "T", 1)
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        moment = datetime.combine(date.fromisoformat(cleaned), datetime.min.time())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def cursor_text(moment: datetime) -> str:
    """The cursor as kept and sent: UTC, microseconds, `+00:00` (Hasura's timestamptz form)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
