"""Page bodies at scale (issue 14): a resource with `content` and a hash property on 200 pages.

    first run      every page created with its body (≈ 14 blocks, a nested list, a code block),
                   its icon and its hash: the body rides in the create request
    no-change run  the same source again: no body read, nothing written

The real CLI runs as a subprocess against the sandbox process, the source is a JSON file served on
127.0.0.1; calls are counted from the sandbox's request log, as for the other scenarios.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from benchmarks.driver import NOTION_VERSION, TOKEN, SandboxProcess, run_reconcile
from benchmarks.floors import Floor, bodies_floor
from benchmarks.scenarios import CLOCK_STEP_MS
from notion_sandbox.seed import PARENT_PAGE_ID

BODY_PAGES = 200
BLOCK_ROUTES = ("GET /v1/blocks/{id}/children", "PATCH /v1/blocks/{id}/children", "PATCH /v1/blocks/{id}")
MAPPINGS = """\
version: 1
jobs:
  notes:
    source:
      http:
        url: {url}
      records: notes
      key: slug
    guards: {{max_archive_ratio: 1, max_archive_count: 1000}}
    resources:
      notes:
        database: {database}
        match: {{property: Name, key: slug}}
        properties:
          Summary: summary
        content: {{markdown: body, hash_property: Content Hash}}
        icon: emoji
"""


@dataclass(frozen=True)
class BodiesOutcome:
    name: str
    pages: int
    by_route: dict[str, int]
    floor: Floor
    exit_code: int
    wall_s: float

    @property
    def total(self) -> int:
        return sum(self.by_route.values())

    @property
    def body_reads(self) -> int:
        return self.by_route.get("GET /v1/blocks/{id}/children", 0)

    @property
    def writes(self) -> int:
        return sum(n for route, n in self.by_route.items() if route.startswith(("POST /v1/pages", "PATCH", "DELETE")))

    @property
    def at_floor(self) -> bool:
        return self.exit_code == 0 and self.total <= self.floor.total


def body_of(i: int) -> str:
    return (
        f"# Service {i}\n\nOnline since **2024**; see [the guide](https://example.org/{i}).\n\n"
        "- Apply\n  - householder\n  - prior approval\n- Report\n\n1. check\n2. submit\n\n"
        f"- [ ] review {i}\n\n> quoted\n\n---\n\n```yaml\nservice: {i}\n```\n"
    )


def records(pages: int) -> list[dict[str, Any]]:
    return [{"slug": f"s{i:04d}", "summary": f"service {i}", "body": body_of(i), "emoji": "🏛"} for i in range(pages)]


class Source:
    """The source: {"notes": [...]} on 127.0.0.1."""

    def __init__(self, notes: list[dict[str, Any]]) -> None:
        payload = json.dumps({"notes": notes}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/notes.json"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def notes_database(sb: SandboxProcess) -> str:
    headers = {"Authorization": f"Bearer {TOKEN}", "Notion-Version": NOTION_VERSION}
    body = {
        "parent": {"type": "page_id", "page_id": PARENT_PAGE_ID},
        "title": [{"type": "text", "text": {"content": "Notes"}}],
        "initial_data_source": {
            "properties": {"Name": {"title": {}}, "Summary": {"rich_text": {}}, "Content Hash": {"rich_text": {}}}
        },
    }
    answer = httpx.post(f"{sb.url}/v1/databases", json=body, headers=headers, timeout=60)
    answer.raise_for_status()
    return str(answer.json()["id"])


HOUR_MS = 3_600_000


def bodies_suite(sb: SandboxProcess, workdir: Path, pages: int = BODY_PAGES) -> list[BodiesOutcome]:
    """The first run and two no-change runs, each counted against its floor."""
    sb.reset()
    # A virtual clock an hour on between runs, as nightly runs are: the read cache's safety window
    # (10 minutes) then holds none of the last run's writes.
    sb.settings(rate_limit=0, latency_ms=0, clock_step_ms=CLOCK_STEP_MS)
    (workdir / ".reconcile" / "runs.jsonl").unlink(missing_ok=True)
    database = notes_database(sb)
    source = Source(records(pages))
    try:
        config = workdir / "mappings.bodies.yaml"
        config.write_text(MAPPINGS.format(url=source.url, database=database))
        out = []
        # The first no-change run's read cache query still returns the pages the creating run wrote
        # (its cursor is from before them); the next one returns none: both are counted.
        runs = (
            (f"bodies: first run ({pages} creates)", True, False),
            ("bodies: no-change run (reads back the creates once)", False, True),
            ("bodies: no-change run", False, False),
        )
        for name, first, after_creates in runs:
            sb.admin("POST", "clock", {"advance_ms": HOUR_MS})
            sb.clear_requests()
            run = run_reconcile(["apply", "-c", str(config), "--auto-approve"], cwd=workdir, env=sb.env())
            by_route = dict(sb.requests()["by_route"])
            floor = bodies_floor(pages, first=first, after_creates=after_creates)
            out.append(BodiesOutcome(name, pages, by_route, floor, run.exit_code, run.wall_s))
        return out
    finally:
        source.close()


def one_line(o: BodiesOutcome) -> str:
    status = "ok" if o.at_floor else "OFF-FLOOR"
    return (
        f"  {o.pages:>6} {o.name:<40} calls {o.total:>6} floor {o.floor.total:>6} body reads {o.body_reads} "
        f"writes {o.writes} wall {o.wall_s:7.1f}s [{status}]"
    )


def bodies_table(outcomes: list[BodiesOutcome]) -> list[str]:
    lines = [
        "| scenario | pages | calls | floor | body reads | writes | calls by route |",
        "|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        routes = ", ".join(f"{r} {n}" for r, n in sorted(o.by_route.items()))
        lines.append(f"| {o.name} | {o.pages} | {o.total} | {o.floor.total} | {o.body_reads} | {o.writes} | {routes} |")
    return lines
