"""Full speed under throttling (issue 15): an apply of 300 writes against a sandbox that sustains
1 request/s (burst 3) while the client is configured for Notion's 3.

The client learns the rate the server sustains from the spacing of its 429s and settles a little
under it, probing upward slowly (reconcile/http.py). Targets: the Notion requests it got answered
reach at least 90 % of the allowed rate over the whole process (start, config, GraphQL fetch and
reads included), and under 10 % of its calls are answered 429.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from benchmarks.driver import SandboxProcess
from benchmarks.report import Verdicts
from benchmarks.scenarios import CLOCK_STEP_MS, Expect, Outcome, run_scenario, slugs_of, write_mappings
from notion_sandbox.planx import synthetic_snapshot

THROTTLED_RATE = 1.0
THROTTLED_BURST = 3
THROTTLED_WRITES = 300
QUICK_THROTTLED_WRITES = 30
MIN_RATE_SHARE = 0.90
MAX_LIMITED_SHARE = 0.10

Say = Callable[[str], None]


def throttled_suite(sb: SandboxProcess, workdir: Path, writes: int, say: Say) -> Outcome:
    """`writes` new services pages (no Councils page carries their slugs: no touches), the sandbox
    at 1 request/s, the client at its default (the config's 3 requests/s)."""
    sb.reset()
    sb.settings(rate_limit=THROTTLED_RATE, burst=THROTTLED_BURST, latency_ms=0, clock_step_ms=CLOCK_STEP_MS)
    sb.clear_requests()
    (workdir / ".reconcile" / "runs.jsonl").unlink(missing_ok=True)
    source = synthetic_snapshot(writes)
    write_mappings(workdir / "mappings.bench.yaml", slugs_of(source))
    outcome = run_scenario(
        sb,
        workdir,
        name=f"throttled: {writes} creates at {THROTTLED_RATE:g} request/s",
        councils=0,
        snapshot=source,
        expect=Expect(creates=writes, live_services=writes),
        rate=THROTTLED_RATE,
    )
    sb.settings(rate_limit=0)
    say(one_line(outcome))
    return outcome


def accepted_rate(o: Outcome) -> float:
    """Notion requests answered other than 429, per second of the whole process."""
    return (o.calls.total - o.calls.rate_limited) / o.process.wall_s


def limited_share(o: Outcome) -> float:
    return o.calls.rate_limited / o.calls.total if o.calls.total else 0.0


def one_line(o: Outcome) -> str:
    extra = f" problems: {o.checks}" if o.checks else ""
    return (
        f"  {o.name}: {o.calls.total} calls, {o.calls.rate_limited} × 429 ({limited_share(o):.1%}), "
        f"{accepted_rate(o):.3f} accepted/s of {o.rate:g} ({accepted_rate(o) / (o.rate or 1):.1%}), "
        f"wall {o.process.wall_s:.1f}s{extra}"
    )


def add_verdicts(v: Verdicts, o: Outcome) -> None:
    share = accepted_rate(o) / (o.rate or 1)
    v.add(
        f"throttled at {o.rate:g} request/s: ≥ {MIN_RATE_SHARE:.0%} of the allowed rate, "
        f"< {MAX_LIMITED_SHARE:.0%} 429s",
        share >= MIN_RATE_SHARE and limited_share(o) < MAX_LIMITED_SHARE and not o.checks,
        f"{o.calls.total - o.calls.rate_limited} answered in {o.process.wall_s:.1f} s = {share:.1%} of "
        f"{o.rate:g}/s; {o.calls.rate_limited} of {o.calls.total} calls 429 ({limited_share(o):.1%})"
        + (f"; {'; '.join(o.checks)}" if o.checks else ""),
    )


def section(o: Outcome) -> list[str]:
    return [
        "",
        f"## Throttled (sandbox at {o.rate:g} request/s, burst {THROTTLED_BURST}; client at its default 3)",
        "",
        "| scenario | calls | creates | 429 | 429 share | wall s | answered / s | share of the allowed rate "
        "| peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {o.name} | {o.calls.total} | {o.calls.creates} | {o.calls.rate_limited} | {limited_share(o):.1%} "
        f"| {o.process.wall_s:.1f} | {accepted_rate(o):.3f} | {accepted_rate(o) / (o.rate or 1):.1%} "
        f"| {o.process.max_rss_mb:.0f} |",
        "",
        "Answered requests per second of the whole process (start, config, GraphQL fetch and reads "
        "included). The client learns the rate Notion sustains from the spacing of its 429s (requests "
        "accepted between two 429s over the time between them), paces 3 % under it and probes upward "
        "by 0.5 % of it per accepted request (reconcile/http.py).",
    ]
