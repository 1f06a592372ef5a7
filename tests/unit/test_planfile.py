"""The plan's JSON form: round trips, the schema, and one-line errors for files that do not fit."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from reconcile.desired import build_desired
from reconcile.errors import PlanFileError
from reconcile.model import (
    ACTION_KINDS,
    Action,
    ActualState,
    Diagnostic,
    Job,
    MatchKey,
    OnMissing,
    PageState,
    Plan,
    PropertyChange,
    PropertyMapping,
    ResourceConfig,
    ResourceInfo,
    ResourceState,
    SourceConfig,
    TouchRule,
)
from reconcile.plan import JobInput, compute_plan
from reconcile.planfile import (
    content_digest,
    plan_document,
    plan_from_dict,
    plan_to_dict,
    read_plan,
    schema_path,
    write_plan,
)

REPO = Path(__file__).resolve().parents[2]

# ── generated plans ──────────────────────────────────────────────────────────────────────────────

names = st.text(min_size=1, max_size=12)
optional_text = st.none() | st.text(max_size=20)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=200),
)
values = scalars | st.lists(st.text(max_size=40), max_size=4).map(tuple)
timestamps = st.datetimes(timezones=st.just(UTC)).map(
    lambda d: d.isoformat(timespec="milliseconds").replace("+00:00", "Z")
)

changes = st.builds(
    PropertyChange, name=names, type=st.sampled_from(["title", "number", "relation"]), before=values, after=values
)
actions = st.builds(
    Action,
    action=st.sampled_from(ACTION_KINDS),
    resource=names,
    key=st.text(max_size=20),
    page_id=optional_text,
    url=optional_text,
    changes=st.lists(changes, max_size=4).map(tuple),
    reason=st.text(max_size=60),
    digest=optional_text,
)
diagnostics = st.builds(
    Diagnostic,
    severity=st.sampled_from(["warning", "error"]),
    code=names,
    message=st.text(max_size=60),
    resource=st.none() | names,
    key=optional_text,
    urls=st.lists(st.text(max_size=30), max_size=3).map(tuple),
)
counts = st.integers(min_value=0, max_value=10_000)
infos = st.builds(
    ResourceInfo,
    name=names,
    database_id=names,
    data_source_id=names,
    match_property=names,
    match_type=st.sampled_from(["title", "rich_text", "number"]),
    managed=counts,
    unchanged=counts,
    mode=st.sampled_from(["upsert", "update-only", "create-only"]),
)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    """A plan whose every action names one of its resources (as every readable plan does)."""
    resources = tuple(draw(st.lists(infos, max_size=3)))
    if resources:
        on_resources = actions.flatmap(
            lambda a: st.sampled_from([r.name for r in resources]).map(lambda name: replace(a, resource=name))
        )
        planned = tuple(draw(st.lists(on_resources, max_size=6)))
    else:
        planned = ()
    return Plan(
        created_at=draw(timestamps),
        config_digest=draw(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)),
        jobs=tuple(draw(st.lists(names, max_size=3))),
        resources=resources,
        actions=planned,
        diagnostics=tuple(draw(st.lists(diagnostics, max_size=3))),
        record_counts=draw(st.dictionaries(names, counts, max_size=3)),
        guard_overrides=tuple(draw(st.lists(st.text(max_size=40), max_size=2))),
    )


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(plan=plans())
def test_plan_round_trips_through_its_json_form(plan: Plan) -> None:
    assert plan_from_dict(plan_document(plan)) == plan


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(plan=plans())
def test_generated_plans_fit_the_schema_and_survive_json_text(plan: Plan) -> None:
    data = plan_document(plan)
    Draft202012Validator(schema()).validate(data)
    assert plan_from_dict(json.loads(json.dumps(data))) == plan


def schema() -> dict[str, Any]:
    return json.loads(schema_path().read_text(encoding="utf-8"))


def test_schema_is_a_valid_2020_12_schema_in_the_repository() -> None:
    assert schema_path() == REPO / "schemas" / "plan.schema.json"
    Draft202012Validator.check_schema(schema())
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


# ── the form itself ──────────────────────────────────────────────────────────────────────────────


def sample_plan() -> Plan:
    return Plan(
        created_at="2026-11-27T03:00:00.000Z",
        config_digest="ab" * 32,
        jobs=("planx",),
        resources=(
            ResourceInfo("services", "db-s", "ds-s", "ExternalCustomerID", "rich_text", 4, 2, "upsert"),
            ResourceInfo("councils", "db-c", "ds-c", "ExternalCustomerID", "rich_text", 5, 4, "update-only"),
        ),
        actions=(
            Action(
                "create",
                "services",
                "barnet",
                None,
                None,
                (PropertyChange("Councils", "relation", None, ("c-1", "c-2")),),
                "ExternalCustomerID 'barnet' is in the source and has no page",
            ),
            Action(
                "update",
                "services",
                "camden",
                "p-2",
                "https://n/p2",
                (PropertyChange("Service Count", "number", 3, 4),),
                "differs",
                "d2",
            ),
            Action("archive", "services", "hackney", "p-3", "https://n/p3", (), "gone", "d3"),
            Action(
                "touch",
                "councils",
                "barnet",
                "c-1",
                "https://n/c1",
                (PropertyChange("Integration Last Updated", "date", None, "2026-11-27T03:00:00.000Z"),),
                "services 'barnet' was created",
                "d4",
            ),
        ),
        diagnostics=(
            Diagnostic("warning", "relation_target_missing", "unlinked", "services", "lambeth", ("https://n/x",)),
        ),
        record_counts={"planx": 3},
        guard_overrides=("job planx: too many archives",),
    )


def test_json_form_has_the_documented_keys_in_order_and_a_summary() -> None:
    data = plan_to_dict(sample_plan())
    assert list(data) == [
        "format_version",
        "created_at",
        "config_digest",
        "jobs",
        "summary",
        "resources",
        "actions",
        "diagnostics",
        "record_counts",
        "guard_overrides",
        "labels",
    ]
    assert data["format_version"] == 2
    assert list(plan_document(sample_plan())) == [*data, "digest"]
    assert plan_document(sample_plan())["digest"] == content_digest(data)
    assert data["resources"][0] == {
        "name": "services",
        "database_id": "db-s",
        "data_source_id": "ds-s",
        "match_property": "ExternalCustomerID",
        "match_type": "rich_text",
        "managed": 4,
        "unchanged": 2,
        "mode": "upsert",
    }
    assert data["summary"] == {
        "create": 1,
        "update": 1,
        "archive": 1,
        "restore": 0,
        "touch": 1,
        "heal": 0,
        "unchanged": 6,
    }
    assert list(data["actions"][0]) == ["action", "resource", "key", "page_id", "url", "reason", "digest", "changes"]
    assert data["actions"][0]["changes"] == [
        {"name": "Councils", "type": "relation", "before": None, "after": ["c-1", "c-2"]}
    ]
    assert data["diagnostics"][0]["urls"] == ["https://n/x"]
    Draft202012Validator(schema()).validate(plan_document(sample_plan()))


def test_relation_values_come_back_as_tuples() -> None:
    plan = plan_from_dict(plan_document(sample_plan()))
    assert plan.actions[0].changes[0].after == ("c-1", "c-2")
    assert plan == sample_plan()


# ── one-line errors ──────────────────────────────────────────────────────────────────────────────


def broken(edit: Any) -> dict[str, Any]:
    """The sample plan's form edited, and its digest made to fit again (as a script editing a plan
    would), so that the check under test is the one that speaks."""
    data = plan_document(sample_plan())
    edit(data)
    data["digest"] = content_digest(data)
    return data


def test_any_edit_after_the_plan_was_written_is_refused() -> None:
    data = plan_document(sample_plan())
    data["actions"][0]["reason"] = "edited by hand"
    with pytest.raises(PlanFileError) as info:
        plan_from_dict(data)
    assert str(info.value) == (
        "the plan file was changed after `reconcile plan` wrote it "
        "(make the plan again with reconcile plan -o FILE, and apply that file unchanged)"
    )


def test_a_stamp_may_depend_only_on_earlier_writes() -> None:
    def later(d: dict[str, Any]) -> None:
        d["actions"][0]["changes"][0]["depends_on"] = [2]

    with pytest.raises(PlanFileError, match=r"at actions\[0\].changes\[0\].depends_on: 2 is not an earlier action"):
        plan_from_dict(broken(later))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["actions"][1].update(action="delete"),
            "not a valid plan: at actions[1].action: 'delete' is not one of",
        ),
        (
            lambda d: d["actions"][0]["changes"][0].pop("type"),
            "not a valid plan: at actions[0].changes[0]: 'type' is a required property",
        ),
        (
            lambda d: d["actions"][1]["changes"][0].update(after={"x": 1}),
            "not a valid plan: at actions[1].changes[0].after:",
        ),
        (
            lambda d: d["resources"][0].update(managed=-1),
            "not a valid plan: at resources[0].managed: -1 is less than the minimum of 0",
        ),
        (
            lambda d: d.update(extra=1),
            "not a valid plan: at top level: Additional properties are not allowed ('extra' was unexpected)",
        ),
        (
            lambda d: d["record_counts"].update({"odd job": "3"}),
            "not a valid plan: at record_counts[\"odd job\"]: '3' is not of type 'integer'",
        ),
        (lambda d: d["summary"].update(archive=0), "not a consistent plan: at summary.archive: says 0, the plan has 1"),
        (
            lambda d: d["summary"].update(unchanged=0),
            "not a consistent plan: at summary.unchanged: says 0, the plan has 6",
        ),
    ],
)
def test_invalid_plans_name_the_path_of_the_problem(edit: Any, message: str) -> None:
    with pytest.raises(PlanFileError) as info:
        plan_from_dict(broken(edit))
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("version", "shown"), [(1, "1"), (3, "3"), (None, "null"), ("2", '"2"')])
def test_wrong_format_version_is_refused_before_the_schema(version: Any, shown: str) -> None:
    data = broken(lambda d: d.update(format_version=version))
    with pytest.raises(PlanFileError, match=f"plan format_version {shown} is not supported .this reconcile reads 2."):
        plan_from_dict(data)


def test_a_version_1_file_is_refused_with_one_line(tmp_path: Path) -> None:
    """A plan saved by the previous reconcile: its resources lack the match property, and its
    touches were listed last although apply ran them first. It is made again, never guessed at."""
    data = plan_document(sample_plan())
    for r in data["resources"]:
        del r["match_property"], r["match_type"]
    path = tmp_path / "old.plan.json"
    path.write_text(json.dumps({**data, "format_version": 1}), encoding="utf-8")
    with pytest.raises(PlanFileError) as info:
        read_plan(path)
    assert str(info.value) == (
        f"{path}: plan format_version 1 is not supported (this reconcile reads 2) "
        "(make the plan again with this version of reconcile)"
    )


def test_an_action_on_a_resource_the_plan_does_not_list_is_refused() -> None:
    with pytest.raises(PlanFileError, match=r"at actions\[3\].resource: 'parishes' is not one of the plan's resources"):
        plan_from_dict(broken(lambda d: d["actions"][3].update(resource="parishes")))


def test_a_non_object_is_not_a_plan() -> None:
    with pytest.raises(PlanFileError, match="the top level is not a JSON object"):
        plan_from_dict([1, 2])


# ── files ────────────────────────────────────────────────────────────────────────────────────────


def test_write_then_read_gives_the_same_plan_and_stable_bytes(tmp_path: Path) -> None:
    path = tmp_path / "planx.plan.json"
    write_plan(sample_plan(), path)
    first = path.read_bytes()
    assert read_plan(path) == sample_plan()
    write_plan(read_plan(path), path)
    assert path.read_bytes() == first
    assert first.endswith(b"}\n")
    assert [p.name for p in tmp_path.iterdir()] == ["planx.plan.json"]  # no temporary left behind


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a plan file (invalid JSON at line 1 column 1: Expecting value)"),
        (b'{"format_version": 1,', "not a plan file (invalid JSON at line 1 column 22"),
        (b"\xff\xfe\x00garbage", "not a plan file (not UTF-8 text)"),
        (b'{"format_version": NaN}', "not a plan file (NaN is not JSON)"),
        (b'{"format_version": 7}', "plan format_version 7 is not supported"),
        (b'{"format_version": 2}', "not a valid plan: at top level: 'created_at' is a required property"),
    ],
)
def test_corrupt_files_give_one_line_naming_the_file(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(PlanFileError) as info:
        read_plan(path)
    assert str(info.value).startswith(f"{path}: {message}")
    assert "\n" not in str(info.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError, match=r"nope.json: no such plan file \(make one with reconcile plan -o FILE\)"):
        read_plan(tmp_path / "nope.json")
    with pytest.raises(PlanFileError, match="cannot read the plan: Is a directory"):
        read_plan(tmp_path)


def test_unwritable_destination_is_a_plan_file_error(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError, match="cannot write the plan"):
        write_plan(sample_plan(), tmp_path / "no-such-dir" / "plan.json")


# ── a plan made by the planner ───────────────────────────────────────────────────────────────────


def planner_plan() -> Plan:
    """A real compute_plan result with every action kind, a relation and a warning."""
    services = ResourceConfig(
        name="services",
        database="db-s",
        data_source=None,
        mode="upsert",
        match=MatchKey("ExternalCustomerID", "slug"),
        properties=(
            PropertyMapping("Name", "name"),
            PropertyMapping("Description", "join('\n', flows)"),
            PropertyMapping("Service Count", "length(flows)"),
            PropertyMapping("Councils", relation="councils"),
        ),
    )
    councils = ResourceConfig(
        name="councils",
        database="db-c",
        data_source=None,
        mode="update-only",
        match=MatchKey("ExternalCustomerID", "slug"),
        touch=(TouchRule("Integration Last Updated", "services"),),
        on_missing=OnMissing("ignore"),
    )
    source = SourceConfig(kind="graphql", endpoint="http://x", records="teams", key="slug")
    job = Job("planx", source, (services, councils))
    records = [
        {"slug": s, "name": s.title(), "flows": [f"Apply {i}" for i in range(n)]}
        for s, n in (("barnet", 3), ("camden", 1), ("lambeth", 2))
    ]
    s_schema = {"Name": "title", "Description": "rich_text", "Service Count": "number", "Councils": "relation"}
    s_schema["ExternalCustomerID"] = "rich_text"
    c_schema = {"ExternalCustomerID": "rich_text", "Integration Last Updated": "date"}

    def page(name: str, key: str, values: dict[str, Any], trash: bool = False) -> PageState:
        return PageState(uid(name), f"https://www.notion.so/{name}", key, key, values, in_trash=trash)

    lambeth = {"Name": "Lambeth", "Description": "Apply 0", "Service Count": 1, "Councils": (uid("c-lambeth"),)}
    hackney = {"Councils": (uid("c-hackney"),)}
    state = ActualState(
        resources={
            "services": ResourceState(
                "services",
                "db-s",
                "ds-s",
                s_schema,
                (
                    replace(
                        page("s-lambeth", "lambeth", lambeth), created_by="bot", created_time="2026-11-26T03:00:00.000Z"
                    ),
                    replace(
                        page("s-lambeth-2", "lambeth", lambeth),
                        created_by="bot",
                        created_time="2026-11-26T03:01:00.000Z",
                    ),
                    page("s-hackney", "hackney", hackney),
                ),
                (page("s-camden", "camden", {"Name": "Camden"}, trash=True),),
            ),
            "councils": ResourceState(
                "councils",
                "db-c",
                "ds-c",
                c_schema,
                tuple(page(f"c-{k}", k, {"ExternalCustomerID": k}) for k in ("camden", "lambeth", "hackney")),
            ),
        },
        bot_user_id="bot",  # the lambeth pages were both made by this integration: one is healed
    )
    inputs = [JobInput(job, build_desired(job, records), state)]
    return compute_plan(inputs, now=datetime(2026, 11, 27, 3, tzinfo=UTC), config_digest="ab" * 32)


def uid(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def test_a_plan_from_the_planner_fits_the_schema_and_round_trips(tmp_path: Path) -> None:
    plan = planner_plan()
    assert {a.action for a in plan.actions} == set(ACTION_KINDS)
    assert plan.diagnostics  # barnet has no councils page
    data = plan_document(plan)
    Draft202012Validator(schema()).validate(data)
    write_plan(plan, tmp_path / "p.json")
    assert read_plan(tmp_path / "p.json") == plan
