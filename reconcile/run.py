"""The library: plan and apply a config's jobs. The CLI, the demo, suggest-links and bootstrap call it.

    open_gateway(config)                    -> Gateway (every Notion call of a run goes through it)
    plan_run(config, gateway, now=...)      -> Plan     source → desired → Notion → plan (+ owed stamps)
    apply_run(config, gateway, plan, ...)   -> RunRecord   execute one plan, record the run
    apply_jobs(config, gateway, hooks=...)  -> ApplyReport plan and apply each job in turn, under the lock
    apply_saved(config, gateway, path, ...) -> ApplyReport a saved plan, exactly, if Notion has not moved

Nothing here prints or asks: what a caller decides or shows while jobs are applied (show the plan,
ask for `yes`, draw progress, report a job that failed) comes in through ApplyHooks.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from reconcile.apply import Progress, execute
from reconcile.desired import build_desired
from reconcile.drift import mark_drift
from reconcile.errors import ConfigError, GuardError, PlanFileError, ReconcileError
from reconcile.heap import keep_large_blocks_apart, release_freed_memory
from reconcile.lock import exclusive_lock
from reconcile.model import (
    ApplyResult,
    Config,
    DesiredState,
    Diagnostic,
    Job,
    Outcome,
    Plan,
    RunError,
    RunRecord,
    RunStatus,
    SchemaChange,
    SchemaOutcome,
    SourceRead,
)
from reconcile.notify import deliver, message_for
from reconcile.notion.gateway import NotionGateway
from reconcile.plan import JobInput, check_guards, compute_plan, iso_time
from reconcile.plan.schema import SchemaPlan
from reconcile.planfile import plan_fingerprint, read_plan
from reconcile.ports import Gateway, NotionReader
from reconcile.readback import heal_after_creates
from reconcile.readcache import ReadSession, Refresh, load_session
from reconcile.redact import scrub
from reconcile.runlog import (
    RunRecordJSON,
    append_run,
    applied_plan_ids,
    check_readable,
    notification_json,
    owed_touches,
    read_runs,
    recent_writes,
    record_json,
    resource_jobs,
    source_cursor,
)
from reconcile.saved import assert_fresh, check_saved_plan
from reconcile.saved_bounds import check_schema_bounds
from reconcile.schema_view import PlannedSchemaReader, job_schema_plan, merged_changes
from reconcile.source import SourceRun, fetch_records
from reconcile.source.incremental import finished_read, source_read
from reconcile.state import ReadAhead, check_job_schemas, read_ahead, read_job_state, reread_pages, rewritten_recently

__all__ = [
    "ApplyHooks",
    "ApplyReport",
    "apply_jobs",
    "apply_run",
    "apply_saved",
    "desired_state",
    "now_utc",
    "open_gateway",
    "plan_run",
    "schema_warnings",
    "selected_jobs",
]

Clock = Callable[[], datetime]
ProgressBar = Callable[[int], AbstractContextManager[Progress | None]]


def now_utc() -> datetime:
    return datetime.now(UTC)


@contextlib.contextmanager
def no_progress(total: int) -> Iterator[Progress | None]:
    yield None


def _show_nothing(plan: Plan) -> None:
    return None


def _approve(plan: Plan) -> bool:
    return True


def _record_nothing(record: RunRecord) -> None:
    return None


def _report_nothing(job: str, error: ReconcileError) -> None:
    return None


def _kept_nothing(record: RunRecordJSON) -> None:
    return None


@dataclass(frozen=True)
class ApplyHooks:
    """What the caller shows and decides while jobs are applied; the defaults approve silently."""

    show: Callable[[Plan], None] = _show_nothing  # each plan, before its guards are checked
    confirm: Callable[[Plan], bool] = _approve  # a plan with changes; False cancels (nothing written)
    progress: ProgressBar = no_progress  # a progress callback for this many writes, or None
    applied: Callable[[RunRecord], None] = _record_nothing  # each recorded run
    job_failed: Callable[[str, ReconcileError], None] = _report_nothing  # a job refused or failed
    kept: Callable[[RunRecordJSON], None] = _kept_nothing  # each run record written, stopped runs too


@dataclass(frozen=True)
class ApplyReport:
    records: tuple[RunRecord, ...] = ()
    failed_jobs: tuple[str, ...] = ()  # jobs refused or failed before they were applied
    cancelled: bool = False  # the confirmation was refused: that job and the ones after it wrote nothing

    @property
    def ok(self) -> bool:
        return not self.cancelled and not self.failed_jobs and all(r.ok for r in self.records)


# ── Notion ───────────────────────────────────────────────────────────────────────────────────────


def open_gateway(config: Config, *, logger: logging.Logger | None = None) -> Gateway:
    """The run's gateway, with the token config loading read from the environment."""
    if not config.notion.token:
        raise ConfigError(
            "NOTION_TOKEN is not set",
            hint="create an internal integration in Notion, share both databases with it, and export its secret",
        )
    return NotionGateway(config.notion.token, config.notion, logger=logger)


