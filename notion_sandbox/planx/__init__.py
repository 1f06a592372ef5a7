"""PlanX public GraphQL stand-in: Hasura's `POST /v1/graphql` for the role `public`, from a snapshot.

Queries are parsed, validated and executed by graphql-core against the PlanX public schema
(`data/planx_schema.graphql`); the resolvers implement Hasura's argument semantics (`where`,
`order_by`, `limit`, `offset`, `distinct_on`, aggregates) over the snapshot's rows, and every error is
answered in Hasura's envelope: HTTP 200, `{"errors": [{"message", "extensions": {"path", "code"}}]}`,
no `data` key. See docs/sandbox-sources.md for the snapshot's JSON shape and the known differences.

The snapshot (what `set_snapshot` takes and `get_snapshot` returns) nests flows and settings in teams::

    {"teams": [{"id": 7, "slug": "barnet", "name": "Barnet", "domain": null,
                "created_at": "2021-03-02T10:11:12.345678+00:00", "updated_at": "...",
                "team_settings": {"reference_code": "BNE", "is_trial": false, ...} | null,
                "flows": [{"id": "<uuid>", "slug": "...", "name": "...", "status": "online",
                           "category": "apply", "is_service": true, "first_online_at": "...",
                           "production_url": "...", "deleted_at": null, ...}]}]}

Only `id`, `slug` and `name` (teams) and `id`, `slug`, `name`, `status` (flows) are required; every
other column defaults (see `_TEAM_COLUMNS`, `_FLOW_COLUMNS`, `_SETTINGS_COLUMNS`). Flows with a
`deleted_at` are hidden, as Hasura's public select permission hides them.

Replacing the snapshot acts like the `set_current_timestamp_updated_at` trigger Hasura's console
puts on a table with an `updated_at` column: a team or flow (by id) whose columns changed while its
`updated_at` did not gets the stand-in's time, so `where: {updated_at: {_gte: $since}}` finds it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from notion_sandbox.planx.execute import execute_request, parse_request, planx_schema
from notion_sandbox.planx.snapshot import JSON_HEADERS, HasuraError, database_from_snapshot, normalized_snapshot

__all__ = ["PlanxGraphQL", "bundled_snapshot", "synthetic_snapshot"]


# --------------------------------------------------------------------------------------------
# Public interface
# --------------------------------------------------------------------------------------------


def bundled_snapshot() -> dict[str, Any]:
    """A fresh copy of the realistic snapshot shipped with the package."""
    path = resources.files("notion_sandbox").joinpath("data/planx_snapshot.json")
    return json.loads(path.read_text(encoding="utf-8"))


class PlanxGraphQL:
    """The PlanX GraphQL endpoint: `handle(body)` answers one `POST /v1/graphql`. Thread-safe."""

    def __init__(self, snapshot: dict | None = None, clock: Callable[[], datetime] | None = None) -> None:
        self._lock = threading.Lock()
        self._schema = planx_schema()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._snapshot: dict[str, Any] = {"teams": []}
        self.set_snapshot(bundled_snapshot() if snapshot is None else snapshot)

    def handle(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            db = self._db
        try:
            status, payload = 200, execute_request(self._schema, db, parse_request(body))
        except HasuraError as error:
            status = 400 if error.code in ("invalid-json", "parse-failed") else 200
            payload = error.envelope()
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        return status, dict(JSON_HEADERS), text.encode("utf-8")

    def get_snapshot(self) -> dict:
        with self._lock:
            snapshot = self._snapshot
        # the stored snapshot is never mutated; a JSON round trip is the cheapest deep copy
        return json.loads(json.dumps(snapshot))

    def set_snapshot(self, snapshot: dict) -> None:
        normalized = normalized_snapshot(snapshot)
        with self._lock:
            touched(self._snapshot, normalized, self._clock())
            self._db = database_from_snapshot(normalized)
            self._snapshot = normalized


def touched(before: dict[str, Any], after: dict[str, Any], now: datetime) -> None:
    """Set `updated_at` to `now` on the teams and flows of `after` that changed from `before`
    without a new `updated_at` of their own (the trigger's rule: any update moves it)."""
    stamp = now.astimezone(UTC).isoformat(timespec="microseconds")
    old_teams = {t["id"]: t for t in before.get("teams", [])}
    old_flows = {f["id"]: f for t in before.get("teams", []) for f in t.get("flows", [])}
    for team in after.get("teams", []):
        old = old_teams.get(team["id"])
        if old is not None and _row(old, "flows", "team_settings") != _row(team, "flows", "team_settings"):
            team["updated_at"] = stamp if team["updated_at"] == old["updated_at"] else team["updated_at"]
        for flow in team.get("flows", []):
            was = old_flows.get(flow["id"])
            if was is not None and _row(was) != _row(flow) and flow["updated_at"] == was["updated_at"]:
                flow["updated_at"] = stamp


def _row(row: dict[str, Any], *nested: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "updated_at" and k not in nested}


def synthetic_snapshot(team_count: int, flows_per_team: int = 5) -> dict[str, Any]:
    """A large deterministic snapshot for benchmarks: teams `council-00001`... with mixed flows."""
    teams = []
    for number in range(1, team_count + 1):
        slug = f"council-{number:05d}"
        flows = [_synthetic_flow(number, index, slug) for index in range(flows_per_team)]
        teams.append(
            {
                "id": number,
                "slug": slug,
                "name": f"Council {number}",
                "team_settings": {"reference_code": f"C{number:05d}", "is_trial": number % 7 == 0},
                "flows": flows,
            }
        )
    return {"teams": teams}


def _synthetic_flow(team_number: int, index: int, team_slug: str) -> dict[str, Any]:
    online = (team_number + index) % 3 != 0
    slug = f"service-{index + 1}"
    return {
        "id": f"{team_number:08x}-0000-4000-8000-{index:012x}",
        "slug": slug,
        "name": f"Service {index + 1}",
        "status": "online" if online else "offline",
        "category": ("apply", "guidance", "notify")[index % 3],
        "is_service": True,
        "first_online_at": "2024-01-02T03:04:05.678901" if online else None,
        "production_url": f"https://editor.planx.uk/{team_slug}/{slug}/published" if online else None,
    }
