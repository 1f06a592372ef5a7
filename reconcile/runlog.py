"""Run records: what each apply did, appended as one JSON line to the run log, and read back.

    RunRecord ──record_json──▶ one line of the run log ──read_runs──▶ [RunRecordJSON]
                                                     ──▶ history_row, job_split, unlinked_keys

The JSON form is versioned (`record_version`) and only ever gains keys: records written by older
versions lack some, so every reader treats each key as optional (the TypedDicts are total=False).
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, NotRequired, TypedDict, cast

from reconcile.errors import ReconcileError
from reconcile.model import ApiCalls, Diagnostic, Job, Outcome, Plan, RunRecord, SchemaOutcome, SourceRead
from reconcile.notify import Delivery
from reconcile.plan import iso_time

__all__ = [
    "RUN_RECORD_VERSION",
    "HistoryRow",
    "JobPart",
    "OutcomeJSON",
    "RecentWrites",
    "RunRecordJSON",
    "SchemaChangeJSON",
    "SourceCursor",
    "SourceReadJSON",
    "UnlinkedKey",
    "append_run",
    "applied_plan_ids",
    "history_row",
    "job_split",
    "log_labels",
    "merged_runs",
    "notification_json",
    "owed_touches",
    "read_runs",
    "recent_writes",
    "record_json",
    "resource_jobs",
    "run_status",
    "source_cursor",
    "unlinked_keys",
    "written_counts",
]

RUN_RECORD_VERSION = 1


class OutcomeJSON(TypedDict, total=False):
    action: str
    resource: str
    key: str
    page_id: str
    status: str
    error_code: str
    message: str
    note: str
    page_url: str
    written: dict[str, str]  # property -> keyed fingerprint of the value written (reconcile.drift)
    drift: bool  # an update that set back a value edited in Notion since reconcile wrote it


class DiagnosticJSON(TypedDict, total=False):
    code: str
    resource: str | None
    key: str | None
    message: str
    urls: list[str]  # errors only


class RunErrorJSON(TypedDict, total=False):
    code: str
    message: str


class DeliveryJSON(TypedDict, total=False):
    webhook: str
    ok: bool
    status: int
    error: str


class SourceReadJSON(TypedDict, total=False):
    mode: str  # full | incremental
    reason: str
    since: str  # the cursor sent (incremental reads)
    cursor: str  # the cursor a successful run keeps for the next one
    records: int


class SchemaChangeJSON(TypedDict, total=False):
    """A schema change the run attempted: names and types only, never option names or values."""

    change: str  # add | add_options | rename | retype | remove
    resource: str
    data_source_id: str
    property: str
    type: str
    before: str  # the live type (retype, remove) or name (rename)
    status: str  # ok | failed
    error_code: str


class RunRecordJSON(TypedDict, total=False):
    record_version: int
    record_type: str  # "run" (absent in older records) or "notification"
    run_id: str
    status: str  # ok | failed | refused | interrupted | crashed (absent in older records: derive it)
    error: RunErrorJSON
    deliveries: list[DeliveryJSON]  # a "notification" line: the alert of run_id, per webhook
    started_at: str
    finished_at: str
    duration_s: float
    config: str
    config_digest: str
    plan_id: str
    jobs: list[str]
    planned: dict[str, int]
    counts: dict[str, dict[str, int]]
    failed: int
    outcomes: list[OutcomeJSON]
    warnings: list[DiagnosticJSON]
    errors: list[DiagnosticJSON]
    record_counts: dict[str, int]
    api_calls: ApiCalls
    command: str
    from_saved_plan: bool
    resource_jobs: dict[str, str]
    source_reads: dict[str, SourceReadJSON]  # job -> how its source was read (incremental sources)
    schema_changes: list[SchemaChangeJSON]  # the schema changes attempted, before the page writes
    log: str  # never written: the label of the run log it was read from, when several are merged


# ── writing ──────────────────────────────────────────────────────────────────────────────────────


def record_json(record: RunRecord) -> RunRecordJSON:
    """The JSON form of one run (no property values beyond keys and ids; never the token)."""
    plan, result = record.plan, record.result
    out = RunRecordJSON(
        record_version=RUN_RECORD_VERSION,
        record_type="run",
        run_id=record.run_id,
        status=record.status,
        started_at=iso_time(record.started),
        finished_at=iso_time(record.finished),
        duration_s=round((record.finished - record.started).total_seconds(), 3),
        config=record.config_path,
        config_digest=plan.config_digest,
        plan_id=record.plan_id if record.executed else "",  # a plan never started is not "applied"
        jobs=list(plan.jobs),
        planned=plan.summary,
        counts=result.counts(),
        failed=len(result.failed) + sum(1 for c in result.schema if c.status == "failed"),
        outcomes=[outcome_json(o) for o in result.outcomes],
        warnings=[diagnostic_json(d) for d in plan.diagnostics if d.severity == "warning"],
        errors=[{**diagnostic_json(d), "urls": list(d.urls)} for d in plan.diagnostics if d.severity == "error"],
        record_counts=full_read_counts(plan),
        api_calls=record.api_calls,
        command=record.command,
        from_saved_plan=record.saved,
        resource_jobs=dict(record.resource_jobs),
    )
    if record.error is not None:
        out["error"] = RunErrorJSON(code=record.error.code, message=record.error.message)
    if plan.source_reads:
        out["source_reads"] = {job: source_read_json(read) for job, read in plan.source_reads.items()}
    if result.schema:
        out["schema_changes"] = [schema_change_json(c) for c in result.schema]
    return out


def schema_change_json(c: SchemaOutcome) -> SchemaChangeJSON:
    out = SchemaChangeJSON(
        change=c.change,
        resource=c.resource,
        data_source_id=c.data_source_id,
        property=c.property,
        type=c.type,
        status=c.status,
    )
    if c.before is not None:
        out["before"] = c.before
    if c.error_code:
        out["error_code"] = c.error_code
    return out


def full_read_counts(plan: Plan) -> dict[str, int]:
    """Source records per job, for the jobs whose source was read in full: an incremental read's
    count is the size of a delta (kept in source_reads), not a change in the source's size."""
    reads = plan.source_reads
    return {job: n for job, n in plan.record_counts.items() if job not in reads or reads[job].mode == "full"}


