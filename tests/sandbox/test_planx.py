"""The PlanX GraphQL stand-in: Hasura semantics over a snapshot, and Hasura's error envelope."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from notion_sandbox.planx import PlanxGraphQL, bundled_snapshot, synthetic_snapshot
from tests.support.fidelity import SHARED as SHARED_DIR

SHARED = SHARED_DIR / "planx"

RECOMMENDED = """query GetOnlineServicesPerTeam {
  teams(order_by: {slug: asc}) {
    slug
    name
    flows(where: {status: {_eq: online}}, order_by: {name: asc}) { name slug }
  }
}"""
CRM = """query GetOnlineServicesPerTeam {
  teams(order_by: {slug: asc}) {
    id: slug
    displayName: name
    services: flows_aggregate(where: {status: {_eq: online}}, order_by: {slug: asc}) {
      service: nodes { name id: slug }
    }
  }
}"""
COUNCILS = [
    "barking-and-dagenham", "barnet", "birmingham", "braintree", "bromley", "buckinghamshire",
    "camden", "canterbury", "doncaster", "epsom-and-ewell", "gateshead", "gloucester", "horsham",
    "kingston", "lambeth", "medway", "newcastle", "south-gloucestershire", "southwark",
    "st-albans", "tewkesbury", "west-berkshire",
]  # fmt: skip


@pytest.fixture(scope="module")
def planx() -> PlanxGraphQL:
    return PlanxGraphQL()


def post(planx: PlanxGraphQL, query: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    status, headers, body = planx.handle(json.dumps({"query": query, **extra}).encode())
    assert headers["Content-Type"].startswith("application/json")
    return status, json.loads(body)


def data(planx: PlanxGraphQL, query: str, **extra: Any) -> dict[str, Any]:
    status, payload = post(planx, query, **extra)
    assert status == 200 and "errors" not in payload, payload
    return payload["data"]


def error(planx: PlanxGraphQL, query: str, **extra: Any) -> dict[str, Any]:
    status, payload = post(planx, query, **extra)
    assert status == 200
    assert "data" not in payload
    assert len(payload["errors"]) == 1
    return payload["errors"][0]


def slugs(rows: list[dict[str, Any]]) -> list[str]:
    return [row["slug"] for row in rows]


# ---------------------------------------------------------------- the two FACTS queries


def test_recommended_query_matches_the_sample_for_its_sixteen_teams(planx: PlanxGraphQL) -> None:
    path = SHARED / "sample-response.json"
    if not path.exists():
        pytest.skip(f"reference sample not found at {path}")
    sample = json.loads(path.read_text())["data"]["teams"]
    teams = data(planx, RECOMMENDED)["teams"]
    by_slug = {team["slug"]: team for team in teams}
    assert [by_slug[team["slug"]] for team in sample] == sample
    assert slugs(teams) == sorted(slugs(teams))


def test_recommended_query_lists_every_council_and_the_non_council_teams(
    planx: PlanxGraphQL,
) -> None:
    teams = data(planx, RECOMMENDED)["teams"]
    assert set(COUNCILS) <= set(slugs(teams))
    assert {"templates", "testing", "open-digital-planning"} <= set(slugs(teams))
    doncaster = next(t for t in teams if t["slug"] == "doncaster")
    assert doncaster["flows"][0]["name"] == "apply for prior approval   "


def test_crm_query_answers_aliases_and_aggregate_nodes(planx: PlanxGraphQL) -> None:
    recommended = data(planx, RECOMMENDED)["teams"]
    crm = data(planx, CRM)["teams"]
    assert [t["id"] for t in crm] == slugs(recommended)
    assert [t["displayName"] for t in crm] == [t["name"] for t in recommended]
    for old, new in zip(crm, recommended, strict=True):
        services = old["services"]["service"]
        assert [s["id"] for s in services] == sorted(s["slug"] for s in new["flows"])
        assert set(old["services"]) == {"service"}


# ---------------------------------------------------------------- where


def test_allowlist_with_in_and_a_variable(planx: PlanxGraphQL) -> None:
    query = """query Q($teamSlugs: [String!]) {
      teams(where: {slug: {_in: $teamSlugs}}, order_by: {slug: desc}) { slug } }"""
    result = data(planx, query, variables={"teamSlugs": ["barnet", "lambeth", "nowhere"]})
    assert slugs(result["teams"]) == ["lambeth", "barnet"]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ('{slug: {_eq: "camden"}}', ["camden"]),
        ('{slug: {_nin: ["camden"]}, team_settings: {reference_code: {_is_null: true}}}',
         ["open-digital-planning", "opensystemslab", "planx", "templates", "testing", "wikihouse"]),
        ('{slug: {_like: "south%"}}', ["south-gloucestershire", "southwark"]),
        ('{name: {_ilike: "%NEWCASTLE%"}}', ["newcastle"]),
        ('{slug: {_gte: "t", _lt: "tew"}}', ["templates", "testing"]),
        ('{_or: [{slug: {_eq: "barnet"}}, {name: {_eq: "Medway"}}]}', ["barnet", "medway"]),
        ('{_and: [{slug: {_like: "b%"}}, {_not: {slug: {_like: "br%"}}}]}',
         ["barking-and-dagenham", "barnet", "birmingham", "buckinghamshire"]),
        ('{team_settings: {reference_code: {_in: ["LBH", "SWK"]}}}', ["lambeth", "southwark"]),
        ('{team_settings: {is_trial: {_eq: true}, reference_code: {_is_null: false}}}',
         ["birmingham", "braintree", "gateshead", "horsham"]),
        ('{flows: {slug: {_eq: "apply-for-works-to-trees"}}}', ["southwark"]),
        ('{flows: {status: {_eq: online}, category: {_eq: "notify"}}}',
         ["canterbury", "doncaster", "medway", "st-albans"]),
        ('{flows_aggregate: {count: {predicate: {_gte: 6}, filter: {status: {_eq: online}}}}}',
         ["doncaster", "newcastle"]),
        ("{_not: {flows: {}}}", ["wikihouse"]),
    ],
)  # fmt: skip
def test_team_filters(planx: PlanxGraphQL, where: str, expected: list[str]) -> None:
    result = data(planx, f"{{ teams(where: {where}, order_by: {{slug: asc}}) {{ slug }} }}")
    assert slugs(result["teams"]) == expected


def test_flow_filters_through_the_team_relationship(planx: PlanxGraphQL) -> None:
    query = """{ flows(where: {team: {slug: {_eq: "medway"}}, status: {_eq: online}},
                       order_by: {slug: asc}) { slug team { slug } } }"""
    flows = data(planx, query)["flows"]
    assert slugs(flows) == ["apply-for-land-drainage-consent", "report-a-planning-breach"]
    assert {flow["team"]["slug"] for flow in flows} == {"medway"}


def test_null_columns_follow_sql_three_valued_logic(planx: PlanxGraphQL) -> None:
    everything = data(planx, "{ flows { id category } }")["flows"]
    not_apply = data(planx, '{ flows(where: {_not: {category: {_eq: "apply"}}}) { id } }')["flows"]
    neq_apply = data(planx, '{ flows(where: {category: {_neq: "apply"}}) { id } }')["flows"]
    with_category = [f for f in everything if f["category"] not in (None, "apply")]
    assert any(f["category"] is None for f in everything)
    assert len(not_apply) == len(neq_apply) == len(with_category)


def test_timestamp_comparisons_parse_the_values(planx: PlanxGraphQL) -> None:
    query = """{ flows(where: {created_at: {_lt: "2020-07-01T00:00:00Z"}}, order_by: {created_at: asc})
                 { created_at } }"""
    flows = data(planx, query)["flows"]
    assert flows and all(f["created_at"] < "2020-07-01" for f in flows)


def test_deleted_flows_are_hidden_everywhere(planx: PlanxGraphQL) -> None:
    snapshot = bundled_snapshot()
    deleted = [f for t in snapshot["teams"] for f in t["flows"] if f.get("deleted_at")]
    assert len(deleted) >= 2
    ids = data(planx, "{ flows { id } }")["flows"]
    assert not {f["id"] for f in deleted} & {f["id"] for f in ids}
    by_pk = data(planx, f'{{ flows_by_pk(id: "{deleted[0]["id"]}") {{ slug }} }}')
    assert by_pk == {"flows_by_pk": None}


# ---------------------------------------------------------------- order_by, paging, lookups


def test_order_by_nested_relationship_and_nulls(planx: PlanxGraphQL) -> None:
    query = """{ flows(where: {status: {_eq: online}},
                       order_by: [{team: {slug: desc}}, {name: asc}], limit: 3) { slug team { slug } } }"""
    flows = data(planx, query)["flows"]
    assert [f["team"]["slug"] for f in flows] == ["tewkesbury"] * 3
    nulls = data(planx, "{ flows(order_by: {category: asc_nulls_first}) { category } }")
    values = [f["category"] for f in nulls["flows"]]
    first_value = next(i for i, v in enumerate(values) if v is not None)
    assert first_value > 0 and all(v is None for v in values[:first_value])
    assert values[first_value:] == sorted(values[first_value:])
    default_desc = data(planx, "{ flows(order_by: {category: desc}) { category } }")
    assert default_desc["flows"][0]["category"] is None
    default_asc = data(planx, "{ flows(order_by: {category: asc}) { category } }")
    assert default_asc["flows"][-1]["category"] is None
    computed = error(planx, "{ flows(order_by: {first_online_at: asc}) { slug } }")
    assert computed["message"] == "field 'first_online_at' not found in type: 'flows_order_by'"


def test_order_by_aggregate_count_and_team_settings(planx: PlanxGraphQL) -> None:
    query = "{ teams(order_by: [{flows_aggregate: {count: desc}}, {slug: asc}], limit: 1) { slug } }"
    assert slugs(data(planx, query)["teams"]) == ["newcastle"]
    query = "{ teams(order_by: {team_settings: {reference_code: asc}}, limit: 2) { slug } }"
    assert slugs(data(planx, query)["teams"]) == ["barking-and-dagenham", "birmingham"]


def test_limit_offset_and_distinct_on(planx: PlanxGraphQL) -> None:
    all_teams = slugs(data(planx, "{ teams(order_by: {slug: asc}) { slug } }")["teams"])
    page = data(planx, "{ teams(order_by: {slug: asc}, limit: 3, offset: 2) { slug } }")
    assert slugs(page["teams"]) == all_teams[2:5]
    distinct = data(planx, "{ flows(distinct_on: [slug], order_by: [{slug: asc}, {name: asc}]) { slug } }")["flows"]
    assert slugs(distinct) == sorted(set(slugs(distinct)))
    wrong = error(planx, "{ flows(distinct_on: [slug], order_by: {name: asc}) { slug } }")
    assert wrong["message"] == '"distinct_on" columns must match initial "order_by" columns'


def test_by_pk_aggregate_count_settings_and_typename(planx: PlanxGraphQL) -> None:
    lambeth = next(t for t in bundled_snapshot()["teams"] if t["slug"] == "lambeth")
    query = f"""{{ teams_by_pk(id: {lambeth["id"]}) {{
        __typename slug team_settings {{ reference_code team {{ slug }} }}
        online: flows_aggregate(where: {{status: {{_eq: online}}}}) {{ aggregate {{ count }} }}
        all: flows_aggregate {{ aggregate {{ count categories: count(columns: [category], distinct: true) }} }}
    }} }}"""
    team = data(planx, query)["teams_by_pk"]
    assert team["__typename"] == "teams"
    assert team["team_settings"] == {"reference_code": "LBH", "team": {"slug": "lambeth"}}
    assert team["online"]["aggregate"]["count"] == 4
    visible = [f for f in lambeth["flows"] if not f.get("deleted_at")]
    assert team["all"]["aggregate"]["count"] == len(visible)
    assert team["all"]["aggregate"]["categories"] == len({f["category"] for f in visible} - {None})
    assert data(planx, "{ teams_by_pk(id: 99999) { slug } }") == {"teams_by_pk": None}


def test_fragments_directives_and_operation_name(planx: PlanxGraphQL) -> None:
    query = """
      query A { teams(where: {slug: {_eq: "barnet"}}) { ...T } }
      query B($full: Boolean!) { teams(where: {slug: {_eq: "camden"}}) { slug name @include(if: $full) } }
      fragment T on teams { slug name }"""
    assert data(planx, query, operationName="A") == {"teams": [{"slug": "barnet", "name": "Barnet"}]}
    result = data(planx, query, operationName="B", variables={"full": False})
    assert result == {"teams": [{"slug": "camden"}]}


def test_introspection_is_allowed(planx: PlanxGraphQL) -> None:
    result = data(planx, '{ __type(name: "flow_status_enum_enum") { enumValues { name } } }')
    assert [v["name"] for v in result["__type"]["enumValues"]] == ["offline", "online"]


# ---------------------------------------------------------------- Hasura's errors


@pytest.mark.parametrize(
    ("query", "message", "path"),
    [
        ("{ teams { slug foo } }", "field 'foo' not found in type: 'teams'",
         "$.selectionSet.teams.selectionSet.foo"),
        ("{ teams_aggregate { aggregate { count } } }",
         "field 'teams_aggregate' not found in type: 'query_root'", "$.selectionSet.teams_aggregate"),
        ('{ teams { flows(where: {status: {_eq: "online"}}) { slug } } }',
         'expected an enum value for type "flow_status_enum_enum", but found a string',
         "$.selectionSet.teams.selectionSet.flows.args.where.status._eq"),
        ("{ flows(where: {status: {_eq: live}}) { slug } }",
         "expected one of the values ['offline', 'online'] for type 'flow_status_enum_enum', "
         "but found 'live'", "$.selectionSet.flows.args.where.status._eq"),
        ("{ teams(where: {status: {_eq: online}}) { slug } }",
         "field 'status' not found in type: 'teams_bool_exp'", "$.selectionSet.teams.args.where.status"),
        ("{ teams(colour: 1) { slug } }", "'teams' has no argument named 'colour'",
         "$.selectionSet.teams"),
        ("{ teams { flows } }", 'missing selection set for "flows"',
         "$.selectionSet.teams.selectionSet.flows"),
        ("{ teams(where: {name: {_eq: null}}) { slug } }", 'unexpected null value for type "String"',
         "$.selectionSet.teams.args.where.name._eq"),
        ("{ teams { slug ", "not a valid graphql query", "$.query"),
        ("mutation { delete_teams { affected_rows } }", "no mutations exist", "$"),
        ("query A { teams { slug } } query B { teams { name } }",
         "exactly one operation has to be present in the document when operationName is not "
         "specified", "$"),
    ],
)  # fmt: skip
def test_validation_errors_use_hasuras_envelope(planx: PlanxGraphQL, query: str, message: str, path: str) -> None:
    assert error(planx, query) == {
        "message": message,
        "extensions": {"path": path, "code": "validation-failed"},
    }


def test_enum_variable_errors_point_at_the_use(planx: PlanxGraphQL) -> None:
    query = "query Q($s: flow_status_enum_enum) { flows(where: {status: {_eq: $s}}) { slug } }"
    found = error(planx, query, variables={"s": "live"})
    assert found["extensions"]["path"] == "$.selectionSet.flows.args.where.status._eq"
    assert found["message"].endswith("but found 'live'")


def test_undeclared_variables_are_rejected(planx: PlanxGraphQL) -> None:
    found = error(planx, "{ teams { slug } }", variables={"teamSlugs": ["barnet"]})
    assert found["message"] == "unexpected variables in variableValues: teamSlugs"


def test_bad_uuid_is_a_data_exception(planx: PlanxGraphQL) -> None:
    found = error(planx, '{ flows_by_pk(id: "not-a-uuid") { slug } }')
    assert found["extensions"]["code"] == "data-exception"


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (b"{not json", "invalid-json", "Error in $: Failed reading: not a valid json value"),
        (b"[1]", "parse-failed", "Error in $: expected Object, but encountered Array"),
        (b'{"variables": {}}', "parse-failed", 'Error in $: key "query" not found'),
        (b'{"query": 3}', "parse-failed", "Error in $.query: expected String, but encountered Number"),
    ],
)
def test_unparseable_bodies(planx: PlanxGraphQL, body: bytes, code: str, message: str) -> None:
    status, _, raw = planx.handle(body)
    assert status == 400
    assert json.loads(raw) == {"errors": [{"message": message, "extensions": {"path": "$", "code": code}}]}


# ---------------------------------------------------------------- snapshots


def test_set_snapshot_validates_with_clear_messages() -> None:
    planx = PlanxGraphQL({"teams": []})
    bad = [
        ({"teams": {}}, 'a PlanX snapshot must be an object with a "teams" list'),
        ({"teams": [{"id": 1, "slug": "a"}]}, "teams[0] is missing the required key 'name'"),
        ({"teams": [{"id": 1, "slug": "a", "name": "A", "flows": [
            {"id": "5b8f0c5e-0000-4000-8000-000000000001", "slug": "f", "name": "F",
             "status": "live"}]}]},
         "teams[0].flows[0].status must be one of 'offline', 'online', got 'live'"),
        ({"teams": [{"id": 1, "slug": "a", "name": "A"}, {"id": 2, "slug": "a", "name": "B"}]},
         "teams[1].slug 'a' is used twice; it must be unique"),
        ({"teams": [{"id": 1, "slug": "a", "name": "A", "colour": "red"}]},
         "teams[0] has unknown key 'colour'"),
    ]  # fmt: skip
    for snapshot, message in bad:
        with pytest.raises(ValueError, match=None) as raised:
            planx.set_snapshot(snapshot)
        assert str(raised.value).startswith(message)
    assert planx.get_snapshot() == {"teams": []}


def test_snapshot_round_trips_with_defaults_filled() -> None:
    planx = PlanxGraphQL({"teams": [{"id": 1, "slug": "a", "name": "A"}]})
    team = planx.get_snapshot()["teams"][0]
    assert team["flows"] == [] and team["team_settings"] is None and team["domain"] is None
    planx.set_snapshot(planx.get_snapshot())
    assert planx.get_snapshot()["teams"][0] == team
    assert data(planx, "{ teams { slug team_settings { reference_code } } }") == {
        "teams": [{"slug": "a", "team_settings": None}]
    }


@pytest.mark.slow
def test_large_generated_snapshot_answers_every_team() -> None:
    # How fast this runs is measured by benchmarks/, not asserted here.
    planx = PlanxGraphQL(synthetic_snapshot(12_000))
    teams = data(planx, RECOMMENDED)["teams"]
    assert len(teams) == 12_000
    assert [t["slug"] for t in teams[:2]] == ["council-00001", "council-00002"]
    assert teams[0]["flows"] == [
        {"name": "Service 1", "slug": "service-1"},
        {"name": "Service 2", "slug": "service-2"},
        {"name": "Service 4", "slug": "service-4"},
        {"name": "Service 5", "slug": "service-5"},
    ]


def test_queries_and_snapshot_swaps_can_run_concurrently() -> None:
    planx = PlanxGraphQL()
    small = {"teams": [{"id": 1, "slug": "solo", "name": "Solo"}]}
    full = bundled_snapshot()
    answers: list[int] = []

    def ask() -> None:
        for _ in range(20):
            answers.append(len(data(planx, "{ teams { slug flows { slug } } }")["teams"]))

    def swap() -> None:
        for index in range(20):
            planx.set_snapshot(small if index % 2 else full)

    threads = [threading.Thread(target=ask) for _ in range(3)] + [threading.Thread(target=swap)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 60 and set(answers) <= {1, len(full["teams"])}
