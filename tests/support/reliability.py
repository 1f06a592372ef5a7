"""Shared helpers of the reliability suite: a PlanX sandbox, fast configs, the CLI, and the oracle.

The oracle (`expected_state`) is computed from the sandbox's PlanX snapshot and the config's
allowlist, independently of the planner, and `notion_state` reads what Notion holds; a test
compares the two after clearing its faults, so its own reads never meet an injected fault.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from tests.support.common import all_pages, plain, run
from tests.support.sandbox import realism_from_env, settled

REPO = Path(__file__).resolve().parents[2]
MAPPINGS = REPO / "mappings.yaml"
WRITE_ROUTES = ("POST /v1/pages", "PATCH /v1/pages/{id}")
QUERY_ROUTE = "/v1/data_sources/{id}/query"

# Fast retries for tests: the policy is the product's, only its delays shrink.
FAST_NOTION = {
    "rate_limit": 3,
    "burst": 3,
    "max_attempts": 6,
    "max_retry_seconds": 10,
    "retry_base_seconds": 0.01,
    "timeout_seconds": 5,
    "workers": 4,
}

# RECONCILE_TEST_REALISM=1 (CI runs the product suites once so, see docs/sandbox.md): the sandbox's
# queries lag 2 s behind writes, some creates commit seconds after their 504, and 5% of requests
# meet Notion's own faults. Empty otherwise. Fixtures pass it to SandboxServer.
REALISM = realism_from_env()
# Realistic mode retries as the product does by default: against faults that last (a write still in
# flight answers 409 until it lands), retries 10 ms apart give up before the first write is done.
REALISTIC_RETRIES = {"max_retry_seconds": 120, "retry_base_seconds": 0.5}


def write_config(
    directory: Path,
    *,
    notion: dict[str, Any] | None = None,
    guards: dict[str, Any] | None = None,
    edit: Callable[[dict[str, Any]], None] | None = None,
    name: str = "mappings.yaml",
) -> Path:
    """The shipped mappings.yaml with faster Notion settings (and any other edit), in `directory`."""
    document = yaml.safe_load(MAPPINGS.read_text(encoding="utf-8"))
    document["notion"] = {**FAST_NOTION, **(REALISTIC_RETRIES if REALISM else {}), **(notion or {})}
    job = document["jobs"]["planx-live-services"]
    if guards:
        job["guards"] = {**job["guards"], **guards}
    if edit is not None:
        edit(document)
    path = directory / name
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


# ── the sandbox's records ────────────────────────────────────────────────────────────────────────


def requests_log(sb: Any) -> dict[str, Any]:
    return sb.admin.requests()


def write_entries(sb: Any) -> list[dict[str, Any]]:
    return [e for e in requests_log(sb)["entries"] if e["route"] in WRITE_ROUTES]


def data_source_ids(sb: Any) -> tuple[str, str]:
    dbs = sb.seed_info["databases"]
    return dbs["services"]["data_source_id"], dbs["councils"]["data_source_id"]


@dataclass(frozen=True)
class NotionState:
    """What Notion holds, by key: snapshot values (relations as council keys), stamps, duplicates."""

    services: dict[str, dict[str, Any]]
    stamped: frozenset[str]
    duplicates: dict[str, int]
    page_ids: dict[str, str]


def notion_state(sb: Any) -> NotionState:
    services_ds, councils_ds = data_source_ids(sb)
    councils = all_pages(sb, councils_ds)
    council_key = {p["id"]: plain(p, "ExternalCustomerID").strip() for p in councils}
    stamped = frozenset(
        council_key[p["id"]] for p in councils if plain(p, "Integration Last Updated") and council_key[p["id"]]
    )
    counts: Counter[str] = Counter()
    services: dict[str, dict[str, Any]] = {}
    ids: dict[str, str] = {}
    for page in all_pages(sb, services_ds):
        key = plain(page, "ExternalCustomerID").strip()
        if not key:
            continue
        counts[key] += 1
        ids[key] = page["id"]
        services[key] = {
            "Name": plain(page, "Name"),
            "Description": plain(page, "Description"),
            "Service Count": plain(page, "Service Count"),
            "Councils": frozenset(council_key.get(i, i) for i in plain(page, "Councils")),
        }
    return NotionState(
        services=services,
        stamped=stamped,
        duplicates={k: n for k, n in counts.items() if n > 1},
        page_ids=ids,
    )


def allowlist(config_path: Path = MAPPINGS) -> list[str]:
    document = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    return list(document["jobs"]["planx-live-services"]["source"]["allowlist"])


def council_keys(sb: Any) -> set[str]:
    _, councils_ds = data_source_ids(sb)
    return {k for p in all_pages(sb, councils_ds) if (k := plain(p, "ExternalCustomerID").strip())}


def expected_services(snapshot: dict[str, Any], keys: list[str], councils: set[str]) -> dict[str, dict[str, Any]]:
    """The seed's rules, written out independently of the planner."""
    out = {}
    for team in snapshot["teams"]:
        slug = team["slug"]
        if slug not in keys:
            continue
        flows = [f for f in team.get("flows") or [] if f.get("status") == "online"]
        online = sorted(flows, key=lambda f: (f["name"].casefold(), f["name"]))
        out[slug] = {
            "Name": (team.get("name") or "").strip() or slug,
            "Description": "\n".join(f["name"].strip() for f in online),
            "Service Count": len(online),
            "Councils": frozenset({slug} & councils),
        }
    return out


