"""Incremental reads (issue 15): the Notion read cache's scenarios, targets and figures.

One workspace of N councils, runs in the order a real deployment makes them, an hour apart on the
sandbox's clock (POST /_sandbox/clock; the nightly gap is longer):

    first run, cold cache        apply: every page read and created (the full-read floor, exactly)
    re-run                       apply: reads back once what the first run wrote (no target)
    no-change plan, warm cache   plan at Notion's 3 requests/s: at most 10 calls, under 5 s
    10% changed, warm cache      apply: the calls of the changes (updates, touches, and each changed
                                 body read for its block ids and appended to), and at most 10 others

The sandbox's query index does not lag here, so the config says so (`index_lag_seconds: 0`):
pages written by the run before are not read again by id (reconcile/state.py; with a lagging
index those reads are the price of reading one's own writes, and are counted in benchmarks/run.py).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.driver import ProcessRun, SandboxProcess, run_reconcile
from benchmarks.floors import Floor
from benchmarks.scenarios import (
    CLOCK_STEP_MS,
    Calls,
    Expect,
    Outcome,
    classify,
    page_data_sources,
    run_scenario,
    slugs_of,
    tenth,
    with_index_lag,
    with_new_flow,
    write_mappings,
)
from notion_sandbox.planx import synthetic_snapshot

NO_CHANGE_MAX_CALLS = 10
NO_CHANGE_MAX_S = 5.0
CHANGED_EXTRA_CALLS = 10  # calls beyond the writes a changed run may make
RATE = 3.0  # Notion's average limit, for the timed no-change plan
GAP_MS = 3_600_000  # an hour between runs on the sandbox's clock

Say = Callable[[str], None]


@dataclass
class Step:
    """One incremental scenario: its calls, the limit it must stay within, and how it read Notion."""

    name: str
    councils: int
    calls: Calls
    process: ProcessRun
    limit: int | None  # most calls allowed (None: no target)
    floor: Floor | None = None  # the full-read floor, for the cold first run
    time_limit_s: float | None = None
    reads: tuple[str, ...] = ()  # the plan's "Notion read:" lines
    checks: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        within = self.limit is None or self.calls.total <= self.limit
        at_floor = self.floor is None or self.calls.total == self.floor.total
        timely = self.time_limit_s is None or self.process.wall_s < self.time_limit_s
        return within and at_floor and timely and not self.checks and self.calls.rate_limited == 0


def incremental_suite(sb: SandboxProcess, workdir: Path, councils: int, say: Say) -> list[Step]:
    fresh_workspace(sb, workdir)
    source = synthetic_snapshot(councils)
    slugs = slugs_of(source)
    mappings_without_lag(write_mappings(workdir / "mappings.bench.yaml", slugs))
    sb.seed_councils(slugs)
    changed_slugs = tenth(slugs, 3)
    n, k = len(slugs), len(changed_slugs)
    steps: list[Step] = []

    first = run_scenario(
        sb,
        workdir,
        name="first run, cold cache",
        councils=n,
        snapshot=source,
        expect=Expect(creates=n, touches=n, live_services=n, schema_writes=1),
    )
    steps.append(from_outcome(first, limit=None, floor=first.floor))
    say(line(steps[-1]))

    sb.admin("POST", "clock", {"advance_ms": GAP_MS})
    rerun = run_scenario(
        sb,
        workdir,
        name="re-run (reads its own writes back)",
        councils=n,
        snapshot=source,
        expect=Expect(live_services=n),
    )
    steps.append(from_outcome(rerun, limit=None))
    say(line(steps[-1]))

    sb.admin("POST", "clock", {"advance_ms": GAP_MS})
    steps.append(no_change_plan(sb, workdir, n))
    say(line(steps[-1]))

    sb.admin("POST", "clock", {"advance_ms": GAP_MS})
    changed = run_scenario(
        sb,
        workdir,
        name="10% changed, warm cache",
        councils=n,
        snapshot=with_new_flow(source, changed_slugs),
        expect=Expect(updates=k, touches=k, live_services=n, bodies=k),
    )
    # The calls of the changes themselves: k updates, k touches, and each changed snapshot's body
    # (a service added) read for its block ids and appended to.
    writes = changed.calls.writes
    step = from_outcome(changed, limit=k + k + 2 * k + CHANGED_EXTRA_CALLS)
    if writes != 3 * k:
        step.checks += (f"{writes} writes; expected {k} updates, {k} touches and {k} body appends",)
    steps.append(step)
    say(line(steps[-1]))
    return steps


def fresh_workspace(sb: SandboxProcess, workdir: Path) -> None:
    """An empty workspace, no run log and no read cache (they describe a workspace reset away)."""
    sb.reset()
    sb.settings(rate_limit=0, latency_ms=0, query_cap=10_000, clock_step_ms=CLOCK_STEP_MS)
    sb.clear_requests()
    (workdir / ".reconcile" / "runs.jsonl").unlink(missing_ok=True)
    shutil.rmtree(workdir / ".reconcile" / "cache", ignore_errors=True)


def mappings_without_lag(path: Path) -> None:
    with_index_lag(path, 0)


def no_change_plan(sb: SandboxProcess, workdir: Path, councils: int) -> Step:
    """`reconcile plan` with the sandbox at Notion's 3 requests/s and the client at its default."""
    sb.settings(rate_limit=RATE, burst=3)
    sb.clear_requests()
    env = {**sb.env(), "NOTION_RATE_LIMIT": ""}
    process = run_reconcile(["plan", "--detailed-exitcode", "-c", "mappings.bench.yaml"], cwd=workdir, env=env)
    calls = classify(sb.requests(), page_data_sources(sb.state()))
    sb.settings(rate_limit=0)
    checks = () if process.exit_code == 0 else (f"plan exited {process.exit_code}: {process.stderr.strip()[-200:]}",)
    return Step(
        name=f"no-change plan, warm cache, {RATE:g} req/s",
        councils=councils,
        calls=calls,
        process=process,
        limit=NO_CHANGE_MAX_CALLS,
        time_limit_s=NO_CHANGE_MAX_S,
        reads=read_lines(process.stdout),
        checks=checks,
    )