def schema_warnings(config: Config, gateway: Gateway, *, values: bool = True) -> list[Diagnostic]:
    """Every resource's mapping against its live schema and, with `values`, every mapped value the
    source asks for against its property's live type: the warnings (a mismatch raises). Reads the
    source, never a page."""
    warnings: list[Diagnostic] = []
    declared = declared_types(config)
    for job in config.jobs:
        schema = job_schema_plan(gateway, job.resources)
        reader = PlannedSchemaReader(gateway, schema.changes) if schema.changes else gateway
        check_job_schemas(reader, job, None)
        desired = desired_state(job, gateway) if values else None
        warnings += schema.warnings + check_job_schemas(reader, job, desired, declared)[1]
    return warnings


def declared_types(config: Config) -> dict[str, dict[str, str]]:
    """resource -> property -> the Notion type the config declares for it (`schema:`, `bootstrap.properties`):
    what a type mismatch says the mapping needs."""
    out = {name: dict(hints) for name, hints in config.bootstrap_types.items()}
    for job in config.jobs:  # a type the resource's schema: declares says it best
        for r in job.resources:
            out.setdefault(r.name, {}).update(
                {p.name: p.type for p in (r.schema.properties if r.schema else ()) if not p.remove}
            )
    return out


# ── planning ─────────────────────────────────────────────────────────────────────────────────────


def selected_jobs(config: Config, names: Sequence[str] | None) -> list[Job]:
    if not names:
        return list(config.jobs)
    known = {j.name for j in config.jobs}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(
            f"{config.path}: no job named {unknown[0]!r}", hint=f"jobs in this file: {', '.join(sorted(known))}"
        )
    return [config.job(n) for n in names]


def desired_state(job: Job, gateway: Gateway, sources: SourceRun | None = None) -> DesiredState:
    """The job's source, fetched and turned into the pages each resource should have."""
    return build_desired(job, fetch_records(job, gateway=gateway, run=sources))


def read_source(
    config: Config, job: Job, gateway: Gateway, sources: SourceRun, *, now: datetime, refresh: str
) -> tuple[DesiredState, SourceRead | None]:
    """The job's desired state and, for an incremental source, how it was read (full or only the
    changes since the cursor the run log keeps: reconcile/source/incremental.py)."""
    stored = source_cursor(config.run_log, job.name) if job.source.incremental else None
    read = source_read(job, stored, refresh=refresh, config_digest=config.digest, now=now)
    records = fetch_records(job, gateway=gateway, run=sources, since=read.since if read else None)
    if read is not None and job.source.incremental is not None:
        read = finished_read(read, records, job.source.incremental, job.source.endpoint)
    desired = build_desired(job, records)
    del records
    release_freed_memory()  # the source's answer, parsed and let go
    return desired, read


@dataclass(frozen=True)
class FirstJob:
    """The first job's desired state and what of Notion was read while its source was fetched."""

    desired: DesiredState
    read: SourceRead | None
    schema: SchemaPlan | None = None  # None: Notion was not read ahead (a lookup source reads it)
    reader: NotionReader | None = None
    ahead: ReadAhead | None = None


