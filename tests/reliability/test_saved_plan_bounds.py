"""Issue 10, points 2 and 4: a saved plan can do nothing the config forbids.

`reconcile apply PLANFILE` checks every action against the current config before any write and
refuses the whole plan with one line and exit 1. Edits are caught twice: the file carries a digest
of its content (any edit after `reconcile plan` wrote it is refused), and a plan re-signed by hand
(summary recounted, digest recomputed, as a script would) is still held to the config's bounds.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.worst_day_support import (
    duplicate_of,
    pages_by_key,
    read_document,
    resign,
    services_ds,
    write_document,
)
from tests.support.common import notion, run, writes
from tests.support.reliability import one_line, write_config

Document = dict[str, Any]


@pytest.fixture
def saved(sandbox: Any, tmp_path: Path) -> tuple[Path, Path]:
    """An applied workspace, then a source change (every council renamed) saved as a plan."""
    config = write_config(tmp_path)
    assert run("apply", "-c", str(config), "--auto-approve").exit_code == 0
    snapshot = sandbox.admin.planx()
    for team in snapshot["teams"]:
        team["name"] = f"{team['name']} Council"
    sandbox.admin.put_planx(snapshot)
    plan_file = tmp_path / "plan.json"
    assert run("plan", "-c", str(config), "-o", str(plan_file)).exit_code == 0
    sandbox.admin.clear_requests()
    return config, plan_file


def refused(sandbox: Any, config: Path, plan_file: Path) -> str:
    result = run("apply", str(plan_file), "-c", str(config))
    assert result.exit_code == 1, result.output
    assert writes(sandbox) == 0
    return one_line(result.stderr)


def action(document: Document, kind: str, resource: str, key: str | None = None) -> Document:
    return next(
        a for a in document["actions"] if a["action"] == kind and a["resource"] == resource and key in (None, a["key"])
    )


def edited(plan_file: Path, change: Callable[[Document], None], name: str) -> Path:
    document = read_document(plan_file)
    change(document)
    return write_document(plan_file.with_name(name), resign(document))


def test_the_unedited_plan_carries_a_digest_and_applies(sandbox: Any, saved: tuple[Path, Path]) -> None:
    config, plan_file = saved
    document = read_document(plan_file)
    assert len(document["digest"]) == 64
    assert resign(copy.deepcopy(document))["digest"] == document["digest"]  # the documented canonical form
    applied = run("apply", str(plan_file), "-c", str(config))
    assert applied.exit_code == 0, applied.output


def test_any_edit_after_plan_wrote_the_file_is_refused(sandbox: Any, saved: tuple[Path, Path]) -> None:
    config, plan_file = saved
    document = read_document(plan_file)
    update = action(document, "update", "services", "lambeth")
    name = next(c for c in update["changes"] if c["name"] == "Name")
    name["after"] = "Totally Different Name"  # a mapped property: only the digest can tell
    tampered = write_document(plan_file.with_name("tampered.json"), document)

    line = refused(sandbox, config, tampered)

    assert "the plan file was changed after `reconcile plan` wrote it" in line


def unmapped_services_property(document: Document) -> None:
    update = action(document, "update", "services", "lambeth")
    update["changes"].append({**update["changes"][0], "name": "Internal Notes", "type": "rich_text"})


def unmapped_councils_property(document: Document) -> None:
    touch = action(document, "touch", "councils", "barnet")
    touch["changes"].append({"name": "Name", "type": "title", "before": "x", "after": "Renamed by a plan"})


def create_in_update_only(document: Document) -> None:
    create = copy.deepcopy(action(document, "touch", "councils", "barnet"))
    create.update(action="create", key="brand-new-council", page_id=None, url=None, digest=None)
    for change in create["changes"]:
        change.pop("depends_on", None)
    document["actions"].append(create)


def archive_in_update_only(document: Document) -> None:
    archive = copy.deepcopy(action(document, "touch", "councils", "lambeth"))
    archive.update(action="archive", changes=[])
    document["actions"].append(archive)


def archive_where_on_missing_is_ignore(document: Document) -> None:
    archive = copy.deepcopy(action(document, "update", "services", "medway"))
    archive.update(action="archive", changes=[])
    document["actions"].remove(action(document, "update", "services", "medway"))
    document["actions"].append(archive)


def heal_a_page_that_is_no_duplicate(document: Document) -> None:
    heal = copy.deepcopy(action(document, "update", "services", "camden"))
    heal.update(action="heal", changes=[])
    document["actions"].remove(action(document, "update", "services", "camden"))
    document["actions"].append(heal)


def target_a_page_of_another_data_source(document: Document) -> None:
    # The lambeth update, aimed at the lambeth council page instead of the snapshot.
    update = action(document, "update", "services", "lambeth")
    update["page_id"] = action(document, "touch", "councils", "lambeth")["page_id"]


def target_a_keyless_page(document: Document) -> None:
    touch = action(document, "touch", "councils", "barnet")
    touch["page_id"] = "c0c11c00-0000-4000-8001-000000000010"  # Bristol: a council page without a key
    touch["key"] = ""


# Councils declares no content, icon or cover (the services snapshots do).
def body_where_no_content_is_declared(document: Document) -> None:
    touch = action(document, "touch", "councils", "lambeth")
    touch["changes"].append({"name": "body", "type": "page_body", "before": "", "after": "# Written by a plan"})


def block_calls_where_no_content_is_declared(document: Document) -> None:
    touch = action(document, "touch", "councils", "lambeth")
    touch["blocks"] = [{"op": "delete", "block": touch["page_id"]}]  # the page itself, to the trash


def icon_where_no_icon_is_declared(document: Document) -> None:
    touch = action(document, "touch", "councils", "lambeth")
    touch["changes"].append(
        {"name": "icon", "type": "page_icon", "before": None, "after": "https://evil.example/x.png"}
    )


# (case, edit, config edit, words the refusal must contain)
BOUNDS: list[tuple[str, Callable[[Document], None], Callable[[Document], None] | None, tuple[str, ...]]] = [
    ("unmapped-services-property", unmapped_services_property, None, ("'Internal Notes'", "neither maps nor")),
    ("unmapped-councils-property", unmapped_councils_property, None, ("'Name'", "councils", "neither maps nor")),
    ("create-in-update-only", create_in_update_only, None, ("creates", "councils", "update-only")),
    ("archive-in-update-only", archive_in_update_only, None, ("archives", "councils", "update-only")),
    (
        "archive-where-on-missing-is-ignore",
        archive_where_on_missing_is_ignore,
        lambda d: d["jobs"]["planx-live-services"]["resources"]["services"].update(on_missing="ignore"),
        ("archives", "services", "on_missing"),
    ),
    ("heal-a-page-that-is-no-duplicate", heal_a_page_that_is_no_duplicate, None, ("heals", "camden", "duplicate")),
    ("target-another-data-source", target_a_page_of_another_data_source, None, ("lambeth", "not in")),
    ("target-a-keyless-page", target_a_keyless_page, None, ("without a key",)),
    ("body-without-content", body_where_no_content_is_declared, None, ("body", "councils", "declares no content")),
    ("blocks-without-content", block_calls_where_no_content_is_declared, None, ("body", "declares no content")),
    ("icon-without-icon", icon_where_no_icon_is_declared, None, ("icon", "councils", "declares no icon")),
]


@pytest.mark.parametrize(("edit", "config_edit", "words"), [c[1:] for c in BOUNDS], ids=[c[0] for c in BOUNDS])
def test_a_resigned_plan_that_leaves_the_configs_bounds_is_refused_whole(
    sandbox: Any,
    tmp_path: Path,
    edit: Callable[[Document], None],
    config_edit: Callable[[Document], None] | None,
    words: tuple[str, ...],
) -> None:
    config = write_config(tmp_path, edit=config_edit)
    assert run("apply", "-c", str(config), "--auto-approve").exit_code == 0
    snapshot = sandbox.admin.planx()
    for team in snapshot["teams"]:
        team["name"] = f"{team['name']} Council"
    sandbox.admin.put_planx(snapshot)
    plan_file = tmp_path / "plan.json"
    assert run("plan", "-c", str(config), "-o", str(plan_file)).exit_code == 0
    sandbox.admin.clear_requests()

    line = refused(sandbox, config, edited(plan_file, edit, "edited.json"))

    assert line.startswith("Error: "), line
    assert "refusing the whole plan" in line, line
    for word in words:
        assert word in line, (word, line)


def test_a_plan_made_in_the_future_is_refused(sandbox: Any, saved: tuple[Path, Path]) -> None:
    config, plan_file = saved
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    line = refused(sandbox, config, edited(plan_file, lambda d: d.update(created_at=tomorrow), "future.json"))

    assert "in the future" in line


def test_a_key_that_gained_a_second_page_since_planning_makes_the_plan_stale(
    sandbox: Any, saved: tuple[Path, Path]
) -> None:
    config, plan_file = saved
    duplicate_of(sandbox, pages_by_key(sandbox, services_ds(sandbox))["lambeth"][0])
    sandbox.admin.clear_requests()

    line = refused(sandbox, config, plan_file)

    assert line.startswith("Error: saved plan is stale: services 'lambeth'"), line


@pytest.mark.parametrize("change", ["renamed", "retyped"])
def test_the_match_property_changed_between_plan_and_apply_is_one_line(
    sandbox: Any, saved: tuple[Path, Path], change: str
) -> None:
    config, plan_file = saved
    spec = {"name": "Customer ID"} if change == "renamed" else {"number": {}}
    notion(sandbox).data_sources.update(data_source_id=services_ds(sandbox), properties={"ExternalCustomerID": spec})
    sandbox.admin.clear_requests()

    line = refused(sandbox, config, plan_file)

    assert line.startswith("Error: "), line
    assert "ExternalCustomerID" in line
