"""Rate limiting adapts: a Notion slower than the config is met at its own pace, and the configured
pace against a Notion of that same pace meets no 429 at all.

Counted from the sandbox's request log (every request it answered, by status), never by the clock.
"""

from __future__ import annotations

from pathlib import Path

import pytest

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
