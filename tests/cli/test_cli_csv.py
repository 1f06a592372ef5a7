"""The per-page CSV summary of a plan and of an apply."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from reconcile.csvout import COLUMNS, plan_rows, rows_to_csv, write_csv
from reconcile.model import Action, ApplyResult, Outcome, Plan, PropertyChange

JOBS = {"services": "planx", "councils": "planx"}


def make_plan() -> Plan:
    create = Action(
        "create",
        "services",
        "barnet",
        None,
        None,
        (PropertyChange("Name", "title", None, "Barnet"), PropertyChange("Service Count", "number", None, 3)),
        "new",
    )
    update = Action(
        "update",
        "services",
        "=cmd",
        "p-2",
        "https://notion.so/p2",
        (PropertyChange("Description", "rich_text", "a", "b"),),
        "drift",
    )
    touch = Action(
        "touch",
        "councils",
        "camden",
        "p-3",
        "https://notion.so/p3",
        (PropertyChange("Integration Last Updated", "date", None, "2026-01-01"),),
        "touch",
    )
    return Plan("2026-01-01T00:00:00.000Z", "d", ("planx",), (), (create, update, touch))


def parsed(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_plan_gives_one_planned_row_per_action_without_values() -> None:
    rows = parsed(rows_to_csv(plan_rows(make_plan(), JOBS)))
    assert [r["action"] for r in rows] == ["create", "update", "touch"]
    assert rows[0]["changed_properties"] == "Name; Service Count"
    assert {r["status"] for r in rows} == {"planned"}
    assert rows[0]["job"] == "planx" and rows[2]["page_url"] == "https://notion.so/p3"
    assert "Barnet" not in rows_to_csv(plan_rows(make_plan(), JOBS)).split("barnet")[1]


def test_an_apply_adds_each_outcome_with_notion_error_codes_and_created_ids() -> None:
    result = ApplyResult(
        (
            Outcome("create", "services", "barnet", "new-id", "ok"),
            Outcome("update", "services", "=cmd", "p-2", "failed", "validation_error", "bad value"),
        )
    )
    rows = parsed(rows_to_csv(plan_rows(make_plan(), JOBS, result)))
    assert [(r["status"], r["page_id"], r["error_code"]) for r in rows] == [
        ("ok", "new-id", ""),
        ("failed", "p-2", "validation_error"),
        ("not_attempted", "p-3", ""),
    ]


def test_a_key_that_looks_like_a_formula_is_defused() -> None:
    rows = parsed(rows_to_csv(plan_rows(make_plan(), JOBS)))
    assert rows[1]["key"] == "'=cmd"


def test_write_csv_creates_the_folder_and_writes_the_header(tmp_path: Path) -> None:
    target = tmp_path / "audit" / "plan.csv"
    write_csv(target, [])
    assert target.read_text(encoding="utf-8").strip() == ",".join(COLUMNS)
