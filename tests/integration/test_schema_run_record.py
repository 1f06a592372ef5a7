"""The schema changes an apply makes are part of its run: counted in "N written", kept in the run
record (what changed and whether it landed, never option names or values), shown by `history
RUN_ID` and in its JSON."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reconcile.commands.apply import report_run
from reconcile.commands.history import run_detail
from reconcile.errors import NotionError
from reconcile.run import apply_run, plan_run
from reconcile.runlog import read_runs
from tests.integration.test_schema_as_code import apply_of, config_with
from tests.integration.test_schema_as_code import sandbox as sandbox  # the fixture
from tests.support.jobs import gateway_for

SCHEMA = {
    "properties": {
        "Stage": {"type": "select", "options": ["Live", "Beta"]},
        "Launched": "date",
    }
}


def test_schema_changes_are_counted_recorded_and_shown(
    sandbox: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_with(sandbox, tmp_path, SCHEMA, Stage='`"Live"`')
    record = apply_of(config, sandbox)
    made = [(s.change, s.property, s.type, s.status) for s in record.result.schema]
    assert made == [("add", "Stage", "select", "ok"), ("add", "Launched", "date", "ok")]
    pages = sum(1 for o in record.result.outcomes if o.status == "ok")
    assert record.result.written == pages + 2

    report_run(record)
    assert f"{pages + 2} written (2 of them schema changes), 0 failed" in capsys.readouterr().out

    kept = read_runs(config.run_log)[-1]
    assert [(c["change"], c["property"], c["type"], c["status"]) for c in kept["schema_changes"]] == made
    assert kept["counts"]["schema_add"] == {"ok": 2, "failed": 0, "skipped": 0}
    assert "Beta" not in json.dumps(kept)  # option names are values: the record keeps none
    detail = run_detail(kept)
    assert "schema: add 'Stage' (select) of services: ok" in detail
    assert "schema: add 'Launched' (date) of services: ok" in detail

    again = apply_of(config, sandbox)  # nothing left to change: no schema entry at all
    assert again.result.schema == () and "schema_changes" not in read_runs(config.run_log)[-1]


def test_a_refused_schema_change_is_recorded_as_failed(sandbox: Any, tmp_path: Path) -> None:
    config = config_with(sandbox, tmp_path, SCHEMA, Stage='`"Live"`')
    config = dataclasses.replace(config, notion=dataclasses.replace(config.notion, max_attempts=1))
    sandbox.admin.add_faults([{"method": "PATCH", "route": "/v1/data_sources/{id}", "faults": [{"status": 409}]}])
    with gateway_for(config, sandbox.seed_info["env"]) as gateway:
        started = datetime.now(UTC)
        plan = plan_run(config, gateway, now=started)
        with pytest.raises(NotionError):
            apply_run(config, gateway, plan, started=started)
    kept = read_runs(config.run_log)[-1]
    assert kept["status"] == "failed" and kept["failed"] == 2
    assert [(c["property"], c["status"]) for c in kept["schema_changes"]] == [
        ("Stage", "failed"),
        ("Launched", "failed"),
    ]
    assert all(c.get("error_code") for c in kept["schema_changes"])
    assert not kept.get("outcomes")  # no page was written after the refusal
    assert "schema: add 'Stage' (select) of services: failed" in run_detail(kept)
