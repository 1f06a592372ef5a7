"""Everything but the socket: state, settings, grants, faults, realism, rate limits, request log, and answering.

A Notion request is routed, given a scripted fault (faults.py) or else perhaps a spontaneous one (realism.py),
checked for an overlapping write, delayed by the configured latency, and answered by the API (api.py); a write
whose fault says ``commit_delay_ms`` is answered first and lands later.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from notion_sandbox.access import Access
from notion_sandbox.admin import admin_answer
from notion_sandbox.api import NotionApi
from notion_sandbox.errors import conflict
from notion_sandbox.faults import COMMIT_MESSAGE, RETRY_GUIDANCE, STATUS_CODES, FaultBook, html_page
from notion_sandbox.ids import Clock, iso_ms
from notion_sandbox.ids import monotonic as wall_monotonic
from notion_sandbox.ratelimit import TokenBucket
from notion_sandbox.realism import DEFAULTS as REALISM_DEFAULTS
from notion_sandbox.realism import Realism
from notion_sandbox.requestlog import RequestLog
from notion_sandbox.routes import Reply, Request, Route, match_route
from notion_sandbox.seed import COUNCILS_DB_ID, SEEDS, SERVICES_DB_ID, apply_seed, describe_seed
from notion_sandbox.store import Store
from notion_sandbox.wire import DROPPED, Answer, json_answer

SOURCE_ROUTES = {("POST", "/v1/graphql"): "planx", ("GET", "/entity.json"): "planning"}
RATE_REASONS = {429: "public_api_request_rate_limit"}


class Sandbox:
    def __init__(
        self,
        seed: str = "planx",
        rate_limit: float | None = None,
        burst: int = 3,
        latency_ms: int = 0,
        state_file: str | None = None,
        tokens: Any = ("ntn_sandbox",),
        query_cap: int = 10000,
        clock: Clock | None = None,
        monotonic: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        admin_token: str | None = None,
        **realism: Any,
    ) -> None:
        if seed not in SEEDS:
            raise ValueError(f"unknown seed {seed!r}; choose one of {', '.join(SEEDS)}")
        self.url = ""
        self.seed = seed
        self.access = Access(tokens)
        self.admin_token = admin_token or None
        self.state_file = state_file
        self.latency_ms = latency_ms
        self.sleep = sleep
        ticks = monotonic or wall_monotonic
        self.realism = Realism(clock=ticks, **realism)
        self.store = Store(clock or Clock())
        self.store.watcher = self.realism.index
        self.api = NotionApi(self.store, self.access, query_cap, lambda: self.url, self.realism.index)
        self.limiter = TokenBucket(rate_limit, burst, ticks)
        self.faults = FaultBook()
        self.log = RequestLog()
        self.sources: dict[str, Any] = {}
        self.seed_contents = describe_seed(seed)
        if not (state_file and self.store.load_file(state_file)):
            self.seed_contents = apply_seed(self.store, seed)
            self.persist()

    @property
    def tokens(self) -> tuple[str, ...]:
        return tuple(g.token for g in self.access.grants)

    # ------------------------------------------------------------ seeds and settings

    def reset(self, seed: str) -> dict[str, Any]:
        self.realism.reset()
        with self.store.lock:
            self.seed = seed
            self.seed_contents = apply_seed(self.store, seed)
            self.api.cursors.clear()
            self.persist()
        self.log.clear()
        self.faults.clear()
        self.sources.clear()
        return self.seed_info()

    def seed_info(self) -> dict[str, Any]:
        token = self.access.first_token
        env = {
            "NOTION_BASE_URL": self.url,
            "NOTION_TOKEN": token,
            "PLANX_GRAPHQL_URL": f"{self.url}/v1/graphql",
            "PLANNING_DATA_URL": self.url,
        }
        if self.seed == "planx":
            env["COUNCILS_DB_ID"] = COUNCILS_DB_ID
            env["SERVICES_DB_ID"] = SERVICES_DB_ID
        return {"seed": self.seed, "token": token, "env": env, **dict(self.seed_contents)}

    def settings(self) -> dict[str, Any]:
        return {
            "rate_limit": self.limiter.rate,
            "burst": self.limiter.burst,
            "latency_ms": self.latency_ms,
            "query_cap": self.api.query_cap,
            "clock_step_ms": self.store.clock.step_ms,
            **self.realism.settings(),
        }

    def change_settings(self, given: dict[str, Any]) -> dict[str, Any]:
        unknown = set(given) - set(self.settings())
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        self.realism.change({k: v for k, v in given.items() if k in REALISM_DEFAULTS})
        if "rate_limit" in given or "burst" in given:
            self.limiter.configure(given.get("rate_limit", self.limiter.rate), given.get("burst"))
        if "latency_ms" in given:
            self.latency_ms = max(0, int(given["latency_ms"]))
        if "query_cap" in given:
            self.api.query_cap = max(1, int(given["query_cap"]))
        if "clock_step_ms" in given:
            self.store.clock.set_step(int(given["clock_step_ms"]))
        return self.settings()

    def persist(self) -> None:
        if self.state_file:
            with self.store.lock:
                self.store.save(self.state_file)

    # ------------------------------------------------------------ stand-ins

    def source(self, name: str) -> Any:
        """The PlanX / planning-data stand-in, created lazily."""
        if name not in self.sources:
            if name == "planx":
                from notion_sandbox.planx import PlanxGraphQL

                self.sources[name] = PlanxGraphQL(None)
            else:
                from notion_sandbox.planning_data import PlanningData

                self.sources[name] = PlanningData(None)
        return self.sources[name]

    # ------------------------------------------------------------ requests

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        parts = urlsplit(target)
        path = parts.path
        if path.startswith("/_sandbox/") or path == "/_sandbox":
            return admin_answer(self, method, path, headers, body)
        request_id = str(uuid.uuid4())
        source = SOURCE_ROUTES.get((method, path))
        route = None if source else match_route(method, path)
        template = route.template if route else path
        fault = self.faults.take(method, template)
        if fault is None and route is not None:
            fault = self.realism.spontaneous_fault(method, template)
        request = Request(method, path, parse_qs(parts.query), headers, body, parts.query)
        with self.realism.answering.one():
            answer = self.answer(request, route, source, fault, request_id)
        status = None if answer.drop else answer.status
        shown = target if parts.query else path  # with its query, so repeated source requests can be told apart
        self.log.add(method, f"{method} {template}", shown, status, request_id, iso_ms(datetime.now(UTC)))
        return answer

    def answer(
        self, req: Request, route: Route | None, source: str | None, fault: dict[str, Any] | None, request_id: str
    ) -> Answer:
        target = self.realism.write_target(req.method, route.template, route.params) if route else None
        if target is not None and not self.realism.in_flight.enter(target):
            return error_answer(conflict().body(request_id), request_id)
        try:
            return self.answer_in_flight(req, source, fault, request_id, target)
        finally:
            if target is not None:
                self.realism.in_flight.leave(target)

    def answer_in_flight(
        self, req: Request, source: str | None, fault: dict[str, Any] | None, request_id: str, target: str | None
    ) -> Answer:
        fault = fault or {}
        held = fault.get("latency_ms", 0) if "commit_then" not in fault else 0
        delay = (0 if source else self.latency_ms) + held
        if delay:
            self.sleep(delay / 1000)
        if fault.get("drop"):
            return DROPPED
        if "status" in fault:
            return fault_answer(fault, request_id)
        if source:
            return self.source_answer(source, req)
        if "commit_delay_ms" in fault:
            return self.late_commit(req, fault, request_id, target)
        reply = self.api.handle(req, rate_check=self.rate_check)
        if reply.wrote:
            self.persist()
        if "commit_then" in fault and reply.wrote:
            return self.committed_answer(fault, reply, request_id)
        return notion_answer(reply, request_id)

    def rate_check(self, token: str) -> None:
        self.limiter.check(token)
        self.realism.budget.check()

    def late_commit(self, req: Request, fault: dict[str, Any], request_id: str, target: str | None) -> Answer:
        """Answer as the fault says now; the write itself lands ``commit_delay_ms`` after that answer."""
        then = fault["commit_then"]
        if then == "timeout":
            self.sleep(fault.get("latency_ms", 0) / 1000)
        if target is not None:
            self.realism.in_flight.hold(target)

        def land() -> None:
            try:
                if self.api.handle(req).wrote:
                    self.persist()
            finally:
                if target is not None:
                    self.realism.in_flight.leave(target)

        self.realism.commits.schedule(fault["commit_delay_ms"], land)
        if then == "drop":
            return DROPPED
        return fault_answer({"status": 504 if then == "timeout" else then}, request_id)

    def committed_answer(self, fault: dict[str, Any], reply: Reply, request_id: str) -> Answer:
        then = fault["commit_then"]
        if then == "drop":
            return DROPPED
        if then == "timeout":
            self.sleep(fault.get("latency_ms", 0) / 1000)
            return notion_answer(reply, request_id)
        if then == 504:
            return fault_answer({"status": 504}, request_id)
        extra: dict[str, Any] = {"retry_guidance": list(RETRY_GUIDANCE)}
        if reply.created_id:
            extra["committed_resource_id"] = reply.created_id
        if reply.child_ids:
            extra["committed_child_ids"] = list(reply.child_ids)
        err = {
            "object": "error",
            "status": 503,
            "code": "service_unavailable",
            "message": COMMIT_MESSAGE,
            "request_id": request_id,
            "additional_data": extra,
        }
        return json_answer(503, err, {"x-notion-request-id": request_id})

    def source_answer(self, source: str, req: Request) -> Answer:
        try:
            handler = self.source(source)
        except ImportError as exc:
            return json_answer(501, {"error": f"stand-in not available: {exc}"})
        if source == "planx":
            status, headers, data = handler.handle(req.body)
        else:
            status, headers, data = handler.handle(req.raw_query, self.url)
        return Answer(status, data, dict(headers))


def notion_answer(reply: Reply, request_id: str) -> Answer:
    body = dict(reply.body)
    body["request_id"] = request_id
    return json_answer(reply.status, body, {"x-notion-request-id": request_id, **reply.headers})


def error_answer(body: dict[str, Any], request_id: str) -> Answer:
    return json_answer(body["status"], body, {"x-notion-request-id": request_id})


def fault_answer(fault: dict[str, Any], request_id: str) -> Answer:
    status = fault["status"]
    headers = {"x-notion-request-id": request_id}
    retry_after = fault.get("retry_after", 1 if status == 429 else None)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if fault.get("body") == "html":
        return Answer(status, html_page(status), {"Content-Type": "text/html", **headers})
    code, message = STATUS_CODES[status]
    err: dict[str, Any] = {
        "object": "error",
        "status": status,
        "code": code,
        "message": message,
        "request_id": request_id,
    }
    if status == 429:
        err["additional_data"] = {"rate_limit_reason": RATE_REASONS[429], "retry_after": str(retry_after)}
    return json_answer(status, err, headers)
