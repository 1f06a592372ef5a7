"""Secrets cannot leave: the Notion token and a source's declared secret appear in no output and no file.

A PlanX job whose GraphQL source needs an API key (`secrets: [PLANX_API_KEY]`, sent in its
headers) is validated, planned, shown, applied (saved plan and auto-approved, with -v and --csv),
reported as HTML, refused and failed, all through the CLI against the sandbox; then every line it
printed and every file it wrote is searched for both secret values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from notion_sandbox.server import SandboxServer
from tests.support.common import run
from tests.support.reliability import ScriptedEndpoint, assert_converged, graphql_body, one_line, write_config

TOKEN = "ntn_secrets_test_7c1e9b2a4d"
API_KEY = "planx-api-key-0b8d6f3e91"
JOB = "planx-live-services"


def with_api_key(document: dict[str, Any]) -> None:
    source = document["jobs"][JOB]["source"]
    source["secrets"] = ["PLANX_API_KEY"]
    source["graphql"]["headers"] = {"X-Api-Key": "${PLANX_API_KEY}", "Authorization": "Bearer ${PLANX_API_KEY}"}


def mapped_secret(document: dict[str, Any]) -> None:
    with_api_key(document)
    document["jobs"][JOB]["resources"]["services"]["properties"]["Name"] = "'${PLANX_API_KEY}'"


@pytest.mark.slow
def test_no_output_or_file_holds_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with (
        SandboxServer(port=0, seed="planx", rate_limit=None, tokens=(TOKEN,)) as sb,
        ScriptedEndpoint().serving() as api,
    ):
        for name, value in sb.seed_info["env"].items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("NOTION_RATE_LIMIT", "0")
        monkeypatch.setenv("PLANX_API_KEY", API_KEY)
        monkeypatch.setenv("PLANX_GRAPHQL_URL", api.url)
        monkeypatch.chdir(tmp_path)
        api.answer(200, graphql_body(sb))
        config = str(write_config(tmp_path, edit=with_api_key))
        refused = str(write_config(tmp_path, edit=mapped_secret, name="refused.yaml"))

        outputs = [
            run("validate", "-c", config),
            run("plan", "-c", config, "-o", "plan.json", "-v", "--csv", "plan.csv"),
            run("show", "plan.json", "--format", "json"),
            run("show", "plan.json", "--format", "markdown"),
            run("apply", "plan.json", "-c", config, "-v", "--csv", "apply.csv"),
        ]
        assert_converged(sb)
        snapshot = sb.admin.planx()
        snapshot["teams"] = [{**t, "name": f"{t['name']} Council"} for t in snapshot["teams"]]
        sb.admin.put_planx(snapshot)
        api.answer(200, graphql_body(sb))
        outputs.append(run("apply", "-c", config, "--auto-approve", "-v", "--csv", "again.csv"))
        outputs.append(run("report", "-c", config, "--html", "report.html"))
        outputs.append(run("plan", "-c", refused))
        api.answer(500, {"error": f"invalid key {API_KEY} for this API"})  # a source that echoes the key
        outputs.append(run("apply", "-c", config, "--auto-approve", "-v"))

    assert [r.exit_code for r in outputs] == [0, 0, 0, 0, 0, 0, 0, 1, 1], [r.output for r in outputs]
    assert "http: POST " + api.url in outputs[1].stderr  # -v logs the source's call too
    assert one_line(outputs[7].stderr) == (
        f"Error: {refused}: at jobs.{JOB}.resources.services.properties.Name: ${{PLANX_API_KEY}} is a secret "
        f"(jobs.{JOB}.source.secrets) and may appear only in that source's headers (anywhere else it would be "
        "sent to another host or shown in plans and logs)"
    )
    assert "invalid key [redacted] for this API" in outputs[8].stderr
    # The key did reach the source it belongs to, and only as configured.
    assert api.seen and all(h["x-api-key"] == API_KEY for h in api.seen)
    assert all(h["authorization"] == f"Bearer {API_KEY}" for h in api.seen)

    texts = {f"output {i}": r.stdout + r.stderr for i, r in enumerate(outputs)}
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    names = {p.name for p in files}
    assert {"plan.json", "plan.csv", "apply.csv", "again.csv", "report.html", "runs.jsonl"} <= names
    texts |= {str(p.relative_to(tmp_path)): p.read_text(encoding="utf-8") for p in files}
    for secret in (TOKEN, API_KEY):
        leaks = [where for where, text in texts.items() if secret in text or json.dumps(secret)[1:-1] in text]
        assert leaks == [], f"{secret[:8]}… found in {leaks}"