def read_beside_source(
    config: Config, jobs: Sequence[Job], gateway: Gateway, sources: SourceRun, *, now: datetime, refresh: Refresh
) -> tuple[ReadSession, FirstJob | None]:
    """The read cache, and the first job's schemas and pages as Notion's queries show them, read
    while its source is fetched: both are mostly waiting (Notion's rate, the source's answer).
    The source's error comes first, as when they are read one after the other; the Notion reads
    are the same calls in the same order. A lookup source reads Notion itself: then only the cache
    loads meanwhile."""
    if not jobs:
        return load_session(config, now=now, refresh=refresh), None
    job = jobs[0]
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reconcile-source")
    try:
        fetched = pool.submit(read_source, config, job, gateway, sources, now=now, refresh=refresh)
        try:
            cache = load_session(config, now=now, refresh=refresh)
            # The cached pages are loaded once the source's answer is let go: both at once would
            # hold a second workspace's worth of memory.
            first = notion_ahead(gateway, job, cache, fetched.result) if job.source.kind != "lookup" else None
        except BaseException:
            fetched.result()
            raise
        desired, read = fetched.result()
        if first is None:
            return cache, FirstJob(desired, read)
        return cache, replace(first, desired=desired, read=read)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def notion_ahead(
    gateway: Gateway, job: Job, cache: ReadSession, before_cached: Callable[[], object] = lambda: None
) -> FirstJob:
    """The job's declared schema changes, then its schemas and pages (FirstJob without its source)."""
    schema = job_schema_plan(gateway, job.resources)
    reader = PlannedSchemaReader(gateway, schema.changes) if schema.changes else gateway
    ahead = read_ahead(reader, job, cache, before_cached)
    return FirstJob(DesiredState(job=job.name, record_count=0, resources={}), None, schema, reader, ahead)


def plan_run(
    config: Config,
    gateway: Gateway,
    *,
    now: datetime,
    jobs: Sequence[str] | None = None,
    allow_large_changes: bool = False,
    refresh: Refresh = "auto",
) -> Plan:
    """Fetch every selected job's source, read Notion, and compute the plan, including the stamps
    earlier runs failed to write (from the run log). The reads' diagnostics lead the plan's own.

    Notion is read through the read cache (reconcile/readcache.py): `refresh` "auto" reads only
    what changed when the cache allows it, "full" reads everything, "incremental" ignores the
    cache's age and read count. The plan says how each resource was read; the cache is written
    once every read succeeded."""
    keep_large_blocks_apart()
    sources = SourceRun()  # per-key lookup errors
    inputs = []
    extra: list[Diagnostic] = []
    declared = declared_types(config)
    recent = recent_writes(config.run_log, now, config.notion.index_lag_s)
    # Read from the run log before Notion is: its largest records are parsed and let go before the
    # workspace's pages are held (peak memory is the larger of the two, not their sum).
    owed = owed_touches(config.run_log)
    release_freed_memory()
    schema_changes: list[SchemaChange] = []
    readers: dict[str, NotionReader] = {}
    selected = selected_jobs(config, jobs)
    cache, first = read_beside_source(config, selected, gateway, sources, now=now, refresh=refresh)
    extra += cache.diagnostics()
    for index, job in enumerate(selected):
        read_first = first if index == 0 and first is not None else None
        if read_first is not None:
            desired, read = read_first.desired, read_first.read
        else:
            desired, read = read_source(config, job, gateway, sources, now=now, refresh=refresh)
        extra += sources.diagnostics
        sources.diagnostics.clear()
        # The declared schema's changes come first; the pages are planned as if they were made.
        schema = read_first.schema if read_first and read_first.schema else job_schema_plan(gateway, job.resources)
        extra += schema.warnings
        schema_changes = merged_changes(schema_changes, schema.changes)
        reader = readers[job.name] = (
            read_first.reader
            if read_first and read_first.reader
            else PlannedSchemaReader(gateway, schema.changes)
            if schema.changes
            else gateway
        )
        ahead = read_first.ahead if read_first else None
        actual, diags = read_job_state(reader, job, desired, declared=declared, recent=recent, cache=cache, ahead=ahead)
        extra += diags
        inputs.append(JobInput(job=job, desired=desired, actual=actual, source_read=read))
    cache.save()
    plan = compute_plan(
        inputs, now=now, config_digest=config.digest, allow_large_changes=allow_large_changes, owed_touches=owed
    )
    # The query index may still show a page as it was before this machine edited it moments ago:
    # read the pages the plan would write again by id, then plan once more.
    again = rewritten_recently(plan.actions, recent)
    if again:
        inputs = [replace(i, actual=reread_pages(readers[i.job.name], i.job, i.actual, again)) for i in inputs]
        plan = compute_plan(
            inputs, now=now, config_digest=config.digest, allow_large_changes=allow_large_changes, owed_touches=owed
        )
    plan = replace(plan, schema_changes=tuple(schema_changes)) if schema_changes else plan
    plan = replace(plan, reads=tuple(cache.reads.values()))
    return replace(plan, diagnostics=(*extra, *plan.diagnostics)) if extra else plan


# ── applying ─────────────────────────────────────────────────────────────────────────────────────


