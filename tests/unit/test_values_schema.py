"""check_schema: managed properties against a live data source schema (reconcile.notion.schema)."""

from __future__ import annotations

from typing import Any

import pytest

from reconcile.errors import SchemaMismatchError
from reconcile.model import MatchKey, OnMissing, PropertyMapping, ResourceConfig, TouchRule
from reconcile.notion.schema import check_schema

COUNCILS_DS = "c0c11c00-0000-4000-8000-000000000002"
SERVICES_DS = "5e541ce5-0000-4000-8000-000000000002"


def prop(prop_type: str, **config: Any) -> dict[str, Any]:
    return {"id": prop_type[:4], "type": prop_type, prop_type: config}


SERVICES_SCHEMA = {
    "Name": prop("title"),
    "Description": prop("rich_text"),
    "Service Count": prop("number"),
    "ExternalCustomerID": prop("rich_text"),
    "Councils": prop("relation", data_source_id=COUNCILS_DS, type="dual_property"),
    "Active": prop("checkbox"),
    "Last Seen": prop("date"),
    "Updated": prop("last_edited_time"),
    "Score": prop("formula", expression="1"),
    "Owner": prop("people"),
    "Stage": prop("status"),
    "Code": prop("unique_id"),
}


def services(**changes: Any) -> ResourceConfig:
    base: dict[str, Any] = {
        "name": "services",
        "database": "5e541ce5-0000-4000-8000-000000000001",
        "data_source": None,
        "mode": "upsert",
        "match": MatchKey("ExternalCustomerID", "slug"),
        "properties": (
            PropertyMapping("Name", "name"),
            PropertyMapping("Description", "d"),
            PropertyMapping("Service Count", "length(flows)"),
            PropertyMapping("Councils", "slug", relation="councils"),
        ),
    }
    return ResourceConfig(**{**base, **changes})


RELATED = {"councils": COUNCILS_DS, "services": SERVICES_DS}


def test_the_planx_services_resource_fits() -> None:
    assert check_schema(services(), SERVICES_SCHEMA, related_data_sources=RELATED) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"properties": (PropertyMapping("Colour", "c"),)},
            "services: property 'Colour' not found in data source 'services'; it has: Active, "
            "Code, Councils, Description, ExternalCustomerID, Last Seen, Name, Owner, Score, "
            "Service Count, Stage, Updated",
        ),
        ({"match": MatchKey("Active", "slug")}, "property 'Active' is a checkbox; a match key"),
        ({"match": MatchKey("Councils", "slug")}, "property 'Councils' is a relation; a match key"),
        (
            {"properties": (PropertyMapping("Updated", "x"),)},
            "property 'Updated' is a last_edited_time, which Notion computes",
        ),
        (
            {"properties": (PropertyMapping("Score", "x"),)},
            "property 'Score' is a formula, which Notion computes",
        ),
        (
            {"properties": (PropertyMapping("Owner", "x", new_options="create"),)},
            "property 'Owner' is a people; new_options applies only to select, multi_select and status",
        ),
        (
            {"properties": (PropertyMapping("Description", "x", new_options="refuse"),)},
            "property 'Description' is a rich_text; new_options applies only to select, multi_select and status",
        ),
        (
            {"properties": (PropertyMapping("Stage", "x", new_options="create"),)},
            "property 'Stage' is a status, and Notion's API cannot add status options (not by writing a page, "
            "not by updating the data source): set new_options: refuse (the default)",
        ),
        (
            {"properties": (PropertyMapping("Description", "x", time_zone="Europe/London"),)},
            "property 'Description' is a rich_text; time_zone applies only to a date",
        ),
        (
            {"match": MatchKey("Code", "code")},
            "property 'Code' is a unique_id, which Notion computes: a resource matched on it cannot create "
            "pages (the key cannot be written); set mode: update-only",
        ),
        (
            {"properties": (PropertyMapping("Code", "x"),)},
            "property 'Code' is a unique_id, which Notion computes; it cannot be written: remove it from properties",
        ),
        (
            {"touch": (TouchRule("Active", "councils"),)},
            "property 'Active' is a checkbox; a touch property must be a date",
        ),
        (
            {"properties": (PropertyMapping("Name", "x", relation="councils"),)},
            "property 'Name' is a title; a relation mapping needs a relation property",
        ),
        (
            {"properties": (PropertyMapping("Councils", "x"),)},
            "property 'Councils' is a relation; map it with relation: <resource>",
        ),
        (
            {"properties": (PropertyMapping("Councils", "x", relation="services"),)},
            f"relates to data source {COUNCILS_DS}, not to 'services' ({SERVICES_DS})",
        ),
        (
            {"on_missing": OnMissing("mark", (PropertyMapping("Updated", "run.now"),))},
            "property 'Updated' is a last_edited_time",
        ),
        (
            {"on_missing": OnMissing("mark", (PropertyMapping("Gone", "run.now"),))},
            "property 'Gone' not found",
        ),
    ],
)
def test_errors_name_the_property_and_the_fix(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(SchemaMismatchError) as caught:
        check_schema(services(**changes), SERVICES_SCHEMA, related_data_sources=RELATED)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    resource = services(
        properties=(PropertyMapping("A", "a"), PropertyMapping("B", "b")),
        touch=(TouchRule("Active", "councils"),),
    )
    with pytest.raises(SchemaMismatchError) as caught:
        check_schema(resource, SERVICES_SCHEMA)
    assert len(caught.value.problems) == 3  # type: ignore[attr-defined]


def test_missing_optional_mapping_is_a_warning() -> None:
    resource = services(properties=(PropertyMapping("Region", "r", optional=True),))
    [warning] = check_schema(resource, SERVICES_SCHEMA, data_source_name="PlanX Live Services")
    assert warning.severity == "warning"
    assert warning.code == "optional_property_missing"
    assert "'Region' not found in data source 'PlanX Live Services'" in warning.message


def test_councils_touch_and_mark() -> None:
    councils = ResourceConfig(
        name="Councils",
        database="c0c11c00-0000-4000-8000-000000000001",
        data_source=None,
        mode="update-only",
        match=MatchKey("ExternalCustomerID", "slug"),
        touch=(TouchRule("Integration Last Updated", "services"),),
    )
    schema = {"Name": prop("title"), "ExternalCustomerID": prop("rich_text")}
    with pytest.raises(
        SchemaMismatchError,
        match=r"Councils: property 'Integration Last Updated' "
        r"not found in data source 'Councils'; it has: ExternalCustomerID, Name",
    ):
        check_schema(councils, schema)
    schema["Integration Last Updated"] = prop("date")
    assert check_schema(councils, schema) == []


def test_read_only_use_checks_existence_and_match_type_only() -> None:
    resource = services(properties=(PropertyMapping("Score", "x"),))
    assert check_schema(resource, SERVICES_SCHEMA, writable=False) == []
    with pytest.raises(SchemaMismatchError, match="a match key"):
        check_schema(services(match=MatchKey("Owner", "x")), SERVICES_SCHEMA, writable=False)


def test_an_update_only_resource_may_match_on_a_computed_key_and_map_people_files_and_options() -> None:
    resource = services(
        mode="update-only",
        match=MatchKey("Code", "code"),
        properties=(
            PropertyMapping("Owner", "email"),
            PropertyMapping("Stage", "stage", new_options="refuse"),
        ),
        on_missing=OnMissing("ignore"),
        touch=(),
    )
    assert check_schema(resource, SERVICES_SCHEMA, related_data_sources=RELATED) == []