def source_read_json(read: SourceRead) -> SourceReadJSON:
    out = SourceReadJSON(mode=read.mode, reason=read.reason, records=read.records)
    if read.since is not None:
        out["since"] = read.since
    if read.cursor is not None:
        out["cursor"] = read.cursor
    return out


def outcome_json(o: Outcome) -> OutcomeJSON:
    fields = {
        "action": o.action,
        "resource": o.resource,
        "key": o.key,
        "page_id": o.page_id,
        "status": o.status,
        "error_code": o.error_code,
        "message": o.message,
        "note": o.note,
        "page_url": o.page_url,
    }
    return cast(OutcomeJSON, {k: v for k, v in fields.items() if v is not None})


def diagnostic_json(d: Diagnostic) -> DiagnosticJSON:
    return DiagnosticJSON(code=d.code, resource=d.resource, key=d.key, message=d.message)


def notification_json(run_id: str, deliveries: Iterable[Delivery]) -> RunRecordJSON:
    """The line recorded after a run's alert: how each webhook took it (never its URL)."""
    return RunRecordJSON(
        record_version=RUN_RECORD_VERSION,
        record_type="notification",
        run_id=run_id,
        deliveries=[cast(DeliveryJSON, d.as_dict()) for d in deliveries],
    )


def append_run(path: str | os.PathLike[str], record: RunRecordJSON) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, sort_keys=True) + "\n")


# ── reading ──────────────────────────────────────────────────────────────────────────────────────


def read_runs(path: str | os.PathLike[str]) -> list[RunRecordJSON]:
    """Every readable run record of the run log, oldest first (a torn last line is skipped), each
    with the deliveries of its alert when one was sent.

    A run log that cannot be read at all is one line (ReconcileError): the owed stamps and the
    applied plans are in it, so a run must not go on as if it were empty.
    """
    runs: list[RunRecordJSON] = []
    deliveries: dict[str, list[DeliveryJSON]] = {}
    for record in read_lines(path):
        if record.get("record_type", "run") == "run":
            runs.append(record)
        elif record.get("record_type") == "notification" and record.get("run_id"):
            deliveries[record["run_id"]] = list(record.get("deliveries") or [])
    for run in runs:
        if run.get("run_id") in deliveries:
            run["deliveries"] = deliveries[run["run_id"]]
    return runs


def read_lines(path: str | os.PathLike[str]) -> Iterator[RunRecordJSON]:
    """The run log's readable records, oldest first, parsed one line at a time: a reader that goes
    through the log once never holds it whole (its text, or every record of every earlier run)."""
    for line in raw_lines(path):
        record = parsed_line(line)
        if record is not None:
            yield record


