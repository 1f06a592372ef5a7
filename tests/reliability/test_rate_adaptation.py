"""Rate limiting adapts: a Notion slower than the config is met at its own pace, and the configured
pace against a Notion of that same pace meets no 429 at all.

Counted from the sandbox's request log (every request it answered, by status), never by the clock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from notion_sandbox.planx import synthetic_snapshot
from notion_sandbox.server import SandboxServer
from tests.support.common import run
from tests.support.reliability import assert_converged, requests_log, write_config

pytestmark = pytest.mark.slow


def first_apply(sb: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rate: float) -> dict[str, int]:
    for name, value in sb.seed_info["env"].items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NOTION_RATE_LIMIT", raising=False)
    monkeypatch.chdir(tmp_path)
    config = write_config(tmp_path, notion={"rate_limit": rate, "burst": 3})
    result = run("apply", "-c", str(config), "--auto-approve")
    assert result.exit_code == 0, result.output
    assert ", 0 failed." in result.output, result.output
    log = requests_log(sb)
    print(f"rate {rate} vs the sandbox's: {log['total']} calls, {log['by_status']}")  # shown with -s
    return {"total": log["total"], "429": log["by_status"].get("429", 0)}


def test_a_notion_at_a_third_of_the_configured_rate_is_met_at_its_pace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Notion allows 1 request/s (burst 3); the config says 3. Before the client adapted, 66 of 97
    # calls met 429 and 6 actions failed.
    with SandboxServer(port=0, seed="planx", rate_limit=1, burst=3) as sb:
        calls = first_apply(sb, tmp_path, monkeypatch, rate=3)
        sb.admin.settings(rate_limit=None)
        assert_converged(sb)
    assert calls["total"] >= 30
    assert calls["429"] / calls["total"] < 0.20, calls


def test_the_configured_rate_against_the_same_rate_meets_no_429(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The whole first apply, at 3 requests/s against a bucket of 3/s with a burst of 3: the client
    # keeps 5 % headroom and one token of the burst in reserve, so jitter never meets an empty bucket.
    with SandboxServer(port=0, seed="planx", rate_limit=3, burst=3) as sb:
        calls = first_apply(sb, tmp_path, monkeypatch, rate=3)
    assert calls["total"] >= 30
    assert calls["429"] == 0, calls


def test_under_a_slower_notion_the_client_settles_at_its_pace_with_few_429s(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 15's throttling target, scaled: Notion sustains 1 request/s against a config of 3, here
    # 20/s against 60, with the burst scaled alike (a 1 s Retry-After refills it, as Notion's 3
    # tokens at 3/s). 100 creates; the client learns the rate from the spacing of the 429s and then
    # probes upward slowly instead of returning to full speed after each Retry-After.
    snapshot = synthetic_snapshot(100)
    slugs = [team["slug"] for team in snapshot["teams"]]

    def allow_all(document: dict[str, Any]) -> None:
        document["jobs"]["planx-live-services"]["source"]["allowlist"] = slugs

    with SandboxServer(port=0, seed="planx", rate_limit=20, burst=20) as sb:
        sb.admin.put_planx(snapshot)
        for name, value in sb.seed_info["env"].items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("NOTION_RATE_LIMIT", raising=False)
        monkeypatch.chdir(tmp_path)
        config = write_config(tmp_path, notion={"rate_limit": 60, "burst": 3}, edit=allow_all)
        result = run("apply", "-c", str(config), "--auto-approve", "--allow-large-changes")
        assert result.exit_code == 0, result.output
        log = requests_log(sb)
    created = [e for e in log["entries"] if e["route"] == "POST /v1/pages" and e["status"] == 200]
    limited = log["by_status"].get("429", 0)
    print(f"{log['total']} calls, {limited} × 429")  # shown with -s
    assert len(created) == 100
    assert limited >= 1  # the client met the server's limit: the test measured something
    assert limited / log["total"] < 0.10, log["by_status"]
