"""The schema as code, pure: declared schemas against live ones → schema changes, refusals and
warnings; the planned schema the pages are planned with; the config's `schema:` checks; the plan
file's round trip and the renderers' lines."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from reconcile.config import load_config_text
from reconcile.errors import ConfigError
from reconcile.model import (
    DeclaredProperty,
    DeclaredSchema,
    MatchKey,
    Plan,
    ResourceConfig,
    SchemaChange,
)
from reconcile.notion.schema_writes import missing_from, schema_request
from reconcile.offline import check_text
from reconcile.plan.schema import plan_schema, planned_schema
from reconcile.planfile import plan_document, plan_from_dict
from reconcile.render.markdown import render_markdown
from reconcile.render.text import render_text

REPO = Path(__file__).resolve().parents[2]
LIVE: dict[str, Any] = {
    "Name": {"id": "title", "type": "title", "title": {}},
    "Count": {"id": "c", "type": "number", "number": {}},
    "Stage": {"id": "s", "type": "select", "select": {"options": [{"id": "1", "name": "Live", "color": "green"}]}},
    "State": {"id": "t", "type": "status", "status": {"options": [{"id": "2", "name": "Done"}]}},
    "Notes": {"id": "n", "type": "rich_text", "rich_text": {}},
    "Mine": {"id": "m", "type": "url", "url": {}},
}


def resource(*props: DeclaredProperty, name: str = "services", **switches: bool) -> ResourceConfig:
    return ResourceConfig(
        name=name,
        database="db",
        data_source=None,
        mode="upsert",
        match=MatchKey(property="Name", expression="slug"),
        schema=DeclaredSchema(properties=props, **switches),
    )


def changes_of(*props: DeclaredProperty, **switches: bool) -> list[tuple[str, str, Any]]:
    planned = plan_schema([resource(*props, **switches)], {"services": ("ds", LIVE)})
    assert not planned.refusals, planned.refusals
    return [(c.change, c.property, c.before or c.options) for c in planned.changes]


def test_what_is_declared_and_already_there_changes_nothing_and_undeclared_properties_are_left_alone() -> None:
    assert changes_of(DeclaredProperty("Name", "title"), DeclaredProperty("Count", "number")) == []


def test_absent_properties_are_added_with_their_options() -> None:
    assert changes_of(DeclaredProperty("Tier", "select", options=("Gold",)), DeclaredProperty("When", "date")) == [
        ("add", "Tier", ("Gold",)),
        ("add", "When", ()),
    ]


def test_missing_select_options_are_added_and_the_live_ones_sent_again() -> None:
    planned = plan_schema(
        [resource(DeclaredProperty("Stage", "select", options=("Live", "Beta")))], {"services": ("ds", LIVE)}
    )
    (change,) = planned.changes
    assert (change.change, change.options, change.kept_options) == ("add_options", ("Beta",), ("Live",))
    assert schema_request(planned.changes) == {"Stage": {"select": {"options": [{"name": "Live"}, {"name": "Beta"}]}}}


def test_status_options_cannot_be_added_through_the_api_so_they_are_a_warning() -> None:
    planned = plan_schema(
        [resource(DeclaredProperty("State", "status", options=("Done", "Blocked")))], {"services": ("ds", LIVE)}
    )
    assert planned.changes == [] and [w.code for w in planned.warnings] == ["status_options_missing"]
    assert "Blocked" in planned.warnings[0].message


def test_a_rename_moves_the_live_property_and_a_done_rename_is_nothing() -> None:
    assert changes_of(DeclaredProperty("Summary", "rich_text", renamed_from="Notes")) == [
        ("rename", "Summary", "Notes")
    ]
    assert changes_of(DeclaredProperty("Notes", "rich_text", renamed_from="Old")) == []
    renamed = planned_schema(LIVE, [SchemaChange("rename", "services", "ds", "Summary", "rich_text", before="Notes")])
    assert "Summary" in renamed and "Notes" not in renamed and renamed["Summary"]["id"] == "n"
    assert schema_request([SchemaChange("rename", "services", "ds", "Summary", "rich_text", before="Notes")]) == {
        "Notes": {"name": "Summary"}
    }


@pytest.mark.parametrize(
    ("declared", "switch", "line"),
    [
        (
            DeclaredProperty("Count", "rich_text"),
            "allow_type_changes",
            "services: property 'Count' is a number in Notion, the schema declares rich_text (number → rich_text)",
        ),
        (
            DeclaredProperty("Notes", "", remove=True),
            "allow_removals",
            "services: property 'Notes' is declared remove: true (rich_text → removed)",
        ),
    ],
)
def test_type_changes_and_removals_are_refused_unless_allowed(
    declared: DeclaredProperty, switch: str, line: str
) -> None:
    refused = plan_schema([resource(declared)], {"services": ("ds", LIVE)})
    assert refused.changes == [] and len(refused.refusals) == 1
    assert refused.refusals[0].startswith(line) and switch in refused.refusals[0]
    allowed = plan_schema([resource(declared, **{switch: True})], {"services": ("ds", LIVE)})
    assert allowed.refusals == [] and [c.change for c in allowed.changes] == [
        "retype" if switch == "allow_type_changes" else "remove"
    ]


def test_a_removal_of_an_absent_property_is_nothing() -> None:
    assert changes_of(DeclaredProperty("Gone", "", remove=True)) == []


def test_relations_point_at_the_target_data_source_with_distinct_other_sides() -> None:
    councils = ResourceConfig("councils", "db2", None, "update-only", MatchKey("Name", "slug"))
    first = resource(
        DeclaredProperty("Councils", "relation", relation="councils"),
        DeclaredProperty("Also", "relation", relation="councils"),
        DeclaredProperty("One way", "relation", relation="councils", two_way=False),
    )
    live = {"services": ("ds", LIVE), "councils": ("ds2", {"Services": {"type": "title"}})}
    planned = plan_schema([first, councils], live, {"ds": "Services"})
    sides = [(c.property, c.relation_data_source_id, c.two_way, c.synced_property) for c in planned.changes]
    assert sides == [
        ("Councils", "ds2", True, "Services (Councils)"),  # "Services" is taken on the target
        ("Also", "ds2", True, "Services (Also)"),
        ("One way", "ds2", False, None),
    ]
    body = schema_request(planned.changes)
    assert body["Councils"] == {
        "relation": {
            "data_source_id": "ds2",
            "type": "dual_property",
            "dual_property": {"synced_property_name": "Services (Councils)"},
        }
    }
    assert body["One way"] == {"relation": {"data_source_id": "ds2", "type": "single_property", "single_property": {}}}


def test_two_resources_on_one_data_source_make_one_change_or_are_refused_when_they_disagree() -> None:
    a = resource(DeclaredProperty("Tier", "select", options=("Gold",)), name="a")
    b = resource(DeclaredProperty("Tier", "select", options=("Silver",)), name="b")
    planned = plan_schema([a, b], {"a": ("ds", LIVE), "b": ("ds", LIVE)})
    assert [(c.change, c.options) for c in planned.changes] == [("add", ("Gold", "Silver"))]
    c = resource(DeclaredProperty("Tier", "number"), name="c")
    assert (
        "declares select (select → number)" in plan_schema([a, c], {"a": ("ds", LIVE), "c": ("ds", LIVE)}).refusals[0]
    )


def test_what_notion_answers_is_checked_change_by_change() -> None:
    change = SchemaChange("add", "services", "ds", "Tier", "select", options=("Gold",))
    assert missing_from({}, [change]) == ["add 'Tier' (select)"]
    assert missing_from({"Tier": {"type": "select", "select": {"options": []}}}, [change]) == ["options Gold of 'Tier'"]
    assert missing_from({"Tier": {"type": "select", "select": {"options": [{"name": "Gold"}]}}}, [change]) == []


def test_a_plan_with_schema_changes_round_trips_and_shows_them_first() -> None:
    change = SchemaChange(
        "add", "services", "ds", "Councils", "relation", relation_resource="councils", relation_data_source_id="ds2",
        synced_property="Services",
    )  # fmt: skip
    plan = Plan(
        created_at="2026-12-01T00:00:00.000Z",
        config_digest="0" * 64,
        jobs=("j",),
        resources=(),
        actions=(),
        schema_changes=(change,),
    )
    document = plan_document(plan)
    assert plan_from_dict(document).schema_changes == (change,)
    text = render_text(document, color=False)
    assert '+ add property services "Councils" (relation → councils, two-way: "Services" on the other side)' in text
    assert text.rstrip().endswith(
        "Plan: 1 schema change, 0 to create, 0 to update, 0 to archive, 0 to restore, 0 to touch."
    )
    assert "### Schema changes" in render_markdown(document)
    assert "schema_changes" not in plan_document(Plan("2026-12-01T00:00:00.000Z", "0" * 64, ("j",), (), ()))


SCHEMA_YAML = """
        schema:
          properties:
            Name: title
            Stage: {type: select, options: [Live]}
            Summary: {type: rich_text, renamed_from: Description}
            Councils: {type: relation, relation: councils, two_way: false}
            Legacy: {remove: true}
          allow_removals: true