def check_readable(path: str | os.PathLike[str]) -> None:
    """The run log's one-line error if it cannot be read (a directory, not UTF-8, no permission).

    Read a megabyte at a time, never a line whole: a no-change run checks the log after it has
    read the workspace, and a first run's record (every page of the workspace, on one line) would
    otherwise be held beside it."""
    target = Path(path)
    if not target.exists():
        return
    utf8 = codecs.getincrementaldecoder("utf-8")()
    with _reading(path):
        with target.open("rb") as raw:
            while chunk := raw.read(_CHECK_CHUNK):
                utf8.decode(chunk)
        utf8.decode(b"", final=True)


def parsed_line(line: str, object_hook: Callable[[dict[str, Any]], Any] | None = None) -> RunRecordJSON | None:
    try:
        record = json.loads(line, object_hook=object_hook)
    except ValueError:
        return None
    return cast(RunRecordJSON, record) if isinstance(record, dict) else None


def raw_lines(path: str | os.PathLike[str]) -> Iterator[str]:
    """The run log's lines, one at a time (nothing when there is no run log yet)."""
    target = Path(path)
    if not target.exists():
        return
    with _reading(path), target.open(encoding="utf-8") as lines:
        yield from lines


_CHECK_CHUNK = 1 << 20


@contextmanager
def _reading(path: str | os.PathLike[str]) -> Iterator[None]:
    """A run log's read errors as one line each."""
    try:
        yield
    except IsADirectoryError:
        raise ReconcileError(
            f"run log {path} is a directory, not a file", hint="remove it, or point run_log: at a file"
        ) from None
    except UnicodeDecodeError:
        raise ReconcileError(
            f"run log {path} is not UTF-8 text, so reconcile did not write it",
            hint="move it aside; the next apply starts a new one",
        ) from None
    except OSError as exc:
        raise ReconcileError(
            f"run log {path} cannot be read: {exc.strerror or exc}", hint="check its permissions, or move it aside"
        ) from None


# A record's own finish time, found without parsing it: records are written with sorted keys, one
# per line, and a quote inside a string is escaped, so this is the top-level key.
_FINISHED_AT = re.compile(r'(?:^\{|, )"finished_at": "([^"\\]+)"')
_FAILED_OUTCOME = '"status": "failed"'


def finished_at(line: str) -> datetime | None:
    """When the run of this run-log line finished, read from the line itself (None if it does not say)."""
    found = _FINISHED_AT.search(line)
    return parsed_time(found.group(1)) if found else None


def merged_runs(paths: Sequence[str]) -> list[RunRecordJSON]:
    """The runs of several run logs (one per CI matrix job or workspace) as one history, ordered by
    start time, each labelled with its log (`log_labels`). One log reads as `read_runs` does."""
    if len(paths) == 1:
        return read_runs(paths[0])
    runs: list[RunRecordJSON] = []
    for path, label in zip(paths, log_labels(paths), strict=True):
        runs += [RunRecordJSON(**record, log=label) for record in read_runs(path)]
    return sorted(runs, key=lambda r: parsed_time(r.get("started_at") or "") or datetime.min.replace(tzinfo=UTC))


def log_labels(paths: Sequence[str]) -> list[str]:
    """The shortest tail of each path (without .jsonl) that tells the logs apart: `planx` and
    `councils` for logs/planx.jsonl and logs/councils.jsonl, `a` and `b` for a/runs.jsonl and
    b/runs.jsonl."""
    parts = [Path(p).with_suffix("").parts if p.endswith(".jsonl") else Path(p).parts for p in paths]
    # The tail every path shares (CI artifacts unpacked as run-log-<job>/runs.jsonl) tells nothing.
    while all(len(x) > 1 for x in parts) and len({x[-1] for x in parts}) == 1:
        parts = [x[:-1] for x in parts]
    for depth in range(1, max(len(x) for x in parts) + 1):
        labels = ["/".join(x[-depth:]) for x in parts]
        if len(set(labels)) == len(labels):
            return labels
    return list(paths)


def run_status(record: RunRecordJSON) -> str:
    """The record's status; records written before statuses existed are ok unless something failed."""
    status = record.get("status")
    if status:
        return status
    return "failed" if int(record.get("failed") or 0) or record.get("errors") else "ok"