def from_outcome(o: Outcome, *, limit: int | None, floor: Floor | None = None) -> Step:
    return Step(
        name=o.name,
        councils=o.councils,
        calls=o.calls,
        process=o.process,
        limit=limit,
        floor=floor,
        checks=tuple(o.checks),
    )


def read_lines(text: str) -> tuple[str, ...]:
    return tuple(m.group(0) for m in re.finditer(r"^Notion read: .*$", text, re.MULTILINE))


def line(s: Step) -> str:
    target = f"≤ {s.limit}" if s.limit is not None else f"= {s.floor.total}" if s.floor else "no target"
    return (
        f"  {s.councils:>6} {s.name:<40} calls {s.calls.total:>6} ({target}) wall {s.process.wall_s:6.1f}s "
        f"rss {s.process.max_rss_mb:5.0f}MB [{'ok' if s.passed else 'FAIL'}] {'; '.join(s.checks)}"
    )


# ── the report ───────────────────────────────────────────────────────────────────────────────────


def verdict_rows(steps: list[Step]) -> list[tuple[str, bool, str]]:
    rows = []
    for s in steps:
        if s.limit is None and s.floor is None:
            continue
        figures = f"{s.calls.total} calls ({s.calls.writes} writes, {s.calls.reads} reads)"
        if s.time_limit_s is not None:
            figures += (
                f", {s.process.wall_s:.1f} s wall ({s.calls.total / RATE:.1f} s of it Notion's rate, "
                f"{s.process.cpu_s:.1f} s CPU)"
            )
        if s.checks:
            figures += "; " + "; ".join(s.checks)
        rows.append((f"incremental, {s.councils} councils, {s.name}: {target_text(s)}", s.passed, figures))
    return rows


def target_text(s: Step) -> str:
    if s.floor is not None:
        return f"calls = full-read floor {s.floor.total}"
    parts = [f"calls ≤ {s.limit}"]
    if s.time_limit_s is not None:
        parts.append(f"wall < {s.time_limit_s:g} s")
    return ", ".join(parts)


def report_section(steps: list[Step]) -> list[str]:
    out = [
        "## Incremental reads (the Notion read cache)",
        "",
        "Runs an hour apart on the sandbox's clock; `index_lag_seconds: 0` (the sandbox's index does not lag). "
        "The no-change plan runs with the sandbox at 3 requests/s and the client at its default pacing.",
        "",
        "| councils | scenario | schema | queries | creates | updates | touches | page reads | total | target "
        "| wall s | CPU s | peak RSS MB | how Notion was read |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in steps:
        c = s.calls
        reads = "<br>".join(r.removeprefix("Notion read: ") for r in s.reads) or "(apply -q: not shown)"
        out.append(
            f"| {s.councils:,} | {s.name} | {c.schema} | {c.queries} | {c.creates} | {c.updates} | {c.touches} "
            f"| {c.page_reads} | {c.total} | {target_text(s) if s.limit is not None or s.floor else '-'} "
            f"| {s.process.wall_s:.1f} | {s.process.cpu_s:.1f} | {s.process.max_rss_mb:.0f} | {reads} |"
        )
    return out
