"""The PlanX and Planning Data stand-ins over real HTTP, mounted in the sandbox server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

server = pytest.importorskip("notion_sandbox.server", reason="the sandbox server is not built yet")

QUERY = """query GetOnlineServicesPerTeam {
  teams(order_by: {slug: asc}) {
    slug
    name
    flows(where: {status: {_eq: online}}, order_by: {name: asc}) { name slug }
  }
}"""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    with server.SandboxServer(port=0, seed="planx") as running:
        yield running


def test_graphql_endpoint_answers_the_recommended_query(sandbox: Any) -> None:
    response = httpx.post(sandbox.graphql_url, json={"query": QUERY}, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    teams = response.json()["data"]["teams"]
    lambeth = next(team for team in teams if team["slug"] == "lambeth")
    assert lambeth["name"] == "Lambeth" and len(lambeth["flows"]) == 4


def test_graphql_errors_come_back_as_200_envelopes(sandbox: Any) -> None:
    response = httpx.post(sandbox.graphql_url, json={"query": "{ teams { nope } }"}, timeout=10)
    assert response.status_code == 200
    assert response.json() == {
        "errors": [{
            "message": "field 'nope' not found in type: 'teams'",
            "extensions": {"path": "$.selectionSet.teams.selectionSet.nope", "code": "validation-failed"},
        }]
    }  # fmt: skip


def test_entity_json_over_http_builds_links_from_the_request_url(sandbox: Any) -> None:
    url = f"{sandbox.url}/entity.json"
    params = {"dataset": "conservation-area", "organisation_entity": "329", "limit": "1"}
    response = httpx.get(url, params=params, timeout=10)
    assert response.status_code == 200
    payload = response.json()
    assert payload["count"] > 1
    assert payload["links"]["next"] == (f"{url}?dataset=conservation-area&organisation_entity=329&limit=1&offset=1")
    invalid = httpx.get(url, params={"dataset": "nope"}, timeout=10)
    assert invalid.status_code == 422 and invalid.json()["detail"][0]["loc"] == ["query", "dataset"]
