"""Alerts from real applies: a local webhook receives exactly one message when a guard trips and
none for a clean run; a failing webhook is recorded and never fails the run; under GitHub Actions
the run's problems become annotations and the job summary says the outcome."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.common import run
from tests.support.webhook import WebhookReceiver

SandboxServer = pytest.importorskip("notion_sandbox.server").SandboxServer
REPO = Path(__file__).resolve().parents[2]
SHIPPED = yaml.safe_load((REPO / "mappings.yaml").read_text(encoding="utf-8"))
ALLOWLIST = SHIPPED["jobs"]["planx-live-services"]["source"]["allowlist"]


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with SandboxServer(port=0, seed="planx", rate_limit=None) as sb:
        for name, value in sb.seed_info["env"].items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("NOTION_RATE_LIMIT", "0")
        monkeypatch.chdir(tmp_path)
        yield sb


def with_notify(**notify: Any) -> None:
    document = {**SHIPPED, "notify": {"webhooks": [{"url_env": "RECONCILE_TEST_HOOK", "format": "slack"}], **notify}}
    Path("mappings.yaml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def drop_teams(sandbox: Any, count: int) -> None:
    """Take `count` allowlisted councils out of PlanX: more than 5 means more archives than the guard allows."""
    snapshot = sandbox.admin.planx()
    gone = set(ALLOWLIST[:count])
    snapshot["teams"] = [t for t in snapshot["teams"] if t["slug"] not in gone]
    sandbox.admin.put_planx(snapshot)


def log_lines() -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(".reconcile/runs.jsonl").read_text(encoding="utf-8").splitlines()]


def test_exactly_one_message_for_a_guard_trip_and_none_for_a_clean_run(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_notify()
    with WebhookReceiver() as hook:
        monkeypatch.setenv("RECONCILE_TEST_HOOK", hook.url)
        assert run("apply", "--auto-approve").exit_code == 0  # creates everything: no event to tell
        assert run("apply", "--auto-approve").exit_code == 0  # a clean run
        assert hook.received == []

        drop_teams(sandbox, 10)
        out = run("apply", "--auto-approve")
        assert out.exit_code == 1 and "refusing to apply" in out.stderr
        [message] = hook.bodies()
    assert message["text"].startswith("reconcile planx-live-services: refused (run ")
    assert "guard tripped: services: the plan removes 10 of 22 managed pages" in message["text"]
    # one message says all the run raised: refused, the guard, and a source 45 % smaller than last run
    assert "the source returned 12 records, 22 last run (45% change, threshold 20%)" in message["text"]
    assert [b["type"] for b in message["blocks"]] == ["section", "section"]
    *_, refused, notification = log_lines()
    assert refused["status"] == "refused" and notification["record_type"] == "notification"
    assert notification["run_id"] == refused["run_id"]
    assert notification["deliveries"] == [{"ok": True, "status": 204, "webhook": "RECONCILE_TEST_HOOK"}]
    assert hook.url not in Path(".reconcile/runs.jsonl").read_text(encoding="utf-8")


def test_a_failing_webhook_is_recorded_and_the_run_still_succeeds(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_notify(events=["record_count_changed"], record_count_change=0.1)
    with WebhookReceiver(mode="fail") as hook:
        monkeypatch.setenv("RECONCILE_TEST_HOOK", hook.url)
        assert run("apply", "--auto-approve").exit_code == 0
        drop_teams(sandbox, 3)  # 22 → 19 records: more than 10%, and within the guard
        out = run("apply", "--auto-approve")
        assert out.exit_code == 0, out.output
        assert len(hook.received) == 1
    detail = run("history", log_lines()[-2]["run_id"])
    assert "Alert to RECONCILE_TEST_HOOK: not sent (HTTP 500)" in detail.output


def test_under_github_actions_problems_are_annotations_and_the_summary_says_the_outcome(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    Path("mappings.yaml").write_text((REPO / "mappings.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    out = run("apply", "--auto-approve")
    assert out.exit_code == 0
    warnings = [line for line in out.output.splitlines() if line.startswith("::warning ")]
    assert warnings == [w for w in warnings if "relation_target_missing" in w] and len(warnings) == 1
    assert warnings[0].split("::", 2)[2].startswith("17 × relation_target_missing (services): ")
    assert summary.read_text(encoding="utf-8").startswith("### ✅ reconcile planx-live-services: ok")

    drop_teams(sandbox, 10)
    out = run("apply", "--auto-approve")
    assert out.exit_code == 1
    assert any(line.startswith("::error title=reconcile%3A guard_archive_limit::") for line in out.output.splitlines())
    assert "### ❌ reconcile planx-live-services: refused" in summary.read_text(encoding="utf-8")
