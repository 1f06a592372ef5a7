"""Output that reads at a glance: warnings of one kind on one line with a count and the keys; a
created page's text as text; `apply -q` prints only the summary line and errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.common import run

SandboxServer = pytest.importorskip("notion_sandbox.server").SandboxServer
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def sandbox(planx_workdir: Any) -> Any:
    return planx_workdir


def test_seventeen_unlinked_councils_are_one_warning_line_in_text_and_markdown(sandbox: Any) -> None:
    text = run("plan").output
    warnings = text.split("\nWarnings:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert len(warnings) == 1
    assert warnings[0].startswith("  warning: 17 × relation_target_missing (services): no councils page carries ")
    assert "barking-and-dagenham, birmingham," in warnings[0]
    markdown = run("plan", "--format", "markdown").output
    section = markdown.split("### Warnings (17)\n\n", 1)[1]
    assert section.count("\n- ") == 0 and section.startswith("- **services** 17 × `relation_target_missing`: ")
    assert "No changes" not in text
    run("apply", "--auto-approve")
    calm = run("plan").output
    assert calm.count("relation_target_missing") == 1 and "No changes. Notion is up to date" in calm


def test_a_created_pages_text_is_shown_as_text(sandbox: Any) -> None:
    out = run("plan").output
    block = out.split('+ create services "barking-and-dagenham"', 1)[1].split("\n\n", 1)[0]
    assert "@@" not in out and "+++ after" not in out
    assert (
        "\n    Description:\n        Apply for prior approval\n        Find out if you need planning permission\n"
        in block
    )


def test_apply_quiet_prints_only_the_summary_line_and_errors(sandbox: Any) -> None:
    out = run("apply", "--auto-approve", "-q")
    assert out.exit_code == 0
    assert out.stdout.splitlines() == [
        "Apply complete (planx-live-services): 28 written (1 of them schema change), 0 failed. "
        "Run recorded in .reconcile/runs.jsonl."
    ]
    assert out.stderr == ""
    again = run("apply", "--auto-approve", "-q")
    assert again.stdout.splitlines() == [
        "Apply complete (planx-live-services): 0 written, 0 failed. Run recorded in .reconcile/runs.jsonl."
    ]


def test_relation_values_show_the_related_pages_titles_and_json_keeps_the_ids(sandbox: Any) -> None:
    import json

    councils = sandbox.seed_info["pages"]
    text = run("plan").output
    block = text.split('+ create services "barnet"', 1)[1].split("\n\n", 1)[0]
    assert '    Councils: ["London Borough of Barnet"]' in block
    assert councils["London Borough of Barnet"] not in text
    markdown = run("plan", "--format", "markdown").output
    assert 'Councils: `["London Borough of Barnet"]`' in markdown
    data = json.loads(run("plan", "--format", "json").output)
    [action] = [a for a in data["actions"] if a["action"] == "create" and a["key"] == "barnet"]
    [relation] = [c for c in action["changes"] if c["name"] == "Councils"]
    assert relation["after"] == [councils["London Borough of Barnet"]]
    assert data["labels"][councils["London Borough of Barnet"]] == "London Borough of Barnet"
