"""Smaller defects seen from outside: created pages' URLs in the apply CSV, and a suggest-links
plan that claims no source record count."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from tests.support.common import run

SandboxServer = pytest.importorskip("notion_sandbox.server").SandboxServer
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def sandbox(planx_workdir: Any) -> Any:
    return planx_workdir


def test_apply_csv_gives_every_created_page_its_url(sandbox: Any) -> None:
    out = run("apply", "--auto-approve", "--csv", "run.csv")
    assert out.exit_code == 0, out.output
    with open("run.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    created = [r for r in rows if r["action"] == "create"]
    assert len(created) == 22
    for row in created:
        assert row["page_id"] and row["page_url"].endswith(row["page_id"].replace("-", "")), row


def test_a_suggest_links_plan_does_not_claim_source_records(sandbox: Any) -> None:
    out = run("suggest-links", "--apply", "--yes")
    assert out.exit_code == 0, out.output
    assert "Reconcile plan for planx-live-services, made " in out.output  # the plan it applies is shown
    assert "Source records" not in out.output and "(none)" not in out.output
