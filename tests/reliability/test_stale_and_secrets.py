"""Saved plans that no longer fit are refused; the Notion token never shows and never travels astray."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from notion_sandbox.server import SandboxServer
from tests.reliability.worst_day_support import resign
from tests.support.common import all_pages, notion, run, writes
from tests.support.reliability import (
    ScriptedEndpoint,
    assert_converged,
    data_source_ids,
    graphql_body,
    notion_state,
    one_line,
    write_config,
)

# ── 8. stale plans ───────────────────────────────────────────────────────────────────────────────


def saved_update_plan(sandbox: Any, tmp_path: Path) -> tuple[Path, Path]:
    """An applied state, then a source change, saved as a plan that updates every snapshot."""
    config = write_config(tmp_path)
    assert run("apply", "-c", str(config), "--auto-approve").exit_code == 0
    snapshot = sandbox.admin.planx()
    for team in snapshot["teams"]:
        team["name"] = f"{team['name']} Council"
    sandbox.admin.put_planx(snapshot)
    plan_file = tmp_path / "plan.json"
    assert run("plan", "-c", str(config), "-o", str(plan_file)).exit_code == 0
    sandbox.admin.clear_requests()
    return config, plan_file


def refused(config: Path, plan_file: Path) -> str:
    result = run("apply", str(plan_file), "-c", str(config))
    assert result.exit_code == 1, result.output
    return one_line(result.stderr)


@pytest.mark.slow
def test_a_page_edited_since_planning_makes_the_plan_stale(sandbox: Any, tmp_path: Path) -> None:
    config, plan_file = saved_update_plan(sandbox, tmp_path)
    page_id = notion_state(sandbox).page_ids["lambeth"]
    notion(sandbox).pages.update(
        page_id=page_id, properties={"Description": {"rich_text": [{"text": {"content": "by hand"}}]}}
    )
    sandbox.admin.clear_requests()
    assert refused(config, plan_file) == (
        "Error: saved plan is stale: services 'lambeth': the page changed in Notion since the plan was made "
        "(run `reconcile plan` again)"
    )
    assert writes(sandbox) == 0


def test_a_page_created_since_planning_makes_the_plan_stale(sandbox: Any, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    plan_file = tmp_path / "plan.json"
    assert run("plan", "-c", str(config), "-o", str(plan_file)).exit_code == 0
    services_ds, _ = data_source_ids(sandbox)
    notion(sandbox).pages.create(
        parent={"type": "data_source_id", "data_source_id": services_ds},
        properties={"ExternalCustomerID": {"rich_text": [{"text": {"content": "barnet"}}]}},
    )
    sandbox.admin.clear_requests()
    assert refused(config, plan_file).startswith(
        "Error: saved plan is stale: services 'barnet': a page with this key exists now"
    )
    assert writes(sandbox) == 0
    assert len([p for p in all_pages(sandbox, services_ds) if "barnet" in str(p["properties"])]) == 1


@pytest.mark.slow
def test_a_plan_from_another_config_too_old_or_already_applied_is_refused(sandbox: Any, tmp_path: Path) -> None:
    config, plan_file = saved_update_plan(sandbox, tmp_path)
    other = write_config(tmp_path, guards={"max_archive_count": 6}, name="other.yaml")
    assert refused(other, plan_file) == (
        f"Error: the saved plan was made from a different config ({other} changed since; run `reconcile plan` again)"
    )
    document = json.loads(plan_file.read_text(encoding="utf-8"))
    old = tmp_path / "old.json"
    old.write_text(json.dumps(resign({**document, "created_at": "2020-01-01T00:00:00.000Z"})), encoding="utf-8")
    assert refused(config, old).startswith("Error: the saved plan is ")
    assert refused(config, old).endswith(
        " h old, older than the maximum of 24.0 h (run `reconcile plan -o FILE` again)"
    )
    assert writes(sandbox) == 0

    applied = run("apply", str(plan_file), "-c", str(config))
    assert applied.exit_code == 0, applied.output
    assert_converged(sandbox)
    sandbox.admin.clear_requests()
    assert refused(config, plan_file) == ("Error: this plan was already applied (run `reconcile plan` for a new one)")
    assert writes(sandbox) == 0


def test_max_plan_age_comes_from_the_config(sandbox: Any, tmp_path: Path) -> None:
    config = write_config(tmp_path, edit=lambda d: d.update(max_plan_age="1m"))
    plan_file = tmp_path / "plan.json"
    assert run("plan", "-c", str(config), "-o", str(plan_file)).exit_code == 0
    document = json.loads(plan_file.read_text(encoding="utf-8"))
    created = datetime.fromisoformat(document["created_at"].replace("Z", "+00:00"))
    minutes_ago = (created - timedelta(minutes=2)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    plan_file.write_text(json.dumps(resign({**document, "created_at": minutes_ago})), encoding="utf-8")
    assert "older than the maximum of 0.0 h" in refused(config, plan_file)


# ── 9. secrets ───────────────────────────────────────────────────────────────────────────────────

TOKEN = "ntn_known_secret_4b1d2c3e9f"


@pytest.mark.slow
def test_the_token_appears_in_no_output_file_or_crash_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with SandboxServer(port=0, seed="planx", rate_limit=None, tokens=(TOKEN,)) as sb:
        for name, value in sb.seed_info["env"].items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("NOTION_RATE_LIMIT", "0")
        monkeypatch.chdir(tmp_path)
        config = write_config(tmp_path)
        outputs = [
            run("validate", "-c", str(config)),
            run("plan", "-c", str(config), "-o", "plan.json", "-v"),
            run("show", "plan.json", "--format", "json"),
            run("apply", "plan.json", "-c", str(config), "-v"),
        ]
        outputs.append(run("apply", "-c", str(config), "--auto-approve"))
        monkeypatch.setenv("NOTION_TOKEN", TOKEN + "x")  # a refused token: Notion's error goes through too
        outputs.append(run("plan", "-c", str(config)))
        monkeypatch.setenv("NOTION_TOKEN", TOKEN)
        # A crash whose message carries the token.
        monkeypatch.setattr(
            "reconcile.run.plan_run", lambda *a, **k: (_ for _ in ()).throw(RuntimeError(f"boom {TOKEN}"))
        )
        outputs.append(run("apply", "-c", str(config), "--auto-approve"))
        assert outputs[-1].exit_code == 3
    texts = [r.stdout + r.stderr for r in outputs]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "crash.log" for p in files) and any(p.name == "runs.jsonl" for p in files)
    assert "http: GET" in texts[1]  # -v did log the requests
    texts += [p.read_text(encoding="utf-8") for p in files]
    assert not [t for t in texts if TOKEN in t]


def test_the_token_goes_only_to_notion_never_to_the_source(
    sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path)
    with ScriptedEndpoint().serving() as endpoint:
        endpoint.answer(200, graphql_body(sandbox))
        monkeypatch.setenv("PLANX_GRAPHQL_URL", endpoint.url)
        assert run("apply", "-c", str(config), "--auto-approve").exit_code == 0
    assert endpoint.seen
    token = sandbox.seed_info["token"]
    assert not [h for h in endpoint.seen if token in json.dumps(h) or "authorization" in h]


@pytest.mark.parametrize("base_url", ["http://example.com", "http://10.0.0.8:8080", "ftp://api.notion.com"])
def test_plain_http_beyond_loopback_is_refused_before_any_request(
    sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, base_url: str
) -> None:
    config = write_config(tmp_path)
    monkeypatch.setenv("NOTION_BASE_URL", base_url)
    result = run("plan", "-c", str(config))
    assert result.exit_code == 1
    assert one_line(result.stderr) == (
        f"Error: NOTION_BASE_URL {base_url!r} is refused: the Notion token only travels over https, "
        "or plain http to this machine (localhost, 127.0.0.1, ::1)"
    )


def test_redact_hides_every_value(sandbox: Any, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    shown = run("plan", "-c", str(config))
    hidden = run("plan", "-c", str(config), "--redact")
    assert "Apply for a lawful development certificate" in shown.output
    for value in ("Apply for a lawful development certificate", "Lambeth", "Barnet"):
        assert value not in hidden.output
    assert "lambeth" in hidden.output  # keys stay, so the plan can still be reviewed
