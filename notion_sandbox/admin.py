"""The admin API under ``/_sandbox/`` (reset, state, requests, faults, settings, tokens, users, realism, bulk pages);
its client.

With an admin token set (``--admin-token`` or NOTION_SANDBOX_ADMIN_TOKEN; required when the sandbox listens beyond
loopback), every admin call must send ``Authorization: Bearer <admin token>``; others get 401.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from importlib import metadata
from typing import TYPE_CHECKING, Any

from notion_sandbox.api import KNOWN_VERSIONS
from notion_sandbox.faults import FaultError
from notion_sandbox.routes import Request
from notion_sandbox.users import checked_people, people_of
from notion_sandbox.wire import Answer, json_answer

if TYPE_CHECKING:
    from notion_sandbox.sandbox import Sandbox

ADMIN_TOKEN_ENV = "NOTION_SANDBOX_ADMIN_TOKEN"
BULK_VERSION = "2025-09-03"  # the shapes bulk-created pages are described in (data_source_id parents)


def package_version() -> str:
    try:
        return metadata.version("notion-reconcile")  # the distribution both packages ship in
    except metadata.PackageNotFoundError:
        return "0"


def admin_answer(sb: Sandbox, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
    if sb.admin_token and not admin_token_matches(sb.admin_token, headers.get("authorization")):
        return json_answer(
            401, {"ok": False, "error": "the admin API needs the admin token: Authorization: Bearer <admin token>"}
        )
    try:
        given = json.loads(body) if body.strip() else {}
    except ValueError:
        return json_answer(400, {"ok": False, "error": "body is not JSON"})
    handler = ADMIN_ROUTES.get((method, path.rstrip("/")))
    if handler is None:
        return json_answer(404, {"ok": False, "error": f"no admin route {method} {path}"})
    try:
        return json_answer(200, handler(sb, given))
    except (ValueError, TypeError, KeyError, FaultError, ImportError) as exc:
        return json_answer(400, {"ok": False, "error": str(exc)})


def admin_token_matches(expected: str, header: str | None) -> bool:
    given = header[7:].strip() if header and header.startswith("Bearer ") else ""
    return hmac.compare_digest(given.encode(), expected.encode())


def health(sb: Sandbox, given: Any) -> dict[str, Any]:
    return {
        "ok": True,
        "version": package_version(),
        "notion_versions": list(KNOWN_VERSIONS),
        "pending_commits": sb.realism.commits.pending(),
    }


def reset(sb: Sandbox, given: Any) -> dict[str, Any]:
    return sb.reset(given.get("seed", sb.seed) if isinstance(given, dict) else sb.seed)


def state(sb: Sandbox, given: Any) -> dict[str, Any]:
    with sb.store.lock:
        return sb.store.dump()


def put_state(sb: Sandbox, given: Any) -> dict[str, Any]:
    if not isinstance(given, dict):
        raise ValueError("the state must be an object")
    sb.realism.reset()
    with sb.store.lock:
        sb.store.load(given)
        sb.api.cursors.clear()
        sb.persist()
    return {"ok": True, "pages": len(sb.store.pages)}


def requests(sb: Sandbox, given: Any) -> dict[str, Any]:
    return sb.log.snapshot()


def clear_requests(sb: Sandbox, given: Any) -> dict[str, Any]:
    sb.log.clear()
    return {"ok": True}


def add_faults(sb: Sandbox, given: Any) -> dict[str, Any]:
    rules = given.get("rules") if isinstance(given, dict) else None
    if not isinstance(rules, list):
        raise ValueError('expected {"rules": [...]}')
    return {"ok": True, "rules": sb.faults.add(rules)}


def list_faults(sb: Sandbox, given: Any) -> dict[str, Any]:
    return {"rules": sb.faults.listing()}


def clear_faults(sb: Sandbox, given: Any) -> dict[str, Any]:
    sb.faults.clear()
    return {"ok": True}


def change_settings(sb: Sandbox, given: Any) -> dict[str, Any]:
    if not isinstance(given, dict):
        raise ValueError("settings must be an object")
    return sb.change_settings(given)


def get_settings(sb: Sandbox, given: Any) -> dict[str, Any]:
    return sb.settings()


def get_tokens(sb: Sandbox, given: Any) -> dict[str, Any]:
    return {"tokens": sb.access.views()}


def put_tokens(sb: Sandbox, given: Any) -> dict[str, Any]:
    grants = given.get("tokens") if isinstance(given, dict) else None
    if not isinstance(grants, list) or not grants:
        raise ValueError('expected {"tokens": [grant, ...]} with at least one grant')
    sb.access.replace(grants)
    return {"tokens": sb.access.views()}


def get_users(sb: Sandbox, given: Any) -> dict[str, Any]:
    with sb.store.lock:
        return {"users": [dict(person) for person in people_of(sb.store)]}


def put_users(sb: Sandbox, given: Any) -> dict[str, Any]:
    people = checked_people(given.get("users") if isinstance(given, dict) else None)
    with sb.store.lock:
        sb.store.data["users"] = people
        sb.persist()
    return {"users": [dict(person) for person in people]}


def realism(sb: Sandbox, given: Any) -> dict[str, Any]:
    return sb.realism.status()


def settle(sb: Sandbox, given: Any) -> dict[str, Any]:
    return {"ok": True, **sb.realism.settle()}


def advance_clock(sb: Sandbox, given: Any) -> dict[str, Any]:
    """``{"advance_ms": N}``: time passes without a write (a virtual clock, see ``clock_step_ms``, moves on)."""
    ms = given.get("advance_ms", 0) if isinstance(given, dict) else 0
    if isinstance(ms, bool) or not isinstance(ms, int) or ms < 0:
        raise ValueError('expected {"advance_ms": <non-negative integer>}')
    return {"ok": True, "now": sb.store.clock.advance(ms).isoformat()}


def bulk_pages(sb: Sandbox, given: Any) -> dict[str, Any]:
    """Pages created as `POST /v1/pages` creates them (same validation, shapes and clock), as the first
    token, but without the rate limit, faults, realism or request log: a workspace of 100,000 pages is
    seeded in seconds rather than in hours of API calls. Stops at the first page refused."""
    bodies = given.get("pages") if isinstance(given, dict) else None
    if not isinstance(bodies, list):
        raise ValueError('expected {"pages": [<a POST /v1/pages body>, ...]}')
    headers = {"authorization": f"Bearer {sb.access.first_token}", "notion-version": BULK_VERSION}
    created = []
    for index, body in enumerate(bodies):
        reply = sb.api.handle(Request("POST", "/v1/pages", {}, headers, json.dumps(body).encode()))
        if reply.status != 200:
            sb.persist()
            message = reply.body.get("message")
            raise ValueError(f"pages[{index}] refused ({len(created)} created before it): {message}")
        created.append({"id": reply.body["id"], "created_time": reply.body["created_time"]})
    sb.persist()
    return {"ok": True, "pages": created}


def get_planx(sb: Sandbox, given: Any) -> dict[str, Any]:
    return sb.source("planx").get_snapshot()


def put_planx(sb: Sandbox, given: Any) -> dict[str, Any]:
    sb.source("planx").set_snapshot(given)
    return {"ok": True}


def get_planning(sb: Sandbox, given: Any) -> dict[str, Any]:
    return sb.source("planning").get_data()


def put_planning(sb: Sandbox, given: Any) -> dict[str, Any]:
    sb.source("planning").set_data(given)
    return {"ok": True}


ADMIN_ROUTES: dict[tuple[str, str], Callable[[Sandbox, Any], dict[str, Any]]] = {
    ("GET", "/_sandbox/health"): health,
    ("POST", "/_sandbox/reset"): reset,
    ("GET", "/_sandbox/state"): state,
    ("PUT", "/_sandbox/state"): put_state,
    ("GET", "/_sandbox/requests"): requests,
    ("DELETE", "/_sandbox/requests"): clear_requests,
    ("POST", "/_sandbox/faults"): add_faults,
    ("GET", "/_sandbox/faults"): list_faults,
    ("DELETE", "/_sandbox/faults"): clear_faults,
    ("PATCH", "/_sandbox/settings"): change_settings,
    ("GET", "/_sandbox/settings"): get_settings,
    ("GET", "/_sandbox/tokens"): get_tokens,
    ("PUT", "/_sandbox/tokens"): put_tokens,
    ("GET", "/_sandbox/users"): get_users,
    ("PUT", "/_sandbox/users"): put_users,
    ("GET", "/_sandbox/realism"): realism,
    ("POST", "/_sandbox/settle"): settle,
    ("POST", "/_sandbox/clock"): advance_clock,
    ("POST", "/_sandbox/pages"): bulk_pages,
    ("GET", "/_sandbox/planx"): get_planx,
    ("PUT", "/_sandbox/planx"): put_planx,
    ("GET", "/_sandbox/planning-data"): get_planning,
    ("PUT", "/_sandbox/planning-data"): put_planning,
}


class AdminClient:
    """Tiny HTTP client for the admin API (what tests and ``reconcile demo`` call)."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url
        self.token = token

    def call(self, method: str, path: str, body: Any = None) -> Any:
        from urllib.request import Request as UrlRequest
        from urllib.request import urlopen

        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = UrlRequest(f"{self.base_url}/_sandbox/{path}", data=data, method=method, headers=headers)
        with urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def health(self) -> dict[str, Any]:
        return self.call("GET", "health")

    def reset(self, seed: str = "planx") -> dict[str, Any]:
        return self.call("POST", "reset", {"seed": seed})

    def requests(self) -> dict[str, Any]:
        return self.call("GET", "requests")

    def clear_requests(self) -> None:
        self.call("DELETE", "requests")

    def add_faults(self, rules: list[dict[str, Any]]) -> dict[str, Any]:
        return self.call("POST", "faults", {"rules": rules})

    def faults(self) -> list[dict[str, Any]]:
        return self.call("GET", "faults")["rules"]

    def clear_faults(self) -> None:
        self.call("DELETE", "faults")

    def settings(self, **changes: Any) -> dict[str, Any]:
        return self.call("PATCH", "settings", changes)

    def tokens(self) -> list[dict[str, Any]]:
        return self.call("GET", "tokens")["tokens"]

    def put_tokens(self, grants: list[Any]) -> list[dict[str, Any]]:
        return self.call("PUT", "tokens", {"tokens": grants})["tokens"]

    def users(self) -> list[dict[str, Any]]:
        return self.call("GET", "users")["users"]

    def put_users(self, people: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self.call("PUT", "users", {"users": people})["users"]

    def realism(self) -> dict[str, Any]:
        return self.call("GET", "realism")

    def settle(self) -> dict[str, Any]:
        return self.call("POST", "settle", {})

    def advance_clock(self, ms: int) -> dict[str, Any]:
        return self.call("POST", "clock", {"advance_ms": ms})

    def bulk_pages(self, pages: list[dict[str, Any]]) -> list[dict[str, str]]:
        """Create pages (POST /v1/pages bodies) without the rate limit or the request log: each one's
        id and created_time."""
        return list(self.call("POST", "pages", {"pages": pages})["pages"])

    def state(self) -> dict[str, Any]:
        return self.call("GET", "state")

    def put_state(self, state: dict[str, Any]) -> dict[str, Any]:
        return self.call("PUT", "state", state)

    def put_planx(self, snapshot: dict[str, Any]) -> dict[str, Any]:
        return self.call("PUT", "planx", snapshot)

    def planx(self) -> dict[str, Any]:
        return self.call("GET", "planx")

    def put_planning_data(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.call("PUT", "planning-data", data)

    def planning_data(self) -> dict[str, Any]:
        return self.call("GET", "planning-data")
