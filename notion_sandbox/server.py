"""The sandbox HTTP server: Notion API, PlanX/planning-data stand-ins and the ``/_sandbox/`` admin API.

Usage::

    with SandboxServer(port=0, seed="planx", rate_limit=None) as sb:
        client = notion_client.Client(auth="ntn_sandbox", base_url=sb.url)
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from typing import Any
from urllib.parse import parse_qs, urlsplit

from notion_sandbox.api import NotionApi, Reply, Request, match_route
from notion_sandbox.faults import COMMIT_MESSAGE, RETRY_GUIDANCE, STATUS_CODES, FaultBook, FaultError, html_page
from notion_sandbox.ids import Clock, iso_ms
from notion_sandbox.ratelimit import TokenBucket
from notion_sandbox.requestlog import RequestLog
from notion_sandbox.seed import COUNCILS_DB_ID, SEEDS, SERVICES_DB_ID, apply_seed, describe_seed
from notion_sandbox.store import Store

JSON_TYPE = "application/json; charset=utf-8"
SOURCE_ROUTES = {("POST", "/v1/graphql"): "planx", ("GET", "/entity.json"): "planning"}


def package_version() -> str:
    try:
        return metadata.version("reconcile")
    except metadata.PackageNotFoundError:
        return "0"


class Answer:
    """What goes back on the wire (or ``drop``: close without a response)."""

    def __init__(self, status: int, body: bytes, headers: dict[str, str], drop: bool = False) -> None:
        self.status = status
        self.body = body
        self.headers = headers
        self.drop = drop


def json_answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Answer:
    data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Answer(status, data, {"Content-Type": JSON_TYPE, **(headers or {})})


class Sandbox:
    """Everything but the socket: state, settings, faults, rate limit, request log, and request handling."""

    def __init__(
        self,
        seed: str = "planx",
        rate_limit: float | None = None,
        burst: int = 3,
        latency_ms: int = 0,
        state_file: str | None = None,
        tokens: tuple[str, ...] = ("ntn_sandbox",),
        query_cap: int = 10000,
        clock: Clock | None = None,
        monotonic: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if seed not in SEEDS:
            raise ValueError(f"unknown seed {seed!r}; choose one of {', '.join(SEEDS)}")
        self.url = ""
        self.seed = seed
        self.tokens = tuple(tokens) or ("ntn_sandbox",)
        self.state_file = state_file
        self.latency_ms = latency_ms
        self.sleep = sleep
        self.store = Store(clock or Clock())
        self.api = NotionApi(self.store, self.tokens, query_cap, lambda: self.url)
        self.limiter = TokenBucket(rate_limit, burst, monotonic) if monotonic else TokenBucket(rate_limit, burst)
        self.faults = FaultBook()
        self.log = RequestLog()
        self.sources: dict[str, Any] = {}
        self.seed_contents = describe_seed(seed)
        if not (state_file and self.store.load_file(state_file)):
            self.seed_contents = apply_seed(self.store, seed)
            self.persist()

    # ------------------------------------------------------------ seeds and settings

    def reset(self, seed: str) -> dict[str, Any]:
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
        env = {
            "NOTION_BASE_URL": self.url,
            "NOTION_TOKEN": self.tokens[0],
            "PLANX_GRAPHQL_URL": f"{self.url}/v1/graphql",
            "PLANNING_DATA_URL": self.url,
        }
        if self.seed == "planx":
            env["COUNCILS_DB_ID"] = COUNCILS_DB_ID
            env["SERVICES_DB_ID"] = SERVICES_DB_ID
        return {"seed": self.seed, "token": self.tokens[0], "env": env, **dict(self.seed_contents)}

    def settings(self) -> dict[str, Any]:
        return {
            "rate_limit": self.limiter.rate,
            "burst": self.limiter.burst,
            "latency_ms": self.latency_ms,
            "query_cap": self.api.query_cap,
            "clock_step_ms": self.store.clock.step_ms,
        }

    def change_settings(self, given: dict[str, Any]) -> dict[str, Any]:
        unknown = set(given) - set(self.settings())
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
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
        """The PlanX / planning-data stand-in, created lazily (501 while its module does not exist)."""
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
            return self.admin(method, path, body)
        request_id = str(uuid.uuid4())
        source = SOURCE_ROUTES.get((method, path))
        found = None if source else match_route(method, path)
        route = f"{method} {path}" if source else (f"{method} {found[0]}" if found else f"{method} {path}")
        template = path if source else (found[0] if found else path)
        fault = self.faults.take(method, template)
        answer = self.answer(method, path, parts.query, headers, body, request_id, source, fault)
        self.log.add(method, route, path, None if answer.drop else answer.status, request_id, iso_ms(datetime.now(UTC)))
        return answer

    def answer(
        self,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
        request_id: str,
        source: str | None,
        fault: dict[str, Any] | None,
    ) -> Answer:
        delay = (0 if source else self.latency_ms) + (fault or {}).get("latency_ms", 0) * (
            "commit_then" not in (fault or {})
        )
        if delay:
            self.sleep(delay / 1000)
        if fault and fault.get("drop"):
            return Answer(0, b"", {}, drop=True)
        if fault and "status" in fault:
            return fault_answer(fault, request_id)
        if source:
            return self.source_answer(source, query, body)
        reply = self.api.handle(Request(method, path, parse_qs(query), headers, body), rate_check=self.limiter.check)
        if reply.wrote:
            self.persist()
        if fault and "commit_then" in fault and reply.wrote:
            return self.committed_answer(fault, reply, request_id)
        return notion_answer(reply, request_id)

    def committed_answer(self, fault: dict[str, Any], reply: Reply, request_id: str) -> Answer:
        then = fault["commit_then"]
        if then == "drop":
            return Answer(0, b"", {}, drop=True)
        if then == "timeout":
            self.sleep(fault.get("latency_ms", 0) / 1000)
            return notion_answer(reply, request_id)
        extra: dict[str, Any] = {"retry_guidance": list(RETRY_GUIDANCE)}
        if reply.created_id:
            extra["committed_resource_id"] = reply.created_id
        err = {
            "object": "error",
            "status": 503,
            "code": "service_unavailable",
            "message": COMMIT_MESSAGE,
            "request_id": request_id,
            "additional_data": extra,
        }
        return json_answer(503, err, {"x-notion-request-id": request_id})

    def source_answer(self, source: str, query: str, body: bytes) -> Answer:
        try:
            handler = self.source(source)
        except ImportError as exc:
            return json_answer(501, {"error": f"stand-in not available: {exc}"})
        if source == "planx":
            status, headers, data = handler.handle(body)
        else:
            status, headers, data = handler.handle(query, self.url)
        return Answer(status, data, dict(headers))

    # ------------------------------------------------------------ admin API

    def admin(self, method: str, path: str, body: bytes) -> Answer:
        try:
            given = json.loads(body) if body.strip() else {}
        except ValueError:
            return json_answer(400, {"ok": False, "error": "body is not JSON"})
        handler = ADMIN_ROUTES.get((method, path.rstrip("/")))
        if handler is None:
            return json_answer(404, {"ok": False, "error": f"no admin route {method} {path}"})
        try:
            return json_answer(200, handler(self, given))
        except (ValueError, TypeError, KeyError, FaultError, ImportError) as exc:
            return json_answer(400, {"ok": False, "error": str(exc)})


def notion_answer(reply: Reply, request_id: str) -> Answer:
    body = dict(reply.body)
    body["request_id"] = request_id
    return json_answer(reply.status, body, {"x-notion-request-id": request_id, **reply.headers})


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
        err["additional_data"] = {"rate_limit_reason": "public_api_request_rate_limit", "retry_after": str(retry_after)}
    return json_answer(status, err, headers)


def admin_health(sb: Sandbox, given: Any) -> dict[str, Any]:
    return {"ok": True, "version": package_version(), "notion_versions": ["2022-06-28", "2025-09-03"]}


def admin_reset(sb: Sandbox, given: Any) -> dict[str, Any]:
    return sb.reset(given.get("seed", sb.seed) if isinstance(given, dict) else sb.seed)


def admin_state(sb: Sandbox, given: Any) -> dict[str, Any]:
    with sb.store.lock:
        return sb.store.dump()


def admin_put_state(sb: Sandbox, given: Any) -> dict[str, Any]:
    if not isinstance(given, dict):
        raise ValueError("the state must be an object")
    with sb.store.lock:
        sb.store.load(given)
        sb.api.cursors.clear()
        sb.persist()
    return {"ok": True, "pages": len(sb.store.pages)}


def admin_requests(sb: Sandbox, given: Any) -> dict[str, Any]:
    return sb.log.snapshot()


def admin_clear_requests(sb: Sandbox, given: Any) -> dict[str, Any]:
    sb.log.clear()
    return {"ok": True}


def admin_add_faults(sb: Sandbox, given: Any) -> dict[str, Any]:
    rules = given.get("rules") if isinstance(given, dict) else None
    if not isinstance(rules, list):
        raise ValueError('expected {"rules": [...]}')
    return {"ok": True, "rules": sb.faults.add(rules)}


def admin_list_faults(sb: Sandbox, given: Any) -> dict[str, Any]:
    return {"rules": sb.faults.listing()}


def admin_clear_faults(sb: Sandbox, given: Any) -> dict[str, Any]:
    sb.faults.clear()
    return {"ok": True}


def admin_settings(sb: Sandbox, given: Any) -> dict[str, Any]:
    if not isinstance(given, dict):
        raise ValueError("settings must be an object")
    return sb.change_settings(given)


def admin_get_settings(sb: Sandbox, given: Any) -> dict[str, Any]:
    return sb.settings()


def admin_get_planx(sb: Sandbox, given: Any) -> dict[str, Any]:
    return sb.source("planx").get_snapshot()


def admin_put_planx(sb: Sandbox, given: Any) -> dict[str, Any]:
    sb.source("planx").set_snapshot(given)
    return {"ok": True}


def admin_get_planning(sb: Sandbox, given: Any) -> dict[str, Any]:
    return sb.source("planning").get_data()


def admin_put_planning(sb: Sandbox, given: Any) -> dict[str, Any]:
    sb.source("planning").set_data(given)
    return {"ok": True}


ADMIN_ROUTES: dict[tuple[str, str], Callable[[Sandbox, Any], dict[str, Any]]] = {
    ("GET", "/_sandbox/health"): admin_health,
    ("POST", "/_sandbox/reset"): admin_reset,
    ("GET", "/_sandbox/state"): admin_state,
    ("PUT", "/_sandbox/state"): admin_put_state,
    ("GET", "/_sandbox/requests"): admin_requests,
    ("DELETE", "/_sandbox/requests"): admin_clear_requests,
    ("POST", "/_sandbox/faults"): admin_add_faults,
    ("GET", "/_sandbox/faults"): admin_list_faults,
    ("DELETE", "/_sandbox/faults"): admin_clear_faults,
    ("PATCH", "/_sandbox/settings"): admin_settings,
    ("GET", "/_sandbox/settings"): admin_get_settings,
    ("GET", "/_sandbox/planx"): admin_get_planx,
    ("PUT", "/_sandbox/planx"): admin_put_planx,
    ("GET", "/_sandbox/planning-data"): admin_get_planning,
    ("PUT", "/_sandbox/planning-data"): admin_put_planning,
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: avoid 40 ms delayed-ACK stalls
    server_version = "reconcile-sandbox"
    sys_version = ""
    sandbox: Sandbox  # set on the per-server subclass

    def do_any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        answer = self.sandbox.handle(self.command, self.path, headers, body)
        if answer.drop:
            self.close_connection = True
            return
        try:
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_any

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is the record."""


class AdminClient:
    """Tiny HTTP client for the admin API (what tests and ``reconcile demo`` call)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def call(self, method: str, path: str, body: Any = None) -> Any:
        from urllib.request import Request as UrlRequest
        from urllib.request import urlopen

        data = json.dumps(body).encode() if body is not None else None
        req = UrlRequest(
            f"{self.base_url}/_sandbox/{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
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


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # benchmarks open many connections at once; the default backlog is 5


class SandboxServer:
    """The sandbox on a real socket, served from a daemon thread. ``port=0`` picks a free port."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **options: Any) -> None:
        self.host = host
        self.port = port
        self.sandbox = Sandbox(**options)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> SandboxServer:
        handler = type("BoundHandler", (Handler,), {"sandbox": self.sandbox})
        httpd = _HTTPServer((self.host, self.port), handler)
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self.sandbox.url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="notion-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def serve_forever(self) -> None:
        """Serve in the calling thread (the CLI); Ctrl-C stops."""
        if self._thread is None:
            self.start()
        assert self._thread is not None
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self.sandbox.url

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/v1/graphql"

    @property
    def seed_info(self) -> dict[str, Any]:
        return self.sandbox.seed_info()

    @property
    def admin(self) -> AdminClient:
        return AdminClient(self.url)
