"""Bounded memory (issue 15): the reconcile process's peak RSS on large workspaces.

- The 12,000-page no-change run of the call-count suite stays under 100 MB (a verdict on that run).
- A plan over 100,000 pages in each of the two data sources stays under 400 MB. The workspace is
  seeded in bulk (`POST /_sandbox/pages`: the API's own page creation, without the rate limit),
  with exactly the values the plan wants, so the plan reads everything and changes nothing; the
  sandbox caps a query at 10,000 results, so the read crosses the cap by created_time windows, and
  the queries it sent are checked against the capped-walk floor (benchmarks/floors.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from benchmarks.driver import NOTION_VERSION, TOKEN, ProcessRun, SandboxProcess, run_reconcile
from benchmarks.floors import capped_walk
from benchmarks.report import Verdicts
from benchmarks.scenarios import CLOCK_STEP_MS, REPO, Outcome, classify, pages_by_data_source
from notion_sandbox.planx import synthetic_snapshot
from notion_sandbox.seed import COUNCILS_DS_ID, SERVICES_DS_ID
from reconcile.content.blocks import block_request, markdown_hash
from reconcile.content.markdown import parse_markdown

LARGE_PAGES = 100_000
QUICK_LARGE_PAGES = 20_000
NO_CHANGE_MAX_MB = 100.0
LARGE_PLAN_MAX_MB = 400.0
BATCH = 5_000  # pages per bulk request
STAMPED = "2026-01-01T00:00:00.000Z"
HASH_PROPERTY = "Content Hash"  # mappings.yaml: content.hash_property of the services resource
PLANX_ICON = "🏛️"  # mappings.yaml: the services resource's icon

Say = Callable[[str], None]


@dataclass(frozen=True)
class LargePlan:
    """One `reconcile plan` over a large workspace: what it cost and whether it read it all."""

    pages: int  # per data source
    seed_s: float
    process: ProcessRun
    queries: int
    query_floor: int  # the capped walk of both data sources, overlap included
    windows: int  # created_time windows the walk needed (over both data sources)
    problems: list[str]


# ── the workspace ────────────────────────────────────────────────────────────────────────────────


def text(content: str) -> list[dict[str, Any]]:
    return [{"text": {"content": content}}] if content else []


def council_body(slug: str) -> dict[str, Any]:
    """A Councils page already stamped (the PlanX job stamps each council it links once)."""
    return {
        "parent": {"type": "data_source_id", "data_source_id": COUNCILS_DS_ID},
        "properties": {
            "Name": {"title": text(f"Council {slug}")},
            "ExternalCustomerID": {"rich_text": text(slug)},
            "Integration Last Updated": {"date": {"start": STAMPED}},
        },
    }


def services_body(team: dict[str, Any], council_id: str) -> dict[str, Any]:
    """The page the PlanX job would write for `team` (mappings.yaml), body, icon and Content Hash
    included: so the plan changes nothing and, the hash matching, reads no body."""
    online = sorted((f for f in team["flows"] if f["status"] == "online"), key=lambda f: f["name"])
    markdown = "- " + "\n- ".join(f["name"] for f in online) if online else ""
    return {
        "parent": {"type": "data_source_id", "data_source_id": SERVICES_DS_ID},
        "icon": {"type": "emoji", "emoji": PLANX_ICON},
        "properties": {
            "Name": {"title": text(team["name"].strip() or team["slug"])},
            "Description": {"rich_text": text("\n".join(f["name"].strip() for f in online))},
            "Service Count": {"number": len(online)},
            "ExternalCustomerID": {"rich_text": text(team["slug"])},
            "Councils": {"relation": [{"id": council_id}]},
            HASH_PROPERTY: {"rich_text": text(markdown_hash(markdown))},
        },
        "children": [block_request(node) for node in parse_markdown(markdown)],
    }


def declare_hash_property(sb: SandboxProcess) -> None:
    """The services data source as the PlanX job's `schema:` leaves it (one property added once)."""
    headers = {"Authorization": f"Bearer {TOKEN}", "Notion-Version": NOTION_VERSION}
    body = {"properties": {HASH_PROPERTY: {"rich_text": {}}}}
    sb.http.patch(f"{sb.url}/v1/data_sources/{SERVICES_DS_ID}", json=body, headers=headers).raise_for_status()


def write_unlisted_mappings(path: Path) -> None:
    """The repo's PlanX job without its allowlist: every team of the source (an allowlist of
    100,000 slugs would pass the size a config may be)."""
    document = yaml.safe_load((REPO / "mappings.yaml").read_text())
    document["jobs"]["planx-live-services"]["source"].pop("allowlist", None)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def batches(items: list[Any], size: int = BATCH) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def seed_workspace(sb: SandboxProcess, snapshot: dict[str, Any]) -> dict[str, list[str]]:
    """A Councils page and its services page per team, in bulk; each data source's created times."""
    teams = snapshot["teams"]
    councils: list[dict[str, str]] = []
    for chunk in batches(teams):
        councils += sb.admin("POST", "pages", {"pages": [council_body(t["slug"]) for t in chunk]})["pages"]
    services: list[dict[str, str]] = []
    for chunk in batches(list(zip(teams, councils, strict=True))):
        bodies = [services_body(team, council["id"]) for team, council in chunk]
        services += sb.admin("POST", "pages", {"pages": bodies})["pages"]
    return {
        COUNCILS_DS_ID: [c["created_time"] for c in councils],
        SERVICES_DS_ID: [s["created_time"] for s in services],
    }


