"""The operator's commands end to end against the sandbox over HTTP: demo, bootstrap, suggest-links."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner

from reconcile.cli import cli
from reconcile.commands import demo as demo_module
from reconcile.commands import suggest_links as suggest_links_module
from tests.support.common import run

SandboxServer = pytest.importorskip("notion_sandbox.server").SandboxServer

REPO = Path(__file__).resolve().parents[2]
REAL_LOOKING_TOKEN = "ntn_real_workspace_secret_0123456789"


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def mappings(in_tmp: Path) -> str:
    """The shipped mappings.yaml, paced for a local sandbox (3 requests/s would make tests slow)."""
    document = yaml.safe_load((REPO / "mappings.yaml").read_text(encoding="utf-8"))
    document["notion"].update(rate_limit=100, burst=100)
    path = in_tmp / "mappings.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return str(path)


# ── demo ─────────────────────────────────────────────────────────────────────────────────────────


def test_demo_plans_applies_converges_and_says_where_the_data_went(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real token in the shell must never be used: the demo only talks to its own sandbox.
    monkeypatch.setenv("NOTION_TOKEN", REAL_LOOKING_TOKEN)
    monkeypatch.setenv("NOTION_BASE_URL", "https://api.notion.com")
    out = run("demo")
    assert out.exit_code == 0, out.output
    text = out.output
    first, rest = text.split("2. reconcile apply", 1)
    assert re.search(r"Plan: 1 schema change, 22 to create, 0 to update", first), first[-400:]
    assert "Apply complete: " in rest and ", 0 failed." in rest
    edited, second = rest.split("3. Someone edits", 1)[1].split("4. reconcile plan again", 1)
    # A person's line in a body: the plan shows the body's diff and sets it back
    assert '~ update services "barnet"' in edited and "-- Pre-application advice (typed in by hand)" in edited
    assert "No changes." in second
    assert "Where the data went" in text and "http://127.0.0.1:" in text
    unlinked = text.split("Still unlinked:", 1)[1].split("Next steps", 1)[0]
    listed = {word.strip(",") for word in unlinked.split()[1:] if word.strip(",").islower()}
    assert {"camden", "doncaster", "southwark", "tewkesbury"} <= listed
    assert "barnet" not in listed  # barnet's Councils page carries its slug
    records = [json.loads(line) for line in (in_tmp / ".reconcile/demo/runs.jsonl").read_text().splitlines()]
    assert len(records) == 2 and {r["command"] for r in records} == {"demo"}
    assert records[0]["counts"]["create"]["ok"] == 22
    assert [o["key"] for o in records[1]["outcomes"] if o.get("drift")] == ["barnet"]
    assert REAL_LOOKING_TOKEN not in text


@pytest.mark.slow
def test_demo_keeps_its_data_in_a_state_file_and_a_second_demo_has_nothing_to_do(in_tmp: Path) -> None:
    state = in_tmp / "notion.json"
    assert run("demo", "--state", str(state)).exit_code == 0
    assert state.exists()
    again = run("demo", "--state", str(state))
    assert again.exit_code == 0, again.output
    assert "No changes." in again.output.split("2. reconcile apply", 1)[0]


@pytest.mark.slow
def test_demo_keep_running_prints_the_environment_and_stops_on_ctrl_c(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(demo_module, "wait_until_interrupted", interrupted)
    out = run("demo", "--keep-running")
    assert out.exit_code == 0, out.output
    assert "export NOTION_TOKEN=ntn_sandbox" in out.output
    assert "export COUNCILS_DB_ID=" in out.output and "Sandbox stopped." in out.output


# ── bootstrap ────────────────────────────────────────────────────────────────────────────────────


@pytest.fixture
def empty_sandbox(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with SandboxServer(port=0, seed="empty", rate_limit=None) as sb:
        for name, value in sb.seed_info["env"].items():
            monkeypatch.setenv(name, value)
        yield sb


def schema_of(sb: Any, database_id: str) -> dict[str, Any]:
    """Title, property types and relation configs of a database's data source, read over HTTP."""
    headers = {"Authorization": f"Bearer {sb.seed_info['token']}", "Notion-Version": "2025-09-03"}
    database = httpx.get(f"{sb.url}/v1/databases/{database_id}", headers=headers).json()
    source = httpx.get(f"{sb.url}/v1/data_sources/{database['data_sources'][0]['id']}", headers=headers).json()
    props = source["properties"]
    return {
        "title": "".join(t["plain_text"] for t in database["title"]),
        "types": {name: p["type"] for name, p in props.items()},
        "relations": {name: p["relation"] for name, p in props.items() if p["type"] == "relation"},
    }


