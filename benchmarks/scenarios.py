"""The scenarios: what each changes in the source, what it should cost, and what it did cost."""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from benchmarks.driver import DATA_SOURCES, ProcessRun, SandboxProcess, last_run_record, run_reconcile
from benchmarks.floors import DataSourcePages, Floor, scenario_floor

REPO = Path(__file__).resolve().parent.parent
CLOCK_STEP_MS = 334  # Notion's 3 requests/s: creation times spread as they would in real life
SOURCE_ROUTES = frozenset({"POST /v1/graphql", "GET /entity.json"})


# ── the source ───────────────────────────────────────────────────────────────────────────────────


def slugs_of(snapshot: dict[str, Any]) -> list[str]:
    return [t["slug"] for t in snapshot["teams"]]


def tenth(slugs: list[str], offset: int) -> list[str]:
    """About 10% of the slugs (every 10th, from `offset`), at least one."""
    picked = slugs[offset::10]
    return picked or slugs[:1]


def with_new_flow(snapshot: dict[str, Any], slugs: list[str]) -> dict[str, Any]:
    """The snapshot where each team in `slugs` has one more online flow (Description and count change)."""
    changed = copy.deepcopy(snapshot)
    wanted = set(slugs)
    for team in changed["teams"]:
        if team["slug"] in wanted:
            team["flows"].append(
                {
                    "id": f"{team['id']:08x}-0000-4000-8000-ffffffffffff",
                    "slug": "service-new",
                    "name": "New service",
                    "status": "online",
                    "category": "apply",
                    "is_service": True,
                    "first_online_at": "2025-01-02T03:04:05.678901",
                    "production_url": f"https://editor.planx.uk/{team['slug']}/service-new/published",
                }
            )
    return changed


def without(snapshot: dict[str, Any], slugs: list[str]) -> dict[str, Any]:
    gone = set(slugs)
    return {**snapshot, "teams": [t for t in snapshot["teams"] if t["slug"] not in gone]}


def write_mappings(path: Path, allowlist: list[str]) -> Path:
    """The repo's PlanX job with the allowlist replaced by the benchmark's councils."""
    document = yaml.safe_load((REPO / "mappings.yaml").read_text())
    job = document["jobs"]["planx-live-services"]
    job["source"]["allowlist"] = list(allowlist)
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def with_index_lag(path: Path, seconds: float) -> Path:
    """The mappings at `path` with `notion.index_lag_seconds` set: how long after a run's writes a
    later run reads the pages it writes again by id (reconcile/state.py)."""
    document = yaml.safe_load(path.read_text())
    document["notion"]["index_lag_seconds"] = seconds
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


# ── ground truth from the sandbox ────────────────────────────────────────────────────────────────