# ── the run ──────────────────────────────────────────────────────────────────────────────────────


def large_plan_benchmark(sb: SandboxProcess, workdir: Path, pages: int, say: Say) -> LargePlan:
    sb.reset()
    sb.settings(rate_limit=0, latency_ms=0, query_cap=10_000, clock_step_ms=CLOCK_STEP_MS)
    (workdir / ".reconcile" / "runs.jsonl").unlink(missing_ok=True)
    snapshot = synthetic_snapshot(pages)
    write_unlisted_mappings(workdir / "mappings.bench.yaml")
    sb.put_planx(snapshot)
    seeded = pages_by_data_source(sb.state())  # the seed's own few pages count in the floor too
    started = time.monotonic()
    declare_hash_property(sb)
    created = seed_workspace(sb, snapshot)
    for ds, times in created.items():
        times += [p["created_time"] for p in seeded[ds] if not p["in_trash"]]
    seed_s = time.monotonic() - started
    say(f"  seeded {pages:,} Councils and {pages:,} services pages in bulk in {seed_s:.1f} s")
    sb.clear_requests()
    env = {**sb.env(), "NOTION_RATE_LIMIT": "0"}
    process = run_reconcile(
        ["plan", "-c", "mappings.bench.yaml", "--detailed-exitcode", "--allow-large-changes"], cwd=workdir, env=env
    )
    calls = classify(sb.requests(), {})
    walks = [capped_walk(times) for times in created.values()]
    problems = []
    if process.exit_code != 0:
        tail = (process.stderr or process.stdout).strip().splitlines()[-3:]
        problems.append(f"plan exited {process.exit_code} (0: no changes): {' | '.join(tail)}")
    return LargePlan(
        pages=pages,
        seed_s=seed_s,
        process=process,
        queries=calls.queries,
        query_floor=sum(w.queries for w in walks),
        windows=sum(w.windows for w in walks),
        problems=problems,
    )


def one_line(p: LargePlan) -> str:
    extra = f" problems: {p.problems}" if p.problems else ""
    return (
        f"  plan over {p.pages:,} + {p.pages:,} pages: queries {p.queries} floor {p.query_floor} "
        f"({p.windows} windows) wall {p.process.wall_s:.1f}s cpu {p.process.cpu_s:.1f}s "
        f"rss {p.process.max_rss_mb:.0f}MB{extra}"
    )


def add_verdicts(v: Verdicts, outcomes: list[Outcome], large: LargePlan | None) -> None:
    for o in outcomes:
        if o.councils == 12_000 and o.name == "no-change re-run":
            v.add(
                f"peak RSS < {NO_CHANGE_MAX_MB:g} MB, 12,000 councils, no-change re-run",
                o.process.max_rss_mb < NO_CHANGE_MAX_MB,
                f"{o.process.max_rss_mb:.0f} MB",
            )
    if large is not None:
        v.add(
            f"plan over {large.pages:,} pages per data source < {LARGE_PLAN_MAX_MB:g} MB peak RSS, "
            "queries = capped-walk floor, no changes",
            large.process.max_rss_mb < LARGE_PLAN_MAX_MB and large.queries == large.query_floor and not large.problems,
            f"{large.process.max_rss_mb:.0f} MB; {large.queries} queries, floor {large.query_floor} "
            f"({large.windows} created_time windows)" + (f"; {'; '.join(large.problems)}" if large.problems else ""),
        )


def section(p: LargePlan) -> list[str]:
    return [
        "",
        "## Memory: a plan over a large workspace",
        "",
        "| pages per data source | bulk seed s | queries / floor | created_time windows | exit | wall s | CPU s "
        "| peak RSS MB |",
        "|---|---|---|---|---|---|---|---|",
        f"| {p.pages:,} | {p.seed_s:.1f} | {p.queries} / {p.query_floor} | {p.windows} | {p.process.exit_code} "
        f"| {p.process.wall_s:.1f} | {p.process.cpu_s:.1f} | {p.process.max_rss_mb:.0f} |",
        "",
        f"`reconcile plan --detailed-exitcode` (exit 0: no changes) over {p.pages:,} Councils and "
        f"{p.pages:,} services pages seeded in bulk with the values the PlanX job wants, and a source "
        f"of {p.pages:,} teams. The sandbox caps each query at 10,000 results; the floor is the "
        "capped walk of each data source's creation times (benchmarks/floors.py). Pages are decoded "
        "as they stream in: the process keeps one PageState per page, never a data source of raw pages.",
    ]


__all__ = ["LARGE_PAGES", "LARGE_PLAN_MAX_MB", "NO_CHANGE_MAX_MB", "LargePlan", "large_plan_benchmark"]
