"""Every apply leaves a record: finished, failed, refused, interrupted and crashed runs alike, with
what was written so far; `history` lists id, status, counts and duration, `history RUN_ID` the pages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.common import run, writes

SandboxServer = pytest.importorskip("notion_sandbox.server").SandboxServer
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with SandboxServer(port=0, seed="planx", rate_limit=None) as sb:
        for name, value in sb.seed_info["env"].items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("NOTION_RATE_LIMIT", "0")
        monkeypatch.chdir(tmp_path)
        document = yaml.safe_load((REPO / "mappings.yaml").read_text(encoding="utf-8"))
        document["notion"]["workers"] = 1  # one write at a time: "after the third write" is exact
        Path("mappings.yaml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        yield sb


def records() -> list[dict[str, Any]]:
    lines = Path(".reconcile/runs.jsonl").read_text(encoding="utf-8").splitlines()
    return [r for r in map(json.loads, lines) if r.get("record_type", "run") == "run"]


def test_an_interrupted_apply_records_what_it_wrote_and_history_shows_it(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reconcile.notion.gateway import NotionGateway

    real_create = NotionGateway.create_page
    calls = {"n": 0}

    def create_then_ctrl_c(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real_create(self, *args, **kwargs)

    monkeypatch.setattr(NotionGateway, "create_page", create_then_ctrl_c)
    out = run("apply", "--auto-approve")
    assert out.exit_code == 130
    [record] = records()
    assert record["status"] == "interrupted"
    assert {o["status"] for o in record["outcomes"]} == {"ok"}
    assert [o["action"] for o in record["outcomes"]].count("create") == 3
    written = writes(sandbox)
    assert len(record["outcomes"]) == written  # every write sent is in the record, and no other
    # The schema change that came first (the PlanX config declares its Content Hash) is a write too.
    schema = [c for c in record.get("schema_changes") or () if c["status"] == "ok"]
    assert len(schema) == 1
    assert record["error"]["message"] == f"interrupted (Ctrl-C) after {written + len(schema)} write(s)"
    assert record["plan_id"]  # partly applied: this exact plan is not applied again

    listing = run("history")
    assert record["run_id"] in listing.output and "interrupted" in listing.output
    detail = run("history", record["run_id"][:17])
    assert detail.exit_code == 0
    assert detail.output.startswith(f"Run {record['run_id']}: interrupted\n")
    assert f"stopped: interrupted (Ctrl-C) after {written + len(schema)} write(s)" in detail.output
    assert detail.output.count("create  services") == 3


def test_a_failed_source_a_refused_plan_and_a_crash_are_recorded_too(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLANX_GRAPHQL_URL", sandbox.url + "/no/such/endpoint")
    assert run("apply", "--auto-approve").exit_code == 1
    monkeypatch.setenv("PLANX_GRAPHQL_URL", sandbox.graphql_url)

    assert run("apply", "--auto-approve").exit_code == 0
    snapshot = sandbox.admin.planx()
    snapshot["teams"] = []  # the source comes back empty: the min_records guard refuses
    sandbox.admin.put_planx(snapshot)
    assert run("apply", "--auto-approve").exit_code == 1

    import reconcile.run as library

    def bug(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(library, "compute_plan", bug)
    assert run("apply", "--auto-approve").exit_code == 3

    statuses = [(r["status"], (r.get("error") or {}).get("code")) for r in records()]
    assert statuses == [("failed", "SourceError"), ("ok", None), ("refused", "GuardError"), ("crashed", "RuntimeError")]
    assert all(r["run_id"] for r in records()) and len({r["run_id"] for r in records()}) == 4
    assert records()[0]["plan_id"] == ""  # nothing was planned, nothing counts as applied
    table = run("history").output.splitlines()
    assert table[0].split()[:3] == ["Run", "Started", "(UTC)"] and "Status" in table[0]
    assert [line.split()[2] for line in table[2:]] == ["failed", "ok", "refused", "crashed"]


def test_history_of_an_unknown_run_is_one_line_and_exit_1(sandbox: Any) -> None:
    assert run("apply", "--auto-approve").exit_code == 0
    out = run("history", "nope")
    assert out.exit_code == 1
    assert out.stderr.strip().startswith("Error: no run 'nope' in .reconcile/runs.jsonl")