"""


def with_schema(block: str) -> str:
    text = (REPO / "mappings.yaml").read_text(encoding="utf-8")
    # the shipped services schema (the page body's hash property) gives way to the one under test
    text = re.sub(r"\n        schema:\n(          .*\n|            .*\n)+", "\n", text, count=1)
    anchor = "        on_missing: archive\n"
    assert anchor in text
    return text.replace(anchor, anchor + block.lstrip("\n"), 1)


ENV = {
    "SERVICES_DB_ID": "5e541ce5-0000-4000-8000-000000000001",
    "COUNCILS_DB_ID": "c0c11c00-0000-4000-8000-000000000001",
}


def test_the_config_reads_a_declared_schema_and_offline_validation_accepts_it() -> None:
    text = with_schema(SCHEMA_YAML)
    config = load_config_text(text, ENV, path="m.yaml")
    schema = config.jobs[0].resource("services").schema
    assert schema is not None and schema.allow_removals and not schema.allow_type_changes
    assert [(p.name, p.type) for p in schema.properties][:2] == [("Name", "title"), ("Stage", "select")]
    assert schema.properties[3].relation == "councils" and not schema.properties[3].two_way
    assert schema.properties[4].remove
    assert [p for p in check_text(text, "m.yaml") if p.severity == "error"] == []


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            "        schema:\n          properties:\n            X: {type: relation, relation: nowhere}\n",
            "a relation needs the resource",
        ),
        (
            "        schema:\n          properties:\n            X: {type: number, options: [a]}\n",
            "a number property has no options",
        ),
        (
            "        schema:\n          properties:\n            X: {type: rich_text, renamed_from: X}\n",
            "not renamed from its own name",
        ),
        ("        schema:\n          properties:\n            A: title\n            B: title\n", "one title property"),
    ],
)
def test_a_bad_declaration_is_one_line(block: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        load_config_text(with_schema(block), ENV, path="m.yaml")
    assert "\n" not in str(error.value)


def test_the_csv_lists_schema_changes_before_the_page_rows() -> None:
    from reconcile.csvout import plan_rows
    from reconcile.model import ApplyResult

    change = SchemaChange("add", "services", "ds", "Tier", "select", options=("Gold",))
    plan = Plan("2026-12-01T00:00:00.000Z", "0" * 64, ("j",), (), (), schema_changes=(change,))
    (row,) = plan_rows(plan, {"services": "j"})
    assert (row["job"], row["action"], row["changed_properties"], row["status"]) == (
        "j",
        "schema_add",
        "Tier",
        "planned",
    )
    assert plan_rows(plan, {"services": "j"}, ApplyResult())[0]["status"] == "ok"
