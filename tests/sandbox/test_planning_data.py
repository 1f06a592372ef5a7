"""The Planning Data `GET /entity.json` stand-in, checked against FACTS.md §1–§4."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from notion_sandbox.planning_data import PlanningData, bundled_data, make_links

BASE = "https://www.planning.data.gov.uk/entity.json"


@pytest.fixture(scope="module")
def pd() -> PlanningData:
    return PlanningData(today=lambda: date(2026, 3, 1))


def get(pd: PlanningData, query: str) -> tuple[int, Any]:
    status, headers, body = pd.handle(query, BASE)
    if headers["Content-Type"].startswith("application/json"):
        return status, json.loads(body)
    return status, body.decode()


def ok(pd: PlanningData, query: str) -> dict[str, Any]:
    status, payload = get(pd, query)
    assert status == 200, payload
    return payload


def detail(pd: PlanningData, query: str) -> list[dict[str, Any]]:
    status, payload = get(pd, query)
    assert status == 422
    return payload["detail"]


# ---------------------------------------------------------------- shape


def test_body_is_compact_with_entities_links_count_in_order(pd: PlanningData) -> None:
    _, headers, body = pd.handle("dataset=local-authority&reference=SWK", BASE)
    assert headers["Content-Type"] == "application/json"
    assert body.startswith(b'{"entities":[{"entry-date":')
    assert b", " not in body.split(b'"name"')[0] and b'": ' not in body
    assert list(json.loads(body)) == ["entities", "links", "count"]


def test_default_fields_model_order_and_nulls_as_empty_strings(pd: PlanningData) -> None:
    entity = ok(pd, "dataset=local-authority&reference=SWK")["entities"][0]
    assert list(entity)[:13] == [
        "entry-date", "start-date", "end-date", "entity", "name", "dataset", "typology",
        "reference", "prefix", "organisation-entity", "geometry", "point", "quality",
    ]  # fmt: skip
    assert entity["entity"] == 329 and entity["organisation-entity"] == 329
    assert entity["name"] == "London Borough of Southwark"
    assert entity["end-date"] == "" and entity["geometry"] == ""
    assert entity["statistical-geography"] == "E09000028"


def test_field_restricts_keys_in_model_order_and_always_adds_entity(pd: PlanningData) -> None:
    query = "dataset=local-authority&field=reference&field=name&field=dataset&limit=500"
    payload = ok(pd, query)
    assert payload["count"] == 379 and payload["links"] == {}
    assert payload["entities"][0] == {
        "entity": 26, "name": "Adur District Council", "dataset": "local-authority",
        "reference": "ADU",
    }  # fmt: skip
    assert list(payload["entities"][0]) == ["entity", "name", "dataset", "reference"]


def test_field_snake_case_gotcha_for_multi_word_columns(pd: PlanningData) -> None:
    kebab = "dataset=local-authority&reference=SWK&field=entity&field=organisation-entity&field=entry-date"
    assert ok(pd, kebab) == {
        "entities": [{"entry-date": "", "entity": 329, "organisation-entity": ""}],
        "links": {}, "count": 1,
    }  # fmt: skip
    snake = "dataset=local-authority&reference=SWK&field=entity&field=organisation_entity&field=statistical-geography"
    assert ok(pd, snake)["entities"] == [
        {"entity": 329, "organisation-entity": 329, "statistical-geography": "E09000028"}
    ]


def test_comma_separated_field_returns_only_entity(pd: PlanningData) -> None:
    entities = ok(pd, "dataset=local-authority&field=name,reference&limit=2")["entities"]
    assert entities == [{"entity": 26}, {"entity": 27}]


def test_exclude_field_accepts_commas_and_yields_to_field(pd: PlanningData) -> None:
    query = "dataset=conservation-area&organisation_entity=329&limit=1"
    entity = ok(pd, query + "&exclude_field=geometry,point")["entities"][0]
    assert "geometry" not in entity and "point" not in entity and "name" in entity
    both = ok(pd, query + "&exclude_field=name&field=name")["entities"][0]
    assert set(both) == {"entity", "name"}


# ---------------------------------------------------------------- filters and count


def test_count_is_total_matches_not_page_size(pd: PlanningData) -> None:
    data = bundled_data()
    expected = sum(
        1 for e in data["entities"]
        if e["dataset"] == "conservation-area" and e["organisation-entity"] == 329
    )  # fmt: skip
    payload = ok(pd, "dataset=conservation-area&organisation_entity=329&limit=1")
    assert expected > 1 and payload["count"] == expected and len(payload["entities"]) == 1
    assert payload["entities"][0]["organisation-entity"] == 329


def test_council_with_none_of_a_dataset_gets_an_empty_answer(pd: PlanningData) -> None:
    assert ok(pd, "dataset=tree&organisation_entity=329&limit=1") == {
        "entities": [], "links": {}, "count": 0,
    }  # fmt: skip


def test_repeated_parameters_are_alternatives(pd: PlanningData) -> None:
    one = ok(pd, "dataset=tree&organisation_entity=192&limit=1")["count"]
    other = ok(pd, "dataset=tree-preservation-zone&organisation_entity=192&limit=1")["count"]
    both = ok(pd, "dataset=tree&dataset=tree-preservation-zone&organisation_entity=192&limit=1")
    assert both["count"] == one + other
    orgs = ok(pd, "dataset=local-authority&organisation_entity=192&organisation_entity=329")
    assert [e["reference"] for e in orgs["entities"]] == ["LBH", "SWK"]


@pytest.mark.parametrize(
    ("query", "references"),
    [
        ("dataset=local-authority&reference=BNE&reference=LBH", ["BNE", "LBH"]),
        ("entity=48&entity=329", ["BNE", "SWK"]),
        ("curie=local-authority:CAT", ["CAT"]),
        ("prefix=local-authority&typology=organisation&reference=MDW", ["MDW"]),
        ("typology=geography&reference=MDW", []),
    ],
)
def test_reference_entity_curie_prefix_typology(pd: PlanningData, query: str, references: list[str]) -> None:
    assert [e["reference"] for e in ok(pd, query)["entities"]] == references


def test_period_splits_current_and_historical(pd: PlanningData) -> None:
    base = "dataset=local-authority&field=entity&limit=1"
    every = ok(pd, base)["count"]
    current = ok(pd, base + "&period=current")["count"]
    historical = ok(pd, base + "&period=historical")["count"]
    assert every == 379 and current + historical == every and 0 < historical < current
    barrow = ok(pd, "dataset=local-authority&reference=BAR&period=current")
    assert barrow["count"] == 0


def test_historic_england_records_are_not_the_councils(pd: PlanningData) -> None:
    everyone = ok(pd, "dataset=conservation-area&limit=1")["count"]
    councils_only = sum(
        ok(pd, f"dataset=conservation-area&organisation_entity={org}&limit=1")["count"]
        for org in {e["organisation-entity"] for e in bundled_data()["entities"]
                    if e["dataset"] == "conservation-area"} - {16}
    )  # fmt: skip
    historic = ok(pd, "dataset=conservation-area&organisation_entity=16&limit=1")["count"]
    assert historic > 0 and councils_only + historic == everyone


def test_results_are_ordered_by_entity_and_paged_by_offset(pd: PlanningData) -> None:
    first = ok(pd, "dataset=local-authority&field=entity&limit=5")["entities"]
    second = ok(pd, "dataset=local-authority&field=entity&limit=5&offset=5")["entities"]
    numbers = [e["entity"] for e in first + second]
    assert numbers == sorted(numbers) and len(set(numbers)) == 10


# ---------------------------------------------------------------- links


def test_links_follow_make_links_including_the_last_quirk() -> None:
    base = "http://localhost/entity.json"
    assert make_links(base, "", 45, 10, 10) == {
        "first": "http://localhost/entity.json?limit=10",
        "last": "http://localhost/entity.json?limit=10&offset=40",
        "next": "http://localhost/entity.json?limit=10&offset=20",
        "prev": "http://localhost/entity.json?limit=10",
    }
    assert make_links(base, "", 20, 10, 0)["last"] == base + "?limit=10&offset=20"
    assert make_links(base, "limit=10", 10, 10, 0) == {}
    assert make_links(base, "", 0, 10, 0) == {}


def test_links_keep_parameter_order_and_append_offset(pd: PlanningData) -> None:
    query = "dataset=conservation-area&organisation_entity=329&limit=1"
    payload = ok(pd, query)
    count = payload["count"]
    assert payload["links"] == {
        "first": f"{BASE}?{query}",
        "last": f"{BASE}?{query}&offset={count}",
        "next": f"{BASE}?{query}&offset=1",
    }
    later = ok(pd, f"offset=2&{query}")["links"]
    assert later["prev"] == f"{BASE}?offset=1&{query}"
    assert later["next"] == f"{BASE}?offset=3&{query}"
    assert ok(pd, f"offset=1&{query}")["links"]["prev"] == f"{BASE}?{query}"


def test_base_url_may_be_the_server_root() -> None:
    pd = PlanningData()
    _, _, body = pd.handle("dataset=tree&limit=1", "http://127.0.0.1:8765")
    assert json.loads(body)["links"]["first"] == "http://127.0.0.1:8765/entity.json?dataset=tree&limit=1"


def test_following_next_links_visits_every_entity_once(pd: PlanningData) -> None:
    seen: list[int] = []
    query = "dataset=tree-preservation-zone&field=entity&limit=50"
    while True:
        payload = ok(pd, query)
        seen.extend(e["entity"] for e in payload["entities"])
        if "next" not in payload["links"]:
            break
        query = payload["links"]["next"].split("?", 1)[1]
    assert len(seen) == len(set(seen)) == payload["count"]


# ---------------------------------------------------------------- errors


def test_unknown_dataset_is_422_with_every_dataset_name(pd: PlanningData) -> None:
    [error] = detail(pd, "dataset=not-a-dataset&dataset=tree")
    assert error["type"] == "value_error" and error["loc"] == ["query", "dataset"]
    assert error["msg"] == "Requested datasets do not exist: not-a-dataset."
    assert error["input"] == ["not-a-dataset", "tree"]
    assert error["ctx"]["missing"] == "not-a-dataset"
    assert "tree" in error["ctx"]["dataset_names"] and "local-authority" in error["ctx"]["dataset_names"]
    assert error["ctx"]["dataset_names"] == sorted(error["ctx"]["dataset_names"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("limit=1000", {"type": "less_than_equal", "loc": ["query", "limit"],
                        "msg": "Input should be less than or equal to 500", "input": "1000",
                        "ctx": {"le": 500}}),
        ("limit=0", {"type": "greater_than_equal", "loc": ["query", "limit"],
                     "msg": "Input should be greater than or equal to 1", "input": "0",
                     "ctx": {"ge": 1}}),
        ("organisation_entity=abc", {"type": "int_parsing", "loc": ["query", "organisation_entity", 0],
                                     "msg": "Input should be a valid integer, unable to parse string "
                                            "as an integer", "input": "abc"}),
        ("organisation_entity=329&organisation_entity=0",
         {"type": "greater_than_equal", "loc": ["query", "organisation_entity", 1],
          "msg": "Input should be greater than or equal to 1", "input": "0", "ctx": {"ge": 1}}),
        ("period=sometimes", {"type": "enum", "loc": ["query", "period", 0],
                              "msg": "Input should be 'all', 'current' or 'historical'",
                              "input": "sometimes",
                              "ctx": {"expected": "'all', 'current' or 'historical'"}}),
    ],
)  # fmt: skip
def test_invalid_parameters_are_422(pd: PlanningData, query: str, expected: dict) -> None:
    assert detail(pd, f"dataset=local-authority&{query}") == [expected]


def test_unknown_typology_and_malformed_curie_are_422(pd: PlanningData) -> None:
    [typology] = detail(pd, "typology=geograpy")
    assert typology["type"] == "enum" and typology["loc"] == ["query", "typology", 0]
    [curie] = detail(pd, "curie=local-authority")
    assert curie["msg"] == "curie must be in form 'prefix:reference'"


def test_several_invalid_parameters_are_reported_together(pd: PlanningData) -> None:
    errors = detail(pd, "dataset=nope&limit=0&organisation_entity=x")
    assert [e["loc"][1] for e in errors] == ["organisation_entity", "limit"]


def test_negative_offset_is_a_500_html_page(pd: PlanningData) -> None:
    status, headers, body = pd.handle("dataset=tree&offset=-1", BASE)
    assert status == 500 and headers["Content-Type"].startswith("text/html")
    assert body.lstrip().lower().startswith(b"<!doctype html>")


# ---------------------------------------------------------------- data replacement


def test_set_data_replaces_and_validates() -> None:
    pd = PlanningData({"datasets": ["tree"], "entities": []})
    assert get(pd, "dataset=tree")[1] == {"entities": [], "links": {}, "count": 0}
    assert detail(pd, "dataset=conservation-area")[0]["ctx"]["dataset_names"] == ["tree"]
    pd.set_data({"datasets": ["tree"], "entities": [
        {"entity": 7, "dataset": "tree", "organisation-entity": 192, "name": None},
    ]})  # fmt: skip
    assert get(pd, "dataset=tree&field=name")[1]["entities"] == [{"entity": 7, "name": ""}]
    for bad, message in [
        ({"datasets": ["tree"]}, '"entities" must be a list'),
        ({"datasets": ["tree"], "entities": [{"entity": 1, "dataset": "x"}]}, "is not in"),
        ({"datasets": ["tree"], "entities": [{"entity": "1", "dataset": "tree"}]}, "positive"),
        ({"datasets": ["tree"], "entities": [{"entity": 1, "dataset": "tree",
                                              "end-date": "soon"}]}, "YYYY-MM-DD"),
    ]:  # fmt: skip
        with pytest.raises(ValueError, match=message):
            pd.set_data(bad)
    assert len(pd.get_data()["entities"]) == 1