def apply_run(
    config: Config,
    gateway: Gateway,
    plan: Plan,
    *,
    started: datetime,
    saved: bool = False,
    command: str = "apply",
    progress: ProgressBar = no_progress,
    clock: Clock = now_utc,
    kept: Callable[[RunRecordJSON], None] = _kept_nothing,
) -> RunRecord:
    """Execute the plan's actions in their order, heal what the creates left duplicated (see
    reconcile.readback), and append the run to the config's run log."""
    done: list[Outcome] = []  # filled as writes land: what a stopped run wrote so far
    schema_done: list[SchemaOutcome] = []  # likewise the schema changes
    result = ApplyResult()
    # The record keeps the plan's own fingerprint (a saved plan is applied once) and shows what the
    # heal-only follow-up after the creates did, in the same run.
    plan_id = plan_fingerprint(plan)
    try:
        if plan.has_changes:
            with progress(len(plan.actions)) as advance:
                result = execute(
                    plan, gateway, workers=config.notion.workers, progress=advance, done=done, schema_done=schema_done
                )
        plan, result = heal_after_creates(config, gateway, plan, result, done)
    except BaseException as exc:
        stopped = RunStop(config, gateway, started, clock, command=command, saved=saved, kept=kept)
        stopped.keep(exc, plan, ApplyResult(tuple(done), tuple(schema_done)), executed=True)
        raise
    record = RunRecord(
        plan=plan,
        plan_id=plan_id,
        result=result,
        started=started,
        finished=clock(),
        api_calls=gateway.api_calls(),
        config_path=config.path,
        run_log=config.run_log,
        resource_jobs=resource_jobs(config.jobs),
        command=command,
        saved=saved,
        run_id=new_run_id(started),
    )
    keep_record(config, record, kept)
    return record


def new_run_id(started: datetime) -> str:
    """Sortable and unique enough for one run log: the start time and four random hex digits."""
    return f"{started.astimezone(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"


def keep_record(config: Config, record: RunRecord, kept: Callable[[RunRecordJSON], None] = _kept_nothing) -> None:
    """Append the run to the log, then send its one alert (if any) and record how that went."""
    data = record_json(record)
    # Earlier runs matter only to a run that wrote (drift) or that alerts: a no-change run does not
    # load a run log that lists every page of the workspace, only makes sure it can be read (a run
    # is never appended to a log it could not read).
    previous: list[RunRecordJSON] = []
    if data.get("outcomes") or config.notify.webhooks:
        previous = read_runs(config.run_log)
    else:
        check_readable(config.run_log)
    mark_drift(data, record.plan, config.notion.token, previous)
    append_run(config.run_log, data)
    kept(data)
    if config.notify.webhooks:
        deliveries = deliver(message_for(data, previous_with_counts(previous, data), config.notify), config.notify)
        if deliveries:
            append_run(config.run_log, notification_json(record.run_id, deliveries))


def previous_with_counts(runs: Sequence[RunRecordJSON], record: RunRecordJSON) -> RunRecordJSON | None:
    """The latest earlier run that counted the source records of one of this run's jobs."""
    jobs = set(record.get("jobs") or [])
    for run in reversed(runs):
        if jobs & set(run.get("record_counts") or {}):
            return run
    return None


@dataclass(frozen=True)
class RunStop:
    """Records a run that stopped early (an error, a refusal, Ctrl-C, a bug) before re-raising it."""

    config: Config
    gateway: Gateway
    started: datetime
    clock: Clock
    command: str = "apply"
    saved: bool = False
    kept: Callable[[RunRecordJSON], None] = _kept_nothing

    def keep(
        self,
        exc: BaseException,
        plan: Plan | None,
        result: ApplyResult = ApplyResult(),
        *,
        jobs: Sequence[str] = (),
        executed: bool = False,
    ) -> None:
        status, error = stop_reason(exc, written=result.written)
        record = RunRecord(
            plan=plan if plan is not None else empty_plan(self.config, jobs, self.started),
            plan_id=plan_fingerprint(plan) if plan is not None else "",
            result=result,
            started=self.started,
            finished=self.clock(),
            api_calls=self.gateway.api_calls(),
            config_path=self.config.path,
            run_log=self.config.run_log,
            resource_jobs=resource_jobs(self.config.jobs),
            command=self.command,
            saved=self.saved,
            run_id=new_run_id(self.started),
            stopped=status,
            error=error,
            executed=executed,
        )
        keep_record(self.config, record, self.kept)


