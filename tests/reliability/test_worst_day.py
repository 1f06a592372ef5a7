"""Issue 10, point 1, end to end: the two ways the tool makes a second page for a key, and the heal.

- Two `reconcile apply --auto-approve` processes (the real console script) started at once from
  two working directories (two CI runners, or a laptop and CI): each has its own lock, so both
  plan "create" for every key and both create.
- A create that Notion commits seconds after it answered 504: the client's re-check by key finds
  nothing, so it creates again, and the late page lands afterwards.

Both must end with exactly one live page per key, by the end of that apply or of the next one,
with no human step, and a final `plan --detailed-exitcode` exits 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.reliability.worst_day_support import (
    actions_of,
    duplicated_keys,
    outcomes,
    pages_by_key,
    plan_document,
    run_records,
    services_ds,
    start_apply,
    wait_for,
)
from tests.support.common import run
from tests.support.reliability import allowlist, assert_converged, requests_log, write_config

CREATE_ROUTE = "POST /v1/pages"
WORKERS = 4


@pytest.mark.slow
def test_two_applies_from_two_directories_at_once_end_with_one_page_per_key(sandbox: Any, tmp_path: Path) -> None:
    first, second = tmp_path / "laptop", tmp_path / "ci-runner"
    for directory in (first, second):
        directory.mkdir()
        write_config(directory)
    # Each process's first creates take a second to commit, so the other process is sure to have
    # read Notion (and planned its own creates) before any page exists: the race, every time.
    slow_creates = {"latency_ms": 1000}
    sandbox.admin.add_faults(
        [{"method": "POST", "route": "/v1/pages", "fault": slow_creates, "every": 1, "times": 2 * WORKERS}]
    )

    processes = [start_apply(sandbox, directory / "mappings.yaml", directory) for directory in (first, second)]
    ended = [(p.wait(timeout=120), p.stderr.read().decode()) for p in processes]

    for code, stderr in ended:
        assert "Traceback" not in stderr
        assert code == 0, stderr
    sandbox.admin.clear_faults()
    keys = len(allowlist())
    creates = sum(1 for e in requests_log(sandbox)["entries"] if e["route"] == CREATE_ROUTE)
    assert creates > keys, "the two runs never raced: nothing to heal"
    if duplicated_keys(sandbox, services_ds(sandbox)):
        # A read-back can miss a page the other run committed after it; the next apply heals it.
        again = run("apply", "-c", str(first / "mappings.yaml"), "--auto-approve")
        assert again.exit_code == 0, again.output
    assert_converged(sandbox)
    # Each extra page went to the trash; both runs may have healed it (the second finds it there).
    healed = outcomes(run_records(first) + run_records(second), "heal")
    assert len({o["page_id"] for o in healed}) == creates - keys
    settled = run("plan", "-c", str(first / "mappings.yaml"), "--detailed-exitcode")
    assert settled.exit_code == 0, settled.output


@pytest.mark.slow
def test_creates_that_commit_seconds_after_a_504_converge(sandbox: Any, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    late = {"commit_then": 504, "commit_delay_ms": 3000}
    sandbox.admin.add_faults([{"method": "POST", "route": "/v1/pages", "fault": late, "every": 5, "times": 3}])

    result = run("apply", "-c", str(config), "--auto-approve")

    assert result.exit_code == 0, result.output
    keys = len(allowlist())
    notes = [o.get("note") for o in run_records(tmp_path)[-1]["outcomes"] if o["action"] == "create"]
    assert notes.count("recreated") == 3, notes
    sandbox.admin.clear_faults()
    # The three late pages land on their own, after the run that gave up on them.
    wait_for(
        lambda: sum(len(v) for v in pages_by_key(sandbox, services_ds(sandbox)).values()) == keys + 3,
        timeout_s=30,
        what="the late commits",
    )
    document = plan_document(config)
    assert len(actions_of(document, "heal", "services")) == 3
    assert not actions_of(document, "create")

    healed = run("apply", "-c", str(config), "--auto-approve")

    assert healed.exit_code == 0, healed.output
    assert len(outcomes(run_records(tmp_path)[-1:], "heal")) == 3
    assert_converged(sandbox)
    assert run("plan", "-c", str(config), "--detailed-exitcode").exit_code == 0
