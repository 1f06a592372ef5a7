"""Bad input never writes: guards, duplicates, source failures, config and schema errors.

Every refusal is one line on stderr, exit 1, no traceback, and zero writes in the request log.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.worst_day_support import made_by_a_person
from tests.support.common import all_pages, notion, run, writes
from tests.support.reliability import (
    ANSI,
    ScriptedEndpoint,
    assert_converged,
    data_source_ids,
    graphql_body,
    notion_state,
    one_line,
    write_config,
    write_entries,
)

pytestmark = pytest.mark.slow

JOB = "planx-live-services"


def applied(sandbox: Any, config: Path) -> None:
    result = run("apply", "-c", str(config), "--auto-approve")
    assert result.exit_code == 0, result.output
    sandbox.admin.clear_requests()


def without(sandbox: Any, slugs: set[str]) -> None:
    snapshot = sandbox.admin.planx()
    sandbox.admin.put_planx({**snapshot, "teams": [t for t in snapshot["teams"] if t["slug"] not in slugs]})


# ── 4. blast-radius guards ───────────────────────────────────────────────────────────────────────


def test_an_empty_source_is_refused_with_one_line_and_zero_writes(sandbox: Any, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    applied(sandbox, config)
    sandbox.admin.put_planx({"teams": []})

    refused = run("apply", "-c", str(config), "--auto-approve")

    assert refused.exit_code == 1
    assert one_line(refused.stderr) == (
        f"Error: job {JOB}: the source returned 0 records (after the allowlist), fewer than min_records 1; "
        "refusing to apply (a source outage must never archive the CRM). Override with --allow-large-changes"
    )
    assert writes(sandbox) == 0


def test_archiving_more_than_the_share_is_refused_and_the_override_is_explicit(sandbox: Any, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    applied(sandbox, config)
    leaving = {"barnet", "camden", "lambeth", "medway", "newcastle", "southwark"}  # 6 of 22: limit is 5
    without(sandbox, leaving)

    refused = run("apply", "-c", str(config), "--auto-approve")
    assert refused.exit_code == 1
    assert one_line(refused.stderr) == (
        "Error: services: the plan removes 6 of 22 managed pages, more than the limit of 5 (max_archive_ratio "
        "0.2, max_archive_count 5); refusing to apply. Override with --allow-large-changes"
    )
    assert writes(sandbox) == 0

    shown = run("plan", "-c", str(config), "--allow-large-changes")
    assert "services: the plan removes 6 of 22 managed pages" in shown.output
    assert "allowed by --allow-large-changes / allow_large_changes" in ANSI.sub("", shown.output)

    allowed = run("apply", "-c", str(config), "--auto-approve", "--allow-large-changes")
    assert allowed.exit_code == 0, allowed.output
    assert "allowed by --allow-large-changes" in allowed.output
    assert not leaving & set(notion_state(sandbox).services)
    assert_converged(sandbox)


def test_five_archives_pass_and_the_config_override_also_says_so(sandbox: Any, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    applied(sandbox, config)
    without(sandbox, {"barnet", "camden", "lambeth", "medway", "newcastle"})
    assert run("apply", "-c", str(config), "--auto-approve").exit_code == 0
    assert_converged(sandbox)

    sandbox.admin.put_planx({"teams": []})
    overridden = write_config(tmp_path, guards={"allow_large_changes": True}, name="override.yaml")
    plan = run("plan", "-c", str(overridden))
    assert "fewer than min_records 1; allowed by --allow-large-changes / allow_large_changes" in plan.output


# ── 5. duplicates ────────────────────────────────────────────────────────────────────────────────


def test_two_pages_with_one_key_are_reported_and_left_alone(sandbox: Any, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    applied(sandbox, config)
    services_ds, _ = data_source_ids(sandbox)
    twin = notion(sandbox).pages.create(
        parent={"type": "data_source_id", "data_source_id": services_ds},
        properties={
            "Name": {"title": [{"text": {"content": "Lambeth (copy)"}}]},
            "ExternalCustomerID": {"rich_text": [{"text": {"content": "lambeth"}}]},
        },
    )
    made_by_a_person(sandbox, twin["id"])  # a copy the integration made itself would be healed instead
    snapshot = sandbox.admin.planx()
    for team in snapshot["teams"]:
        if team["slug"] in ("lambeth", "barnet"):
            team["name"] = f"{team['name']} (renamed)"
    sandbox.admin.put_planx(snapshot)
    sandbox.admin.clear_requests()
    urls = sorted(p["url"] for p in all_pages(sandbox, services_ds) if "lambeth" in str(p["properties"]))

    result = run("apply", "-c", str(config), "--auto-approve")

    assert result.exit_code == 1
    assert "2 pages in services carry ExternalCustomerID 'lambeth'" in result.output
    assert all(url in result.output for url in urls) and twin["url"] in urls
    assert "1 key(s) were left alone because of errors shown in the plan." in result.stderr
    touched = {e["path"].rsplit("/", 1)[-1] for e in write_entries(sandbox)}
    lambeth_ids = {p["id"] for p in all_pages(sandbox, services_ds) if "lambeth" in str(p["properties"])}
    assert not touched & lambeth_ids
    assert not any(e["route"] == "POST /v1/pages" for e in write_entries(sandbox))
    assert notion_state(sandbox).services["barnet"]["Name"].endswith("(renamed)")


def test_two_records_with_one_key_are_reported_and_never_created(
    sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path)
    document = json.loads(graphql_body(sandbox))
    teams = document["data"]["teams"]
    camden = next(t for t in teams if t["slug"] == "camden")
    teams.append({**camden, "name": "Camden 2"})

    with ScriptedEndpoint().serving() as endpoint:
        endpoint.answer(200, document)
        monkeypatch.setenv("PLANX_GRAPHQL_URL", endpoint.url)
        result = run("apply", "-c", str(config), "--auto-approve")

    assert result.exit_code == 1
    assert "several source records give services the key 'camden'; nothing is written for it" in result.output
    state = notion_state(sandbox)
    assert "camden" not in state.services and len(state.services) == 21


# ── 6. source failures ───────────────────────────────────────────────────────────────────────────

SOURCE_FAULTS = [
    ({"status": 500}, "answered HTTP 500: {"),
    ({"status": 502, "body": "html"}, "answered HTTP 502: <html> <head><title>502 Bad Gateway</title>"),
]


@pytest.mark.parametrize(("fault", "message"), SOURCE_FAULTS, ids=["http-500", "http-502-html"])
def test_a_failing_source_writes_nothing(sandbox: Any, tmp_path: Path, fault: dict[str, Any], message: str) -> None:
    config = write_config(tmp_path)
    sandbox.admin.add_faults([{"method": "POST", "route": "/v1/graphql", "fault": fault, "every": 1}])
    result = run("apply", "-c", str(config), "--auto-approve")
    assert result.exit_code == 1
    line = one_line(result.stderr)
    assert line.startswith(f"Error: GraphQL source {sandbox.graphql_url} {message}")
    assert line.endswith("(nothing was written)")
    assert writes(sandbox) == 0


SCRIPTED = [
    (200, {"errors": [{"message": "field 'teams' not found", "extensions": {"code": "validation-failed"}}]},
     "returned errors: field 'teams' not found [validation-failed] (nothing was written; fix the query in the config)"),
    (200, {"extensions": {}}, "returned no data (nothing was written; the response had no 'data')"),
    (200, b"<html>maintenance</html>", "answered with a body that is not JSON: <html>maintenance</html> "
     "(nothing was written)"),
    (200, {"data": {"teams": [{"slug": "barnet", "name": "B", "flows": []}, {"name": "Camden", "flows": []}]}},
     "record 1 from GraphQL source {url} has no key: 'slug' gave None (nothing was written; the source's shape "
     "changed or source.key is wrong)"),
    (200, {"data": {"organisations": []}}, "the response from {url} has nothing at 'data.teams' (nothing was "
     "written; the source's shape changed or the records path is wrong)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("status", "body", "message"), SCRIPTED, ids=["errors-array", "no-data", "not-json", "no-key", "no-records"]
)
def test_an_unusable_source_answer_writes_nothing(
    sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, status: int, body: Any, message: str
) -> None:
    config = write_config(tmp_path)
    applied(sandbox, config)  # pages exist: an unusable answer must not archive them
    with ScriptedEndpoint().serving() as endpoint:
        endpoint.answer(status, body, "text/html" if isinstance(body, bytes) else "application/json")
        monkeypatch.setenv("PLANX_GRAPHQL_URL", endpoint.url)
        result = run("apply", "-c", str(config), "--auto-approve")
    assert result.exit_code == 1
    expected = message.format(url=endpoint.url)
    line = one_line(result.stderr)
    assert line in (f"Error: GraphQL source {endpoint.url} {expected}", f"Error: {expected}")
    assert writes(sandbox) == 0


# ── 7. config and schema errors ──────────────────────────────────────────────────────────────────


def services_edit(**changes: Any) -> Any:
    def edit(document: dict[str, Any]) -> None:
        document["jobs"][JOB]["resources"]["services"].update(changes)

    return edit


def mapped(name: str, expression: str) -> Any:
    def edit(document: dict[str, Any]) -> None:
        document["jobs"][JOB]["resources"]["services"]["properties"][name] = expression

    return edit


def test_config_errors_are_one_line_exit_1_and_zero_writes(
    sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = write_config(tmp_path)
    (tmp_path / "broken.yaml").write_text("version: 1\njobs:\n  planx: [\n", encoding="utf-8")
    (tmp_path / "python.yaml").write_text("version: !!python/object:os.system {}\njobs: {}\n", encoding="utf-8")
    write_config(tmp_path, name="schema.yaml", edit=services_edit(mode="upsrt"))
    write_config(tmp_path, name="missing.yaml", edit=mapped("Go Live Date", "slug"))
    write_config(tmp_path, name="type.yaml", edit=mapped("Councils", "slug"))
    cases = [
        ("broken.yaml", {}, f"Error: {tmp_path}/broken.yaml:4:1: expected the node content, but found '<stream end>'"),
        ("python.yaml", {}, f"Error: {tmp_path}/python.yaml:1:10: could not determine a constructor for the tag "
         "'tag:yaml.org,2002:python/object:os.system'"),
        ("schema.yaml", {}, f"Error: {tmp_path}/schema.yaml: at jobs.{JOB}.resources.services.mode: 'upsrt' is not "
         "one of ['upsert', 'update-only', 'create-only']"),
        ("mappings.yaml", {"SERVICES_DB_ID": None}, f"Error: {good}: at jobs.{JOB}.resources.services.database: "
         "environment variable SERVICES_DB_ID is not set (export SERVICES_DB_ID=... or write "
         "${SERVICES_DB_ID:-default})"),
        ("missing.yaml", {}, "Error: services: property 'Go Live Date' not found in data source 'PlanX Live "
         "Services'; it has: Content Hash, Councils, Description, ExternalCustomerID, Name, Service Count (fix the "
         "config or the Notion schema)"),
        ("type.yaml", {}, "Error: services: property 'Councils' is a relation; map it with relation: <resource> so "
         "that keys resolve to pages (fix the config or the Notion schema)"),
        ("mappings.yaml", {"SERVICES_DB_ID": "12345678-0000-4000-8000-000000000000"}, "Error: database "
         "12345678-0000-4000-8000-000000000000 not found: share it with the integration (database ⋯ menu → "
         "Connections → add the integration) and check the id"),
        ("mappings.yaml", {"NOTION_TOKEN": "ntn_wrong"}, "Error: Notion rejected the token (NOTION_TOKEN): API token "
         "is invalid. (set NOTION_TOKEN to the integration's internal secret)"),
        ("mappings.yaml", {"NOTION_TOKEN": None}, "Error: NOTION_TOKEN is not set (create an internal integration in "
         "Notion, share both databases with it, and export its secret)"),
    ]  # fmt: skip
    for name, env, message in cases:
        with monkeypatch.context() as m:
            for var, value in env.items():
                if value is None:
                    m.delenv(var)
                else:
                    m.setenv(var, value)
            for command in (["apply", "--auto-approve"], ["plan"], ["validate"]):
                result = run(command[0], "-c", str(tmp_path / name), *command[1:])
                if command[0] == "validate" and "NOTION_TOKEN" in env and env["NOTION_TOKEN"] is None:
                    continue  # without a token, validate checks only the file (and says so)
                assert result.exit_code == 1, (name, command, result.output)
                assert one_line(result.stderr) == message, (name, command)
                assert "Traceback" not in result.output
    assert writes(sandbox) == 0
    assert not os.path.exists(tmp_path / ".reconcile" / "crash.log")