def owed_touches(path: str | os.PathLike[str]) -> frozenset[tuple[str, str]]:
    """(resource, page id) whose stamp a run failed to write and no later run wrote.

    A failed touch (or a failed update, into which a touch may have been merged) is owed; a later
    successful write of that page settles it. A skipped touch is not owed: the write it records did
    not land, and the run that lands it stamps again.
    """
    owed: set[tuple[str, str]] = set()
    for line in raw_lines(path):
        # A run with no failed write settles stamps but owes none: nothing to settle yet, no need
        # to parse it (the record of a first run lists every page of the workspace).
        if not owed and _FAILED_OUTCOME not in line:
            continue
        record = parsed_line(line)
        if record is None or record.get("record_type", "run") != "run":
            continue
        for outcome in record.get("outcomes", []):
            if outcome.get("action") not in ("touch", "update") or not outcome.get("page_id"):
                continue
            pair = (str(outcome.get("resource")), str(outcome["page_id"]))
            if outcome.get("status") == "failed":
                owed.add(pair)
            elif outcome.get("status") == "ok":
                owed.discard(pair)
    return frozenset(owed)


# What this machine's last write left a page as: "live" (created, restored), "trashed" (archived)
# or "edited" (updated, stamped, or a write whose outcome is unknown).
LeftAs = Literal["live", "trashed", "edited"]
RecentWrites = dict[str, dict[str, LeftAs]]  # resource -> page id -> what the last write left it as
_LEFT_LIVE = frozenset({"create", "restore"})
_LEFT_TRASHED = frozenset({"archive", "heal"})


def recent_writes(path: str | os.PathLike[str], now: datetime, window_s: float) -> RecentWrites:
    """The pages runs recorded in this run log wrote within `window_s` before `now`, by resource.

    Notion's query index may not show those writes yet (retrieving a page by id always does), so
    the read stage checks them by id. A run counts from its finish (a stopped run's record counts
    too); a write that failed may still have landed, so it counts as an edit.
    """
    out: RecentWrites = {}
    if window_s <= 0:
        return out
    for line in raw_lines(path):
        quick = finished_at(line)
        if quick is not None and abs((now - quick).total_seconds()) > window_s:
            continue  # not parsed: older runs' records may list every page of the workspace
        for row in packed_writes(line, now, window_s).splitlines():
            resource, page_id, left = row.split("\t")
            out.setdefault(resource, {})[page_id] = cast(LeftAs, left)
    return out


def packed_writes(line: str, now: datetime, window_s: float) -> str:
    """The writes a run-log line records within the window, one "resource, page id, left as" line
    each (tab-separated) in one string. The ids are made anew from it once the parsed record is
    freed: ids kept from the record itself would pin the memory of its thousands of objects."""
    record = parsed_line(line, object_hook=slim_outcome)
    if record is None or record.get("record_type", "run") != "run":
        return ""
    ended = parsed_time(record.get("finished_at") or record.get("started_at") or "")
    # Either way: machines sharing a run log (CI carries it) may disagree about the time.
    if ended is None or abs((now - ended).total_seconds()) > window_s:
        return ""
    rows = []
    for outcome in record.get("outcomes") or []:
        page_id, resource, status = outcome.get("page_id"), outcome.get("resource"), outcome.get("status")
        if page_id and resource and status in ("ok", "failed") and "\t" not in f"{page_id}{resource}":
            rows.append(f"{resource}\t{page_id}\t{left_as(outcome.get('action', ''), status == 'ok')}")
    return "\n".join(rows)


def slim_outcome(obj: dict[str, Any]) -> dict[str, Any]:
    """An outcome as recent_writes reads it (which page, of which resource, how its write ended),
    made as the record is parsed: a first run's record holds an outcome for every page."""
    if "action" in obj and "page_id" in obj:
        return {name: obj.get(name) for name in ("action", "page_id", "resource", "status")}
    return obj


def left_as(action: str, landed: bool) -> LeftAs:
    if landed and action in _LEFT_LIVE:
        return "live"
    if landed and action in _LEFT_TRASHED:
        return "trashed"
    return "edited"


def parsed_time(text: str) -> datetime | None:
    """A run log time (UTC, as iso_time writes it); None when it cannot be read."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class SourceCursor:
    """Where a job's incremental source stands, from the successful runs of the run log."""

    cursor: str | None  # the cursor the last successful run kept
    config_digest: str  # of the config that run was made from
    run_id: str
    last_full_at: str | None  # when the last successful full read started
    incremental_runs: int  # successful incremental runs since then


def source_cursor(path: str | os.PathLike[str], job: str) -> SourceCursor | None:
    """The job's cursor: only a run whose status is ok moves it (a failed, refused, interrupted or
    crashed run leaves it); None when no successful run has read the job's source yet."""
    latest: tuple[RunRecordJSON, SourceReadJSON] | None = None
    incremental = 0
    for record in reversed(read_runs(path)):
        read = (record.get("source_reads") or {}).get(job)
        if read is None or run_status(record) != "ok":
            continue
        latest = latest or (record, read)
        if read.get("mode") == "full":
            return cursor_from(latest, record.get("started_at"), incremental)
        incremental += 1
    return cursor_from(latest, None, incremental) if latest else None