def stop_reason(exc: BaseException, *, written: int) -> tuple[RunStatus, RunError]:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", RunError("interrupted", f"interrupted (Ctrl-C) after {written} write(s)")
    if isinstance(exc, GuardError | PlanFileError):
        return "refused", RunError(type(exc).__name__, scrub(str(exc)))
    if isinstance(exc, ReconcileError):
        return "failed", RunError(type(exc).__name__, scrub(str(exc)))
    if isinstance(exc, Exception):
        return "crashed", RunError(type(exc).__name__, scrub(f"{type(exc).__name__}: {exc}").splitlines()[0])
    return "interrupted", RunError(type(exc).__name__, f"stopped ({type(exc).__name__}) after {written} write(s)")


def empty_plan(config: Config, jobs: Sequence[str], started: datetime) -> Plan:
    """What a run that stopped before its plan was made records as its plan: nothing."""
    return Plan(created_at=iso_time(started), config_digest=config.digest, jobs=tuple(jobs), resources=(), actions=())


def apply_jobs(
    config: Config,
    gateway: Gateway,
    *,
    jobs: Sequence[str] = (),
    allow_large_changes: bool = False,
    hooks: ApplyHooks = ApplyHooks(),
    clock: Clock = now_utc,
    refresh: Refresh = "auto",
) -> ApplyReport:
    """Plan and apply each job in turn, so a job sees what the jobs before it wrote.

    One job's refusal or failure is reported (hooks.job_failed) and the others still run; the
    report says so. With one job, its errors propagate as they are.
    """
    names = [j.name for j in selected_jobs(config, jobs)]
    groups = [[n] for n in names] if len(names) > 1 else [names]
    records: list[RunRecord] = []
    failed: list[str] = []
    with apply_lock(config):
        for group in groups:
            try:
                record = apply_now(config, gateway, group, allow_large_changes, hooks, clock, refresh)
            except ReconcileError as exc:
                if len(groups) == 1:
                    raise
                hooks.job_failed(group[0], exc)
                failed.append(group[0])
                continue
            if record is None:
                return ApplyReport(tuple(records), tuple(failed), cancelled=True)
            records.append(record)
    return ApplyReport(tuple(records), tuple(failed))


def apply_now(
    config: Config,
    gateway: Gateway,
    jobs: list[str],
    allow_large_changes: bool,
    hooks: ApplyHooks,
    clock: Clock,
    refresh: Refresh = "auto",
) -> RunRecord | None:
    """Plan these jobs, show the plan, check the guards, confirm, apply: the run, or None if refused."""
    started = clock()
    plan: Plan | None = None
    try:
        plan = plan_run(
            config, gateway, now=started, jobs=jobs, allow_large_changes=allow_large_changes, refresh=refresh
        )
        hooks.show(plan)
        check_guards(plan, allow_large_changes=allow_large_changes)
        if plan.has_changes and not hooks.confirm(plan):
            return None
    except BaseException as exc:
        RunStop(config, gateway, started, clock, kept=hooks.kept).keep(exc, plan, jobs=jobs)
        raise
    record = apply_run(config, gateway, plan, started=started, progress=hooks.progress, clock=clock, kept=hooks.kept)
    hooks.applied(record)
    return record


def apply_saved(
    config: Config,
    gateway: Gateway,
    path: str | os.PathLike[str],
    *,
    allow_large_changes: bool = False,
    hooks: ApplyHooks = ApplyHooks(),
    clock: Clock = now_utc,
) -> ApplyReport:
    """Apply exactly the plan saved in `path`, unless it is refused (another config, too old,
    applied already, stale: Notion moved since) or a guard blocks it."""
    with apply_lock(config):
        started = clock()
        plan: Plan | None = None
        try:
            plan = read_plan(path)
            check_saved_plan(plan, config, now=started, applied_ids=applied_plan_ids(config.run_log))
            check_schema_bounds(config, plan, gateway)
            assert_fresh(config, plan, PlannedSchemaReader(gateway, plan.schema_changes))
            check_guards(plan, allow_large_changes=allow_large_changes)
        except BaseException as exc:
            stop = RunStop(config, gateway, started, clock, saved=True, kept=hooks.kept)
            stop.keep(exc, plan, jobs=plan.jobs if plan else ())
            raise
        record = apply_run(
            config, gateway, plan, started=started, saved=True, progress=hooks.progress, clock=clock, kept=hooks.kept
        )
        hooks.applied(record)
    return ApplyReport((record,))


def apply_lock(config: Config) -> AbstractContextManager[None]:
    """One apply at a time per run log (the lock file sits beside it)."""
    return exclusive_lock(Path(config.run_log).parent / "apply.lock")
