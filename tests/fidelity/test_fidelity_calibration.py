"""Calibration: the relaxed OpenAPI validator accepts every real recorded Notion response and still has teeth.

If a real response fails here, the relaxation in ``notion_openapi.relax_document`` is wrong: fix the validator, never
the recorded data.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.fidelity import SHARED
from tests.support.notion_openapi import NotionOpenApi, RecordedExchange, recorded_exchanges, relax_document


def recorded_labels() -> list[str]:
    # Collection runs before fixtures, so the ids are read here when the material exists and the test body skips
    # through the `shared` fixture otherwise.
    if not (SHARED / "notion" / "recorded").is_dir():
        return ["recorded material absent"]
    return [exchange.label for exchange in recorded_exchanges(SHARED)]


def by_label(recorded: list[RecordedExchange], label: str) -> RecordedExchange:
    matches = [exchange for exchange in recorded if exchange.label == label]
    assert matches, f"no recorded exchange {label}"
    return matches[0]


@pytest.mark.parametrize("label", recorded_labels())
def test_every_recorded_real_response_validates(
    openapi: NotionOpenApi, recorded: list[RecordedExchange], label: str
) -> None:
    exchange = by_label(recorded, label)
    assert openapi.errors(exchange.method, exchange.path, exchange.status, exchange.body) == []


def test_the_recordings_cover_success_and_error_bodies(recorded: list[RecordedExchange]) -> None:
    statuses = {exchange.status for exchange in recorded}
    assert {200, 400, 401, 404} <= statuses


def test_every_recorded_route_maps_to_an_operation_except_the_invalid_url(
    openapi: NotionOpenApi, recorded: list[RecordedExchange]
) -> None:
    unmatched = {e.path for e in recorded if openapi.operation(e.method, e.path) is None}
    assert unmatched == {"/v1/invalid"}


def test_literal_paths_win_over_templates(openapi: NotionOpenApi) -> None:
    me = openapi.operation("GET", "/v1/users/me")
    assert me is not None and me.operation_id == "get-self"


def test_unlisted_error_statuses_fall_back_to_the_generic_error_schema(openapi: NotionOpenApi) -> None:
    assert openapi.response_pointer("POST", "/v1/pages", 502) == "/components/schemas/publicApiCommonErrorResponse"
    assert openapi.response_pointer("GET", "/v1/nowhere", 400) == "/components/schemas/error_api_400"


def test_a_success_on_an_unknown_route_has_no_schema(openapi: NotionOpenApi) -> None:
    with pytest.raises(LookupError):
        openapi.response_pointer("GET", "/v1/nowhere", 200)


def test_relaxation_works_on_a_copy_and_removes_only_what_it_documents(shared: Path) -> None:
    document = json.loads((shared / "notion" / "openapi-official-2026-03-11.json").read_text(encoding="utf-8"))
    pristine = copy.deepcopy(document)
    relaxed = relax_document(document)
    assert document == pristine
    text = json.dumps(relaxed)
    assert '"additionalProperties": false' not in text
    assert '"oneOf"' not in text
    # additionalProperties that carry a schema (maps such as page `properties`) are kept.
    assert '"additionalProperties": {' in text
    page = relaxed["components"]["schemas"]["pageObjectResponse"]
    assert page["properties"]["archived"] == {"type": "boolean"}


def set_at(path: list[Any], value: Any) -> Callable[[Any], None]:
    def mutate(body: Any) -> None:
        node = body
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


def delete_at(path: list[Any]) -> Callable[[Any], None]:
    def mutate(body: Any) -> None:
        node = body
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return mutate


PAGE_CREATE = "test_pages_update#0 POST /v1/pages -> 200"
DS_RETRIEVE = "test_data_sources_retrieve#3 GET /v1/data_sources/29399f72-bada-8110-a72e-000be85b9ce9 -> 200"
DB_RETRIEVE = "test_databases_retrieve#2 GET /v1/databases/14fa890e-c173-4ffa-80a2-fedb26fc2614 -> 200"
QUERY = "test_data_sources_query#3 POST /v1/data_sources/29399f72-bada-81ac-9c19-000b38fea5b3/query -> 200"
PROPERTY = "test_pages_properties_retrieve#1 GET /v1/pages/28399f72-bada-8125-852b-e182e2919a7e/properties/title -> 200"
NOT_FOUND = "test_build_request_error_integration#0 GET /v1/pages/00000000-0000-0000-0000-000000000000 -> 404"

# Each broken copy of a real response must be rejected, with the JSON path of the culprit in the report.
MUTATIONS = [
    (PAGE_CREATE, delete_at(["in_trash"]), "at $: 'in_trash' is a required property"),
    (PAGE_CREATE, set_at(["archived"], "no"), "at $.archived"),
    (PAGE_CREATE, set_at(["id"], "28399f72bada8125852be182e2919a7e-x"), "at $.id"),
    (PAGE_CREATE, set_at(["created_time"], "2025-10-05 10:53"), "at $.created_time"),
    (PAGE_CREATE, set_at(["properties", "title", "title"], "Test"), "at $.properties.title.title"),
    (PAGE_CREATE, delete_at(["parent", "page_id"]), "at $.parent"),
    (PAGE_CREATE, set_at(["properties", "title", "title", 0, "annotations", "color"], "mauve"), "annotations.color"),
    (PAGE_CREATE, delete_at(["properties", "title", "title", 0, "plain_text"]), "at $.properties.title.title[0]"),
    (PAGE_CREATE, set_at(["public_url"], 3), "at $.public_url"),
    (DS_RETRIEVE, set_at(["properties", "Name", "type"], "rich_text"), "at $.properties.Name"),
    (DS_RETRIEVE, delete_at(["properties", "Name", "description"]), "at $.properties.Name"),
    (DS_RETRIEVE, set_at(["parent"], {"type": "database_id"}), "at $.parent"),
    (DB_RETRIEVE, set_at(["data_sources"], [{"id": "nope", "name": "x"}]), "at $.data_sources[0].id"),
    (DB_RETRIEVE, delete_at(["is_inline"]), "at $: 'is_inline' is a required property"),
    (QUERY, set_at(["type"], "page"), "at $.type"),
    (QUERY, set_at(["results"], [{"object": "page", "id": "28399f72-bada-8125-852b-e182e2919a7e"}]), "results[0]"),
    (QUERY, delete_at(["has_more"]), "'has_more' is a required property"),
    (PROPERTY, set_at(["results", 0, "type"], "relation"), "at $.results[0]"),
    (PROPERTY, delete_at(["property_item"]), "at $"),
    (NOT_FOUND, set_at(["code"], "not_found"), "at $.code"),
    (NOT_FOUND, set_at(["status"], 400), "at $.status"),
    (NOT_FOUND, delete_at(["message"]), "'message' is a required property"),
    (NOT_FOUND, set_at(["additional_data"], {"n": 3}), "at $.additional_data.n"),
]


def mutation_id(label: str, expected: str) -> str:
    return f"{label.split('#')[0].removeprefix('test_')}:{expected.removeprefix('at ')}"


@pytest.mark.parametrize(
    ("label", "mutate", "expected"), MUTATIONS, ids=[mutation_id(label, expected) for label, _, expected in MUTATIONS]
)
def test_broken_copies_of_real_responses_are_rejected(
    openapi: NotionOpenApi,
    recorded: list[RecordedExchange],
    label: str,
    mutate: Callable[[Any], None],
    expected: str,
) -> None:
    exchange = by_label(recorded, label)
    body = copy.deepcopy(exchange.body)
    mutate(body)
    errors = openapi.errors(exchange.method, exchange.path, exchange.status, body)
    assert errors, "the validator accepted a broken response"
    assert any(expected in error for error in errors), errors


PAGE_ID = "26899f72-bada-807d-a8ed-c01b19c0effb"


def test_partial_objects_are_checked_strictly_against_their_own_schema(openapi: NotionOpenApi) -> None:
    assert openapi.errors("POST", "/v1/pages", 200, {"object": "page", "id": PAGE_ID, "request_id": PAGE_ID}) == []
    assert openapi.errors("POST", "/v1/pages", 200, {"object": "pages", "id": PAGE_ID}) != []
    assert openapi.errors("POST", "/v1/pages", 200, {"object": "page", "id": "not-a-uuid"}) != []
    # A body with any other key is a full object, never a partial one.
    assert openapi.errors("POST", "/v1/pages", 200, {"object": "page", "id": PAGE_ID, "url": "x"}) != []


@pytest.mark.parametrize(
    ("start", "valid"),
    [
        ("2025-01-31", True),
        ("2025-01-31T10:00:00.000+01:00", True),
        ("2025-01-31T10:00:00Z", True),
        ("20250131", False),
        ("2025-13-01", False),
        ("2025-01-31 10:00:00", False),
    ],
)
def test_date_values_take_dates_and_date_times(openapi: NotionOpenApi, start: str, valid: bool) -> None:
    schema = "/components/schemas/dateResponse"
    found = openapi.errors_against(schema, {"start": start, "end": None, "time_zone": None})
    assert (found == []) is valid
