"""`reconcile validate --offline`: no environment, no network, every problem of every file in one
run at file:line:column with the key path and the nearest valid key; the pre-commit hook runs it."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from tests.support.common import run

REPO = Path(__file__).resolve().parents[2]
SHIPPED = (REPO / "mappings.yaml").read_text(encoding="utf-8")


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_shipped_config_passes_offline_without_any_environment(in_tmp: Path) -> None:
    Path("mappings.yaml").write_text(SHIPPED, encoding="utf-8")  # COUNCILS_DB_ID etc. are not set
    out = run("validate", "--offline")
    assert out.exit_code == 0, out.output
    assert out.output == "1 file(s) checked offline: 0 error(s), 0 warning(s).\n"


def test_every_problem_of_every_file_is_reported_with_its_position(in_tmp: Path) -> None:
    broken = SHIPPED.replace("        on_missing: archive", "        on_mising: archive").replace(
        "        mode: upsert", "        mode: upsrt", 1
    )
    Path("a.yaml").write_text(broken, encoding="utf-8")
    Path("b.yaml").write_text("version: 1\njobs:\n  x: [1\n", encoding="utf-8")
    out = run("validate", "--offline", "a.yaml", "b.yaml")
    assert out.exit_code == 1
    lines = broken.splitlines()
    mode_line = 1 + lines.index("        mode: upsrt")
    missing_line = 1 + lines.index("        on_mising: archive")
    assert out.stderr.splitlines() == [
        f"a.yaml:{mode_line}:9: jobs.planx-live-services.resources.services.mode: 'upsrt' is not one of "
        "['upsert', 'update-only', 'create-only']",
        f"a.yaml:{missing_line}:9: jobs.planx-live-services.resources.services.on_mising: unknown key 'on_mising' "
        "(did you mean 'on_missing'?)",
        "b.yaml:4:1: top level: expected ',' or ']', but got '<stream end>'",
    ]
    assert out.stdout.endswith("2 file(s) checked offline: 3 error(s), 0 warning(s).\n")


def test_a_mark_with_no_way_back_is_a_warning_online_and_offline(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    document = yaml.safe_load(SHIPPED)
    document["jobs"]["planx-live-services"]["resources"]["services"]["on_missing"] = {
        "mark": {"Active": "`false`", "Last Seen": "run.date"}
    }
    Path("mappings.yaml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    offline = run("validate", "--offline")
    assert offline.exit_code == 0
    assert (
        "warning: jobs.planx-live-services.resources.services.on_missing.mark.Active: 'Active' is set" in offline.output
    )
    assert "Last Seen" not in offline.output  # a stamp may stay
    for name in ("COUNCILS_DB_ID", "SERVICES_DB_ID"):
        monkeypatch.setenv(name, "c0c11c00-0000-4000-8000-000000000001")
    online = run("validate")
    assert online.exit_code == 0, online.output
    assert "a page whose key comes back stays marked" in online.output


def test_the_pre_commit_hook_runs_the_offline_check_on_the_files_it_is_given(in_tmp: Path) -> None:
    [hook] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "reconcile-validate" and hook["language"] == "python"
    entry = shlex.split(hook["entry"])
    assert entry[0] == "reconcile"
    Path("mappings.yaml").write_text(SHIPPED.replace("run_log:", "run_logg:"), encoding="utf-8")
    out = run(*entry[1:], "mappings.yaml")  # pre-commit appends the changed files
    assert out.exit_code == 1
    assert "mappings.yaml:22:1: run_logg: unknown key 'run_logg' (did you mean 'run_log'?)" in out.stderr


def test_files_without_offline_are_a_usage_error(in_tmp: Path) -> None:
    out = run("validate", "mappings.yaml")
    assert out.exit_code == 1 and "FILES are checked with --offline" in out.stderr