def assert_converged(sb: Any, *, stamped_at_least: set[str] | None = None, config: Path = MAPPINGS) -> NotionState:
    """Notion equals the oracle: one page per allowlisted council with the right values, linked and stamped."""
    sb.admin.clear_faults()
    state = notion_state(sb)
    councils = council_keys(sb)
    expected = expected_services(sb.admin.planx(), allowlist(config), councils)
    assert state.duplicates == {}, f"duplicate pages: {state.duplicates}"
    assert state.services == expected
    linked = {k for k, v in expected.items() if v["Councils"]}
    assert linked, "the oracle expects at least one linked council"
    assert linked <= state.stamped, f"linked but not stamped: {sorted(linked - state.stamped)}"
    if stamped_at_least is not None:
        assert stamped_at_least <= state.stamped
    return state


@contextmanager
def planx_sandbox(tmp_path: Path, monkeypatch: Any) -> Iterator[Any]:
    """A fresh PlanX sandbox (realistic when RECONCILE_TEST_REALISM is set), the environment pointed
    at it, the client's own limiter off, the working directory `tmp_path`."""
    from notion_sandbox.server import SandboxServer

    with SandboxServer(port=0, seed="planx", rate_limit=None, **REALISM) as sb:
        for name, value in sb.seed_info["env"].items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("NOTION_RATE_LIMIT", "0")  # the sandbox runs unlimited here; speed is benchmarked
        monkeypatch.chdir(tmp_path)
        yield sb


def time_passes(sb: Any) -> None:
    """The next scheduled run comes hours after this one: by then every late commit has landed and
    Notion's index has caught up (nothing is pending unless the sandbox is realistic)."""
    sb.admin.settle()


def assert_end_state(
    sb: Any, config: Path | str, converged: Callable[[], Any] | None = None, **oracle: Any
) -> NotionState | None:
    """Issue 11's end state: one page per key with every field right (`assert_converged`, or the
    test's own `converged` check), and then an apply that makes zero writes.

    In realistic mode a create that Notion committed seconds after its 504 may have left a second
    page for a key that the run could not see yet; the tool heals such pages "by the end of that
    apply or the next one" (issue 10), so that next run is made first, after time has passed.
    """
    if REALISM:
        time_passes(sb)
        healed = run("apply", "-c", str(config), "--auto-approve")
        assert healed.exit_code == 0, healed.output
    with settled(sb):
        state = converged() if converged is not None else assert_converged(sb, **oracle)
    # In every mode: a write a fault held back (a slow answer the client gave up on, a late commit)
    # lands now, not during the apply below, where it would look like a write of that apply.
    sb.admin.settle()
    before = sb.admin.state()["pages"]
    again = run("apply", "-c", str(config), "--auto-approve")
    assert again.exit_code == 0, again.output
    # Zero writes, seen from both sides: Notion holds every page exactly as before (any write, even
    # of the same values, moves last_edited_time), and the run sent no write. (The sandbox's request
    # log could also count an earlier run's write whose answer a fault held back until now.)
    assert sb.admin.state()["pages"] == before, again.output
    calls = last_record()["api_calls"]["by_route"]
    assert not [route for route in WRITE_ROUTES if calls.get(route)], calls
    return state if isinstance(state, NotionState) else None


def last_record() -> dict[str, Any]:
    """The newest record of the run log (the configs here keep its default path, in the working directory)."""
    lines = Path(".reconcile/runs.jsonl").read_text(encoding="utf-8").splitlines()
    return dict(json.loads(lines[-1]))


# ── a scripted HTTP endpoint (a source that misbehaves, or one that records what it was sent) ────


class ScriptedEndpoint:
    """Answers every request with `status` and `body`, recording each request's headers."""

    def __init__(self, status: int = 200, body: bytes = b"{}", content_type: str = "application/json") -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.seen: list[dict[str, str]] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1/graphql"

    def answer(self, status: int, body: Any, content_type: str = "application/json") -> None:
        self.status = status
        self.body = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.content_type = content_type

    @contextmanager
    def serving(self) -> Iterator[ScriptedEndpoint]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                endpoint.seen.append({k.lower(): v for k, v in self.headers.items()})
                self.send_response(endpoint.status)
                self.send_header("Content-Type", endpoint.content_type)
                self.send_header("Content-Length", str(len(endpoint.body)))
                self.end_headers()
                self.wfile.write(endpoint.body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()


def graphql_body(sb: Any) -> bytes:
    """The sandbox's real answer to the shipped query, to serve from a ScriptedEndpoint."""
    document = yaml.safe_load(MAPPINGS.read_text(encoding="utf-8"))
    query = document["jobs"]["planx-live-services"]["source"]["graphql"]["query"]
    import httpx

    return httpx.post(sb.graphql_url, json={"query": query, "variables": {}}, timeout=10).content


def one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got {lines!r}"
    return lines[0]


def by_status(sb: Any) -> dict[str, int]:
    return requests_log(sb)["by_status"]


def grouped(entries: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in entries:
        out[e["route"]].append(e)
    return out


ANSI = re.compile(r"\x1b\[[0-9;]*m")