def exports(output: str) -> dict[str, str]:
    return dict(re.findall(r"^export ([A-Z_]+)=(\S+)$", output, flags=re.M))


@pytest.mark.slow
def test_bootstrap_creates_the_planx_databases_that_plan_and_apply_then_use(
    mappings: str, empty_sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = empty_sandbox.seed_info["parent_page_id"]
    out = run(
        "bootstrap", "--parent-page", parent, "-c", mappings,
        "--title", "services=PlanX Live Services", "--title", "councils=Councils",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    ids = exports(out.output)
    assert set(ids) == {"COUNCILS_DB_ID", "SERVICES_DB_ID"}
    councils = schema_of(empty_sandbox, ids["COUNCILS_DB_ID"])
    services = schema_of(empty_sandbox, ids["SERVICES_DB_ID"])
    assert councils["title"] == "Councils" and services["title"] == "PlanX Live Services"
    assert councils["types"] == {
        "Name": "title",
        "ExternalCustomerID": "rich_text",
        "Integration Last Updated": "date",
        "PlanX Live Services": "relation",  # the two-way relation's other side
    }
    assert services["types"] == {
        "Name": "title",
        "Description": "rich_text",
        "Service Count": "number",
        "ExternalCustomerID": "rich_text",
        "Councils": "relation",
        "Content Hash": "rich_text",  # declared by the services schema: the page body's hash
    }
    assert services["relations"]["Councils"]["dual_property"]["synced_property_name"] == "PlanX Live Services"
    for name, value in ids.items():
        monkeypatch.setenv(name, value)
    first = run("plan", "-c", mappings, "--detailed-exitcode")
    assert first.exit_code == 2, first.output
    assert run("apply", "-c", mappings, "--auto-approve").exit_code == 0
    assert run("plan", "-c", mappings, "--detailed-exitcode").exit_code == 0


def test_bootstrap_refuses_a_second_copy(mappings: str, empty_sandbox: Any) -> None:
    parent = empty_sandbox.seed_info["parent_page_id"]
    assert run("bootstrap", "--parent-page", parent, "-c", mappings).exit_code == 0
    before = len(empty_sandbox.admin.state()["databases"])
    empty_sandbox.admin.clear_requests()
    again = CliRunner().invoke(cli, ["bootstrap", "--parent-page", parent, "-c", mappings])
    assert again.exit_code == 1
    assert empty_sandbox.admin.requests()["by_route"].get("POST /v1/search", 0) >= 1
    assert "already exists" in again.output and "export COUNCILS_DB_ID=" in again.output
    assert len(empty_sandbox.admin.state()["databases"]) == before


# ── suggest-links ────────────────────────────────────────────────────────────────────────────────


@pytest.fixture
def planx_sandbox(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with SandboxServer(port=0, seed="planx", rate_limit=None) as sb:
        for name, value in sb.seed_info["env"].items():
            monkeypatch.setenv(name, value)
        yield sb


def council_keys(sb: Any) -> dict[str, str]:
    state = sb.admin.state()
    councils_ds = state["databases"][sb.seed_info["env"]["COUNCILS_DB_ID"]]["data_source_ids"][0]
    out = {}
    for page in state["pages"].values():
        if page["parent"].get("data_source_id") == councils_ds and not page.get("in_trash"):
            props = page["props"]
            title = "".join(t.get("plain_text", "") for t in props.get("title", []))
            key = "".join(t.get("plain_text", "") for v in props.values() if v is not props.get("title") for t in v)
            out[title] = key
    return out


def test_suggest_links_shows_a_table_and_writes_nothing_without_apply(mappings: str, planx_sandbox: Any) -> None:
    before = planx_sandbox.admin.requests()["by_route"].get("PATCH /v1/pages/{id}", 0)
    out = run("suggest-links", "-c", mappings)
    assert out.exit_code == 0, out.output
    rows = {line.split("  ")[0]: line for line in out.output.splitlines()}
    assert "camden" in rows["London Borough of Camden"] and "1.00" in rows["London Borough of Camden"]
    assert "doncaster" in rows["Doncaster Metropolitan Borough Council"]
    assert "no match" in rows["Bristol City Council"]
    assert planx_sandbox.admin.requests()["by_route"].get("PATCH /v1/pages/{id}", 0) == before


def test_suggest_links_apply_yes_writes_the_confident_keys_and_the_next_apply_links_them(
    mappings: str,
    planx_sandbox: Any,
) -> None:
    out = run("suggest-links", "-c", mappings, "--apply", "--yes")
    assert out.exit_code == 0, out.output
    assert "Wrote 4 key(s), 0 failed" in out.output
    keys = council_keys(planx_sandbox)
    assert keys["London Borough of Camden"] == "camden"
    assert keys["Tewkesbury Borough Council"] == "tewkesbury"
    assert keys["Bristol City Council"] == ""
    applied = run("apply", "-c", mappings, "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "camden" not in "".join(
        line for line in run("plan", "-c", mappings).output.splitlines() if "stays unlinked" in line
    )


def test_suggest_links_asks_one_by_one_and_writes_only_what_was_confirmed(
    mappings: str, planx_sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(suggest_links_module, "stdin_is_terminal", lambda: True)
    out = run("suggest-links", "-c", mappings, "--apply", input="y\nn\nn\nn\n")
    assert out.exit_code == 0, out.output
    assert "Wrote 1 key(s)" in out.output
    assert sum(1 for v in council_keys(planx_sandbox).values() if v) == 6  # 5 seeded + 1 confirmed


def test_suggest_links_refuses_to_apply_without_a_terminal_or_yes(mappings: str, planx_sandbox: Any) -> None:
    out = CliRunner().invoke(cli, ["suggest-links", "-c", mappings, "--apply"])
    assert out.exit_code == 1
    assert "refusing to write links without confirmation" in out.output


# ── --csv and --verbose on plan and apply ────────────────────────────────────────────────────────


def test_plan_and_apply_write_the_per_page_csv_and_the_run_names_its_jobs(
    mappings: str, planx_sandbox: Any, in_tmp: Path
) -> None:
    assert run("plan", "-c", mappings, "--csv", "plan.csv").exit_code == 0
    planned = list(csv.DictReader((in_tmp / "plan.csv").open(encoding="utf-8")))
    # 22 creates, 5 touches, and the schema's one addition (the page body's Content Hash)
    assert len(planned) == 28 and {r["status"] for r in planned} == {"planned"}
    assert [r["action"] for r in planned].count("schema_add") == 1
    assert {r["job"] for r in planned} == {"planx-live-services"}
    barnet = next(r for r in planned if r["key"] == "barnet" and r["action"] == "create")
    assert (
        barnet["changed_properties"].split("; ")[:2] == ["ExternalCustomerID", "Name"]
        or "Name" in barnet["changed_properties"]
    )
    assert run("apply", "-c", mappings, "--auto-approve", "--csv", "apply.csv").exit_code == 0
    applied = list(csv.DictReader((in_tmp / "apply.csv").open(encoding="utf-8")))
    assert len(applied) == 28 and {r["status"] for r in applied} == {"ok"}
    assert all(r["page_id"] for r in applied if r["action"] != "schema_add")  # created pages carry their new ids
    [record] = [json.loads(line) for line in (in_tmp / ".reconcile/runs.jsonl").read_text().splitlines()]
    assert record["resource_jobs"] == {"services": "planx-live-services", "councils": "planx-live-services"}


def test_verbose_logs_each_http_call_without_the_token(mappings: str, planx_sandbox: Any) -> None:
    token = planx_sandbox.seed_info["token"]
    out = CliRunner().invoke(cli, ["plan", "-c", mappings, "-v"])
    assert out.exit_code == 0, out.stderr
    calls = [line for line in out.stderr.splitlines() if line.startswith("http: ")]
    assert any("/v1/data_sources/" in line and "/query" in line and " 200 " in line for line in calls)
    assert token not in out.stderr and token not in out.stdout
    quiet = CliRunner().invoke(cli, ["plan", "-c", mappings])
    assert "http: " not in quiet.stderr
