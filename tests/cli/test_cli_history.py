"""Run records read back: the job split, `reconcile history`, the unlinked keys."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from reconcile.cli import cli
from reconcile.runlog import append_run, history_row, job_split, unlinked_keys
from tests.support.run_records import run, two_job_runs


def write_log(path: Path, runs: list[dict]) -> Path:
    for r in runs:
        append_run(path, r)
    return path


def test_job_split_puts_each_outcome_and_warning_under_its_job() -> None:
    split = job_split(two_job_runs()[1])
    assert split["planx-live-services"]["counts"] == {"update": 1, "touch": 1}
    assert split["planning-data"]["counts"] == {"update": 1}
    assert split["planning-data"]["failed"] == 1
    assert [w["code"] for w in split["planning-data"]["warnings"]] == ["key_needed_strip"]


def test_a_one_job_record_without_the_resource_map_still_splits() -> None:
    split = job_split(two_job_runs()[0])
    assert list(split) == ["planx-live-services"]
    assert split["planx-live-services"]["counts"] == {"create": 2}


def test_history_row_summarises_a_run() -> None:
    row = history_row(two_job_runs()[1])
    assert row["written"] == {"update": 2, "touch": 1}
    assert (row["failed"], row["warnings"], row["api_calls"]) == (1, 2, 7)


def test_unlinked_keys_come_from_the_relation_warnings_once_each() -> None:
    record = run("t", warnings=[("relation_target_missing", "services", "camden")] * 2 + [("x", "services", "a")])
    assert [(u["job"], u["key"]) for u in unlinked_keys(record)] == [("planx-live-services", "camden")]


def test_history_lists_the_runs_newest_last_with_a_limit(tmp_path: Path) -> None:
    log = write_log(tmp_path / "runs.jsonl", two_job_runs())
    out = CliRunner().invoke(cli, ["history", "--run-log", str(log)])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0].split()[:5] == ["Run", "Started", "(UTC)", "Status", "Jobs"]
    assert lines[2].split()[:3] == ["-", "2026-01-01T02:00:00.000Z", "ok"]  # an old record: no id, status derived
    assert lines[3].split()[2] == "failed"
    assert "2 create" in lines[2] and "1 touch, 2 update" in lines[3]
    limited = CliRunner().invoke(cli, ["history", "--run-log", str(log), "--limit", "1"])
    assert "2026-01-01" not in limited.output and "2026-01-02" in limited.output


def test_history_json_is_one_object_per_run(tmp_path: Path) -> None:
    log = write_log(tmp_path / "runs.jsonl", two_job_runs())
    out = CliRunner().invoke(cli, ["history", "--run-log", str(log), "--json"])
    rows = json.loads(out.output)
    assert [r["failed"] for r in rows] == [0, 1]
    assert rows[1]["jobs"] == ["planx-live-services", "planning-data"]


def test_history_reads_the_run_log_named_in_the_config(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mappings.yaml").write_text("version: 1\nrun_log: logs/r.jsonl\njobs: {}\n", encoding="utf-8")
    write_log(tmp_path / "logs" / "r.jsonl", two_job_runs()[:1])
    out = CliRunner().invoke(cli, ["history"])
    assert "2026-01-01" in out.output


def test_history_without_runs_says_so(tmp_path: Path) -> None:
    out = CliRunner().invoke(cli, ["history", "--run-log", str(tmp_path / "none.jsonl")])
    assert out.exit_code == 0 and "No runs recorded" in out.output
