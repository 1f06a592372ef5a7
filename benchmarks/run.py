"""The performance benchmark (issue 6): the real CLI against the sandbox, with synthetic PlanX data.

    python benchmarks/run.py                    # 20, 200, 2,000, 12,000 councils + throughput
    python benchmarks/run.py --quick            # 20 and 200, a small throughput run
    python benchmarks/run.py --sizes 20,2000 --out /tmp/results.md

Prints PASS or FAIL per target and writes the Markdown report (benchmarks/RESULTS.md by default).
Exits 0 when every target passed, 1 otherwise. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import memory, throttling
from benchmarks.bodies import BodiesOutcome, bodies_suite, bodies_table
from benchmarks.bodies import one_line as bodies_line
from benchmarks.driver import SandboxProcess
from benchmarks.incremental import Step, incremental_suite
from benchmarks.planning import PlanningResult, planning_benchmark
from benchmarks.report import machine_info, render_report, verdicts
from benchmarks.scenarios import (
    CLOCK_STEP_MS,
    Expect,
    Outcome,
    run_scenario,
    slugs_of,
    tenth,
    with_index_lag,
    with_new_flow,
    without,
    write_mappings,
)
from notion_sandbox.planx import synthetic_snapshot

DEFAULT_SIZES = (20, 200, 2000, 12000)
QUICK_SIZES = (20, 200)
THROUGHPUT = (300, 300)  # creates, updates
QUICK_THROUGHPUT = (30, 30)
THROUGHPUT_RATE = 3.0
THROUGHPUT_LATENCY_MS = 600
# The call-count scenarios of a size run back to back, but on a slow machine more than the default
# 120 s can pass between them: this lag decides, whatever the machine's speed, that each run reads
# by id the pages it writes again that the scenarios before it wrote (as a run within 120 s does).
CALL_COUNT_INDEX_LAG_S = 86_400
PLANNING_RECORDS = 10_000
FULL = ("--refresh", "full")

Say = Callable[[str], None]


def fresh_sandbox(sb: SandboxProcess, workdir: Path) -> None:
    """An empty workspace, and no run log: the old one describes pages of the workspace reset away."""
    sb.reset()
    sb.settings(rate_limit=0, latency_ms=0, query_cap=10_000, clock_step_ms=CLOCK_STEP_MS)
    sb.clear_requests()
    (workdir / ".reconcile" / "runs.jsonl").unlink(missing_ok=True)
    shutil.rmtree(workdir / ".reconcile" / "cache", ignore_errors=True)  # likewise the read cache


def call_count_suite(sb: SandboxProcess, workdir: Path, councils: int, say: Say) -> list[Outcome]:
    """First run, no-change re-run, 10% changed, 10% removed: rate limit off, counting calls."""
    fresh_sandbox(sb, workdir)
    source = synthetic_snapshot(councils)
    slugs = slugs_of(source)
    with_index_lag(write_mappings(workdir / "mappings.bench.yaml", slugs), CALL_COUNT_INDEX_LAG_S)
    started = time.monotonic()
    sb.seed_councils(slugs)
    say(f"  seeded {councils} Councils pages through the API in {time.monotonic() - started:.1f} s")
    changed_slugs, removed_slugs = tenth(slugs, 3), tenth(slugs, 7)
    changed = with_new_flow(source, changed_slugs)
    removed = without(changed, removed_slugs)
    n, k, r = len(slugs), len(changed_slugs), len(removed_slugs)
    steps = [
        ("first run (all creates)", source, Expect(creates=n, touches=n, live_services=n, schema_writes=1), ()),
        ("no-change re-run", source, Expect(live_services=n), ()),
        # The councils these two stamp were stamped by the first run (within the suite's
        # notion.index_lag_seconds, CALL_COUNT_INDEX_LAG_S): each is read by id before it is stamped again.
        ("10% changed", changed, Expect(updates=k, touches=k, rereads=k, live_services=n, bodies=k), ()),
        (
            "10% removed",
            removed,
            Expect(updates=r, touches=r, rereads=r, live_services=n - r, trashed_services=r),
            ("--allow-large-changes",),
        ),
    ]
    outcomes = []
    for name, snapshot, expect, extra in steps:
        # Every read in full: these floors are the full read's (benchmarks/incremental.py has the cache's).
        outcome = run_scenario(
            sb, workdir, name=name, councils=councils, snapshot=snapshot, expect=expect, extra_args=(*extra, *FULL)
        )
        say(one_line(outcome))
        outcomes.append(outcome)
    return outcomes


def throughput_suite(sb: SandboxProcess, workdir: Path, creates: int, updates: int, say: Say) -> Outcome:
    """`creates` new and `updates` changed services pages, the sandbox at 3 req/s and 600 ms latency.

    No Councils page carries these slugs, so the run writes exactly creates + updates pages (a
    relation-target warning per page, and no touches).
    """
    fresh_sandbox(sb, workdir)
    source = synthetic_snapshot(creates + updates)
    slugs = slugs_of(source)
    existing = slugs[:updates]
    write_mappings(workdir / "mappings.bench.yaml", slugs)
    setup = run_scenario(
        sb,
        workdir,
        name="throughput setup",
        councils=0,
        snapshot=without(source, slugs[updates:]),
        expect=Expect(creates=updates, live_services=updates, schema_writes=1),
    )
    if setup.checks:
        raise RuntimeError(f"throughput setup failed: {setup.checks}")
    sb.settings(rate_limit=THROUGHPUT_RATE, burst=3, latency_ms=THROUGHPUT_LATENCY_MS)
    outcome = run_scenario(
        sb,
        workdir,
        name=f"throughput: {creates} creates + {updates} updates",
        councils=0,
        snapshot=with_new_flow(source, existing),
        expect=Expect(creates=creates, updates=updates, live_services=creates + updates, bodies=updates),
        rate=THROUGHPUT_RATE,
        extra_args=FULL,
    )
    say(one_line(outcome))
    sb.settings(rate_limit=0, latency_ms=0)
    return outcome


def one_line(o: Outcome) -> str:
    status = "ok" if o.calls_at_floor and not o.checks else "OFF-FLOOR" if not o.checks else "BROKEN"
    extra = f" problems: {o.checks}" if o.checks else ""
    return (
        f"  {o.councils:>6} {o.name:<40} calls {o.calls.total:>6} floor {o.floor.total:>6} "
        f"wall {o.process.wall_s:7.1f}s cpu {o.process.cpu_s:6.1f}s rss {o.process.max_rss_mb:6.0f}MB "
        f"429s {o.calls.rate_limited} [{status}]{extra}"
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20 and 200 councils and a small throughput run")
    parser.add_argument("--sizes", help="comma-separated council counts (default 20,200,2000,12000)")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "RESULTS.md"))
    parser.add_argument("--skip-throughput", action="store_true", help="leave out the rate-limited run")
    parser.add_argument(
        "--incremental-only", action="store_true", help="only the read-cache scenarios (and the planning figures)"
    )
    parser.add_argument(
        "--incremental-size",
        type=int,
        help="councils for the read-cache scenarios (default: the largest size; 0: none)",
    )
    parser.add_argument("--skip-throttled", action="store_true", help="leave out the run at 1 request/s")
    parser.add_argument("--skip-memory", action="store_true", help="leave out the large-workspace plan")
    parser.add_argument("--large-pages", type=int, help="pages per data source of the memory run (100,000)")
    parser.add_argument("--skip-bodies", action="store_true", help="leave out the page-bodies scenario")
    parser.add_argument("--only-bodies", action="store_true", help="run only the page-bodies scenario")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else QUICK_SIZES if args.quick else DEFAULT_SIZES
    creates, updates = QUICK_THROUGHPUT if args.quick else THROUGHPUT
    started = time.monotonic()

    def say(line: str) -> None:
        print(f"[{time.monotonic() - started:7.1f}s] {line}", flush=True)

    outcomes: list[Outcome] = []
    incremental: list[Step] = []
    throughput: Outcome | None = None
    throttled: Outcome | None = None
    large: memory.LargePlan | None = None
    large_pages = args.large_pages or (memory.QUICK_LARGE_PAGES if args.quick else memory.LARGE_PAGES)
    writes = throttling.QUICK_THROTTLED_WRITES if args.quick else throttling.THROTTLED_WRITES
    bodies: list[BodiesOutcome] = []
    if args.only_bodies:
        sizes, args.incremental_size = (), 0
        args.skip_throughput = args.skip_throttled = args.skip_memory = True
    with tempfile.TemporaryDirectory(prefix="reconcile-bench-") as tmp:
        workdir = Path(tmp)
        with SandboxProcess(workdir) as sb:
            say(f"sandbox at {sb.url}")
            for size in () if args.incremental_only else sizes:
                say(f"{size} councils")
                outcomes += call_count_suite(sb, workdir, size, say)
            incremental_size = max(sizes, default=0) if args.incremental_size is None else args.incremental_size
            if incremental_size:
                say(f"incremental reads: {incremental_size} councils")
                incremental = incremental_suite(sb, workdir, incremental_size, say)
            if not (args.skip_bodies or args.incremental_only):
                say("page bodies on 200 pages: first run and a no-change run")
                bodies = bodies_suite(sb, workdir)
                for o in bodies:
                    say(bodies_line(o))
            if not (args.skip_throughput or args.incremental_only):
                say(f"throughput: {creates} creates + {updates} updates at {THROUGHPUT_RATE:g} req/s")
                throughput = throughput_suite(sb, workdir, creates, updates, say)
            if not (args.skip_throttled or args.incremental_only):
                say(f"throttled: {writes} creates at {throttling.THROTTLED_RATE:g} request/s")
                throttled = throttling.throttled_suite(sb, workdir, writes, say)
            if not (args.skip_memory or args.incremental_only):
                say(f"memory: a plan over {large_pages:,} pages per data source")
                large = memory.large_plan_benchmark(sb, workdir, large_pages, say)
                say(memory.one_line(large))
    say(f"planning {PLANNING_RECORDS} records in memory")
    planning: PlanningResult = planning_benchmark(PLANNING_RECORDS)
    results = verdicts(outcomes, throughput, planning, incremental)
    memory.add_verdicts(results, outcomes, large)
    if throttled is not None:
        throttling.add_verdicts(results, throttled)
    for o in bodies:
        results.add(f"{o.name}: calls at floor", o.at_floor, f"{o.total} calls, floor {o.floor.total}")
    extra = (throttling.section(throttled) if throttled else []) + (memory.section(large) if large else [])
    for line in results.lines():
        print(line)
    elapsed = time.monotonic() - started
    report = render_report(
        machine_info(),
        outcomes,
        throughput,
        planning,
        results,
        elapsed,
        quick=args.quick,
        incremental=incremental,
        extra=extra,
    )
    if bodies:
        heading = "\n## Page bodies (a resource with content and a hash property)\n\n"
        report += heading + "\n".join(bodies_table(bodies)) + "\n"
    Path(args.out).write_text(report, encoding="utf-8")
    say(f"wrote {args.out}")
    return 0 if results.all_passed else 1


if __name__ == "__main__":
    sys.exit(main())
