"""Issue 10, point 6: a mapped property whose Notion type cannot take the mapped values stops
`validate`, `plan` and `apply` before any write, with one line naming the database, the property,
the expected type and the actual one.

A type mismatch is a property's problem, not each record's: with Description retyped to number,
every snapshot's text is refused, and the run stops whole instead of writing the records that
happen to have no text and failing on the others.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.worst_day_support import services_ds
from tests.support.common import notion, run, writes
from tests.support.reliability import assert_converged, one_line, write_config


def description_is_a_number(sb: Any) -> None:
    notion(sb).data_sources.update(data_source_id=services_ds(sb), properties={"Description": {"number": {}}})


def councils_relate_elsewhere(sb: Any) -> None:
    """The services' Councils relation now points at another database's data source."""
    client = notion(sb)
    other = client.databases.create(
        parent={"type": "page_id", "page_id": sb.seed_info["parent_page_id"]},
        title=[{"type": "text", "text": {"content": "Old Councils"}}],
        initial_data_source={"properties": {"Name": {"title": {}}}},
    )
    client.data_sources.update(data_source_id=services_ds(sb), properties={"Councils": None})
    client.data_sources.update(
        data_source_id=services_ds(sb),
        properties={
            "Councils": {"relation": {"data_source_id": other["data_sources"][0]["id"], "single_property": {}}}
        },
    )


# (case, change to Notion, words the line must contain: database, property, expected, actual)
CASES: list[tuple[str, Callable[[Any], None], tuple[str, ...]]] = [
    ("description-number", description_is_a_number, ("PlanX Live Services", "'Description'", "rich_text", "number")),
    (
        "relation-elsewhere",
        councils_relate_elsewhere,
        ("PlanX Live Services", "'Councils'", "relation", "Old Councils"),
    ),
]


@pytest.mark.parametrize(("change", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
@pytest.mark.parametrize("applied_first", [False, True], ids=["fresh", "applied"])
def test_a_property_retyped_in_notion_stops_every_command_before_any_write(
    sandbox: Any, tmp_path: Path, change: Callable[[Any], None], words: tuple[str, ...], applied_first: bool
) -> None:
    config = write_config(tmp_path)
    if applied_first:
        assert run("apply", "-c", str(config), "--auto-approve").exit_code == 0
    change(sandbox)
    sandbox.admin.clear_requests()

    lines = []
    for command in (["validate"], ["plan"], ["apply", "--auto-approve"]):
        result = run(*command, "-c", str(config))
        assert result.exit_code == 1, (command, result.output)
        assert "Traceback" not in result.output
        lines.append(one_line(result.stderr))

    assert writes(sandbox) == 0
    for line in lines:
        assert line.startswith("Error: "), line
        for word in words:
            assert word in line, (word, line)
    assert len(set(lines)) == 1, lines  # the same problem, said the same way by each command


def test_validate_still_says_compatible_when_the_types_fit(sandbox: Any, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    result = run("validate", "-c", str(config))
    assert result.exit_code == 0, result.output
    assert "Notion: every mapped property exists with a compatible type" in result.stdout
    assert writes(sandbox) == 0


def test_a_type_put_back_lets_the_run_proceed(sandbox: Any, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    description_is_a_number(sandbox)
    assert run("apply", "-c", str(config), "--auto-approve").exit_code == 1
    notion(sandbox).data_sources.update(
        data_source_id=services_ds(sandbox), properties={"Description": {"rich_text": {}}}
    )
    result = run("apply", "-c", str(config), "--auto-approve")
    assert result.exit_code == 0, result.output
    assert_converged(sandbox)