def pages_by_data_source(state: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {ds: [] for ds in DATA_SOURCES.values()}
    for page in state["pages"].values():
        ds = (page.get("parent") or {}).get("data_source_id")
        if ds in out:
            out[ds].append(page)
    return out


def data_source_pages(
    state: dict[str, Any], would_create: dict[str, bool], after: dict[str, Any] | None = None
) -> list[DataSourcePages]:
    """Each data source's pages before the run (and, given the state after it, the pages a
    read-back after the creates walks)."""
    grouped = pages_by_data_source(state)
    later = pages_by_data_source(after) if after is not None else grouped
    return [
        DataSourcePages(
            data_source_id=ds,
            live_created=tuple(p["created_time"] for p in grouped[ds] if not p["in_trash"]),
            trashed=sum(1 for p in grouped[ds] if p["in_trash"]),
            would_create=would_create.get(name, False),
            after_created=tuple(p["created_time"] for p in later[ds] if not p["in_trash"]),
        )
        for name, ds in DATA_SOURCES.items()
    ]


def page_data_sources(state: dict[str, Any]) -> dict[str, str]:
    """Undashed page id → data source id."""
    return {
        pid.replace("-", ""): (p.get("parent") or {}).get("data_source_id", "") for pid, p in state["pages"].items()
    }


def live_and_trashed(state: dict[str, Any], ds: str) -> tuple[int, int]:
    pages = pages_by_data_source(state)[ds]
    trashed = sum(1 for p in pages if p["in_trash"])
    return len(pages) - trashed, trashed


# ── what the run cost ────────────────────────────────────────────────────────────────────────────


@dataclass
class Calls:
    """Notion requests of one run from the sandbox's request log, by kind."""

    schema: int = 0
    queries: int = 0
    creates: int = 0
    updates: int = 0  # PATCH of a services page (update, restore, archive)
    touches: int = 0  # PATCH of a councils page
    relation_reads: int = 0
    page_reads: int = 0
    bot_user: int = 0
    body_reads: int = 0
    block_writes: int = 0
    schema_writes: int = 0
    other: int = 0
    rate_limited: int = 0
    queries_by_data_source: Counter[str] = field(default_factory=Counter)

    @property
    def reads(self) -> int:
        return self.schema + self.queries + self.relation_reads + self.page_reads + self.bot_user + self.body_reads

    @property
    def writes(self) -> int:
        return self.creates + self.updates + self.touches + self.block_writes + self.schema_writes

    @property
    def total(self) -> int:
        return self.reads + self.writes + self.other


def classify(log: dict[str, Any], page_ds: dict[str, str]) -> Calls:
    calls = Calls()
    for entry in log["entries"]:
        route = entry["route"]
        if route in SOURCE_ROUTES:
            continue
        calls.rate_limited += entry["status"] == 429
        path = entry["path"].rstrip("/").split("/")
        if route in ("GET /v1/databases/{id}", "GET /v1/data_sources/{id}"):
            calls.schema += 1
        elif route == "POST /v1/data_sources/{id}/query":
            calls.queries += 1
            calls.queries_by_data_source[path[3]] += 1
        elif route == "POST /v1/pages":
            calls.creates += 1
        elif route == "PATCH /v1/pages/{id}":
            if page_ds.get(path[3].replace("-", "")) == DATA_SOURCES["councils"]:
                calls.touches += 1
            else:
                calls.updates += 1
        elif route == "GET /v1/pages/{id}/properties/{property_id}":
            calls.relation_reads += 1
        elif route == "GET /v1/pages/{id}":
            calls.page_reads += 1
        elif route == "GET /v1/users/me":
            calls.bot_user += 1
        elif route == "GET /v1/blocks/{id}/children":
            calls.body_reads += 1
        elif route in ("PATCH /v1/blocks/{id}/children", "PATCH /v1/blocks/{id}", "DELETE /v1/blocks/{id}"):
            calls.block_writes += 1
        elif route == "PATCH /v1/data_sources/{id}":
            calls.schema_writes += 1
        else:
            calls.other += 1
    if log["total"] != len(log["entries"]):
        raise RuntimeError("the sandbox's request log overflowed; clear it more often")
    return calls


@dataclass
class Outcome:
    """One scenario's measurements, floor and checks."""

    name: str
    councils: int
    calls: Calls
    floor: Floor
    process: ProcessRun
    rate: float | None  # the sandbox's rate limit during the run
    checks: list[str]  # problems found (empty when the run did what it should)
    client_calls: int  # what reconcile itself counted (its run record), for cross-checking

    @property
    def calls_at_floor(self) -> bool:
        c, f = self.calls, self.floor
        return (
            c.total == f.total
            and (c.schema, c.queries, c.creates, c.updates, c.touches, c.page_reads)
            == (
                f.schema,
                f.queries + f.trash + f.overlap + f.readback,
                f.creates,
                f.updates,
                f.touches,
                f.rereads,
            )
            and (c.bot_user, c.body_reads, c.block_writes, c.schema_writes)
            == (f.bot_user, f.body_reads, f.block_writes, f.schema_writes)
            and c.rate_limited == 0
        )

    @property
    def time_floor_s(self) -> float:
        """Notion requests / rate: the least time the rate limit allows (3 req/s when it is off)."""
        return self.calls.total / (self.rate or 3.0)


@dataclass(frozen=True)
class Expect:
    """What a scenario should write, and the services pages it should leave."""

    creates: int = 0
    updates: int = 0
    touches: int = 0
    live_services: int = 0
    trashed_services: int = 0
    # Pages read by id: this run writes them again and the run just before wrote them (Notion's
    # query index may not show that write yet, reconcile/state.py). 0 for a nightly run.
    rereads: int = 0
    bodies: int = 0  # snapshot pages whose body changes (one service added): one read, one append each
    schema_writes: int = 0  # the first run adds the declared Content Hash property


def run_scenario(
    sb: SandboxProcess,
    workdir: Path,
    *,
    name: str,
    councils: int,
    snapshot: dict[str, Any],
    expect: Expect,
    extra_args: tuple[str, ...] = (),
    rate: float | None = None,
) -> Outcome:
    """Put the source, work out the floor from the sandbox's pages, run `reconcile apply`, measure."""
    sb.put_planx(snapshot)
    before = sb.state()
    sb.clear_requests()
    env = sb.env()
    env["NOTION_RATE_LIMIT"] = "" if rate else "0"  # rate off: the client does not pace either
    process = run_reconcile(
        ["apply", "--auto-approve", "-q", "-c", "mappings.bench.yaml", *extra_args], cwd=workdir, env=env
    )
    log = sb.requests()
    after = sb.state()
    # From the pages before the run, and (for the read-back after creates) after it.
    floor = scenario_floor(
        data_source_pages(before, {"services": expect.creates > 0}, after),
        creates=expect.creates,
        updates=expect.updates,
        touches=expect.touches,
        rereads=expect.rereads,
        bodies=expect.bodies,
        schema_writes=expect.schema_writes,
        # asked when some live snapshot keeps its body (its hash as desired): who edited it last
        bot_user=1 if live_and_trashed(before, DATA_SOURCES["services"])[0] > expect.bodies else 0,
    )
    calls = classify(log, page_data_sources(after))
    checks = outcome_checks(process, after, expect)
    record = last_run_record(workdir) if process.exit_code == 0 else {}
    return Outcome(
        name=name,
        councils=councils,
        calls=calls,
        floor=floor,
        process=process,
        rate=rate,
        checks=checks,
        client_calls=int((record.get("api_calls") or {}).get("total", -1)),
    )


def outcome_checks(process: ProcessRun, after: dict[str, Any], expect: Expect) -> list[str]:
    problems = []
    if process.exit_code != 0:
        tail = (process.stderr or process.stdout).strip().splitlines()[-3:]
        problems.append(f"reconcile exited {process.exit_code}: {' | '.join(tail)}")
    live, trashed = live_and_trashed(after, DATA_SOURCES["services"])
    if (live, trashed) != (expect.live_services, expect.trashed_services):
        problems.append(
            f"services pages: {live} live, {trashed} trashed; expected "
            f"{expect.live_services} live, {expect.trashed_services} trashed"
        )
    return problems
