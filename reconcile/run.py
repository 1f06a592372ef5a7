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
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from reconcile.apply import Progress, execute
from reconcile.config import read_text
from reconcile.config.yamlload import parse_yaml
from reconcile.desired import build_desired
from reconcile.errors import ConfigError, ReconcileError
from reconcile.lock import exclusive_lock
from reconcile.model import ApplyResult, Config, DesiredState, Diagnostic, Job, Plan, RunRecord
from reconcile.notion.gateway import NotionGateway
from reconcile.plan import JobInput, check_guards, compute_plan
from reconcile.planfile import plan_fingerprint, read_plan
from reconcile.ports import Gateway
from reconcile.readback import heal_after_creates
from reconcile.runlog import append_run, applied_plan_ids, owed_touches, record_json, resource_jobs
from reconcile.saved import assert_fresh, check_saved_plan
from reconcile.source import SourceRun, fetch_records
from reconcile.state import check_job_schemas, read_job_state

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


@dataclass(frozen=True)
class ApplyHooks:
    """What the caller shows and decides while jobs are applied; the defaults approve silently."""

    show: Callable[[Plan], None] = _show_nothing  # each plan, before its guards are checked
    confirm: Callable[[Plan], bool] = _approve  # a plan with changes; False cancels (nothing written)
    progress: ProgressBar = no_progress  # a progress callback for this many writes, or None
    applied: Callable[[RunRecord], None] = _record_nothing  # each recorded run
    job_failed: Callable[[str, ReconcileError], None] = _report_nothing  # a job refused or failed


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
        check_job_schemas(gateway, job, None)
        desired = desired_state(job, gateway) if values else None
        warnings += check_job_schemas(gateway, job, desired, declared)[1]
    return warnings


def declared_types(config: Config) -> dict[str, dict[str, str]]:
    """resource -> property -> the Notion type the config declares for it (`bootstrap.properties`):
    what a type mismatch says the mapping needs. Empty when the file cannot say."""
    try:
        document = parse_yaml(read_text(config.path), config.path)
    except (ReconcileError, OSError):
        return {}
    out: dict[str, dict[str, str]] = {}
    for job in (document.get("jobs") or {}).values() if isinstance(document, dict) else ():
        for name, raw in ((job or {}).get("resources") or {}).items():
            hints = ((raw or {}).get("bootstrap") or {}).get("properties") or {}
            out[name] = {str(k): str(v) for k, v in hints.items()}
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


def plan_run(
    config: Config,
    gateway: Gateway,
    *,
    now: datetime,
    jobs: Sequence[str] | None = None,
    allow_large_changes: bool = False,
) -> Plan:
    """Fetch every selected job's source, read Notion, and compute the plan, including the stamps
    earlier runs failed to write (from the run log). The reads' diagnostics lead the plan's own."""
    sources = SourceRun()  # per-key lookup errors
    inputs = []
    extra: list[Diagnostic] = []
    declared = declared_types(config)
    for job in selected_jobs(config, jobs):
        desired = desired_state(job, gateway, sources)
        extra += sources.diagnostics
        sources.diagnostics.clear()
        actual, diags = read_job_state(gateway, job, desired, declared)
        extra += diags
        inputs.append(JobInput(job=job, desired=desired, actual=actual))
    plan = compute_plan(
        inputs,
        now=now,
        config_digest=config.digest,
        allow_large_changes=allow_large_changes,
        owed_touches=owed_touches(config.run_log),
    )
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
) -> RunRecord:
    """Execute the plan's actions in their order, heal what the creates left duplicated (see
    reconcile.readback), and append the run to the config's run log."""
    result = ApplyResult()
    if plan.has_changes:
        with progress(len(plan.actions)) as advance:
            result = execute(plan, gateway, workers=config.notion.workers, progress=advance)
    # The record keeps the plan's own fingerprint (a saved plan is applied once) and shows what the
    # heal-only follow-up after the creates did, in the same run.
    plan_id = plan_fingerprint(plan)
    plan, result = heal_after_creates(config, gateway, plan, result)
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
    )
    append_run(config.run_log, record_json(record))
    return record


def apply_jobs(
    config: Config,
    gateway: Gateway,
    *,
    jobs: Sequence[str] = (),
    allow_large_changes: bool = False,
    hooks: ApplyHooks = ApplyHooks(),
    clock: Clock = now_utc,
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
                record = apply_now(config, gateway, group, allow_large_changes, hooks, clock)
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
    config: Config, gateway: Gateway, jobs: list[str], allow_large_changes: bool, hooks: ApplyHooks, clock: Clock
) -> RunRecord | None:
    """Plan these jobs, show the plan, check the guards, confirm, apply: the run, or None if refused."""
    started = clock()
    plan = plan_run(config, gateway, now=started, jobs=jobs, allow_large_changes=allow_large_changes)
    hooks.show(plan)
    check_guards(plan, allow_large_changes=allow_large_changes)
    if plan.has_changes and not hooks.confirm(plan):
        return None
    record = apply_run(config, gateway, plan, started=started, progress=hooks.progress, clock=clock)
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
        plan = read_plan(path)
        check_saved_plan(plan, config, now=started, applied_ids=applied_plan_ids(config.run_log))
        assert_fresh(config, plan, gateway)
        check_guards(plan, allow_large_changes=allow_large_changes)
        record = apply_run(config, gateway, plan, started=started, saved=True, progress=hooks.progress, clock=clock)
        hooks.applied(record)
    return ApplyReport((record,))


def apply_lock(config: Config) -> AbstractContextManager[None]:
    """One apply at a time per run log (the lock file sits beside it)."""
    return exclusive_lock(Path(config.run_log).parent / "apply.lock")