def cursor_from(latest: tuple[RunRecordJSON, SourceReadJSON], full_at: str | None, incremental: int) -> SourceCursor:
    record, read = latest
    return SourceCursor(
        cursor=read.get("cursor"),
        config_digest=record.get("config_digest", ""),
        run_id=record.get("run_id", ""),
        last_full_at=full_at,
        incremental_runs=incremental,
    )


def applied_plan_ids(path: str | os.PathLike[str]) -> set[str]:
    return {r["plan_id"] for r in read_runs(path) if r.get("plan_id") and r.get("from_saved_plan")}


# ── history and per-job views (for `reconcile history`, the CSV and the HTML report) ─────────────


class JobPart(TypedDict):
    """One job's share of a run."""

    counts: dict[str, int]  # action -> writes that succeeded
    failed: int
    warnings: list[DiagnosticJSON]
    outcomes: list[OutcomeJSON]


class HistoryRow(TypedDict):
    log: NotRequired[str]  # the run log it came from, when several are merged
    run_id: str
    status: str
    started_at: str
    jobs: list[str]
    written: dict[str, int]
    failed: int
    warnings: int
    api_calls: int
    duration_s: float
    from_saved_plan: bool


class UnlinkedKey(TypedDict):
    job: str
    resource: str
    key: str
    message: str


def resource_jobs(jobs: Iterable[Job]) -> dict[str, str]:
    """resource name -> job name, for the config's jobs (resource names are unique across jobs)."""
    return {r.name: job.name for job in jobs for r in job.resources}


def job_of(record: RunRecordJSON, resource: str | None) -> str:
    """The job a resource of this run belongs to; records without the map had one job or are "?"."""
    mapping = record.get("resource_jobs") or {}
    if resource is not None and resource in mapping:
        return mapping[resource]
    jobs = record.get("jobs") or []
    return jobs[0] if len(jobs) == 1 else "?"


def job_split(record: RunRecordJSON) -> dict[str, JobPart]:
    """Per job of one run: counts per action of the writes made, failures, warnings and outcomes."""
    out: dict[str, JobPart] = {job: empty_job_part() for job in record.get("jobs") or []}
    for outcome in record.get("outcomes") or []:
        part = out.setdefault(job_of(record, outcome.get("resource")), empty_job_part())
        part["outcomes"].append(outcome)
        if outcome.get("status") == "ok":
            action = outcome.get("action", "")
            part["counts"][action] = part["counts"].get(action, 0) + 1
        elif outcome.get("status") == "failed":
            part["failed"] += 1
    for warning in record.get("warnings") or []:
        out.setdefault(job_of(record, warning.get("resource")), empty_job_part())["warnings"].append(warning)
    return out


def empty_job_part() -> JobPart:
    return JobPart(counts={}, failed=0, warnings=[], outcomes=[])


def written_counts(record: RunRecordJSON) -> dict[str, int]:
    """action -> writes that succeeded in this run."""
    return {action: c.get("ok", 0) for action, c in (record.get("counts") or {}).items() if c.get("ok", 0)}


def history_row(record: RunRecordJSON) -> HistoryRow:
    """One run as a flat summary: when, which jobs, what was written, what failed, what it cost."""
    api = record.get("api_calls")
    row = HistoryRow(
        run_id=record.get("run_id", ""),
        status=run_status(record),
        started_at=record.get("started_at", ""),
        jobs=list(record.get("jobs") or []),
        written=written_counts(record),
        failed=int(record.get("failed") or 0),
        warnings=len(record.get("warnings") or []),
        api_calls=int(api.get("total", 0)) if isinstance(api, dict) else 0,
        duration_s=float(record.get("duration_s") or 0.0),
        from_saved_plan=bool(record.get("from_saved_plan")),
    )
    if "log" in record:
        row["log"] = record["log"]
    return row


def unlinked_keys(record: RunRecordJSON) -> list[UnlinkedKey]:
    """Keys still without a related page in this run (its `relation_target_missing` warnings)."""
    seen: dict[tuple[str, str], UnlinkedKey] = {}
    for warning in record.get("warnings") or []:
        if warning.get("code") != "relation_target_missing":
            continue
        resource, key = warning.get("resource") or "", warning.get("key") or ""
        seen.setdefault(
            (resource, key),
            UnlinkedKey(job=job_of(record, resource), resource=resource, key=key, message=warning.get("message", "")),
        )
    return [seen[k] for k in sorted(seen)]
