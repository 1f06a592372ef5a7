"""The sandbox on a socket: Notion API, PlanX/planning-data stand-ins and the ``/_sandbox/`` admin API.

Usage::

    with SandboxServer(port=0, seed="planx", rate_limit=None) as sb:
        client = notion_client.Client(auth="ntn_sandbox", base_url=sb.url)

Keyword arguments are those of ``notion_sandbox.sandbox.Sandbox`` (seed, rate_limit, burst, latency_ms, state_file,
tokens, query_cap, admin_token, and the realism settings query_lag_ms, chaos, chaos_seed, chaos_max_retry_after,
chaos_commit_delay_ms, workspace_rpm); see docs/sandbox.md.
"""

from __future__ import annotations

import ipaddress
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from notion_sandbox.admin import ADMIN_TOKEN_ENV, AdminClient, package_version
from notion_sandbox.sandbox import Sandbox

__all__ = ["AdminClient", "SandboxServer", "is_loopback", "package_version"]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header from the workspace's clock (virtual with ``clock_step_ms``), as Notion's is its own time."""
        if timestamp is None:
            timestamp = self.sandbox.store.clock.now().timestamp()
        return formatdate(timestamp, usegmt=True)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is the record."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # benchmarks open many connections at once; the default backlog is 5


class SandboxServer:
    """The sandbox on a real socket, served from a daemon thread. ``port=0`` picks a free port.

    Bound beyond loopback, it refuses to start without an admin token: anyone who can reach the port could otherwise
    rewrite the workspace through the admin API.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **options: Any) -> None:
        if not is_loopback(host) and not options.get("admin_token"):
            raise ValueError(
                f"the sandbox listens on {host}, beyond loopback: set an admin token "
                f"(--admin-token or {ADMIN_TOKEN_ENV}) so that only you can use its admin API"
            )
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
        shown = f"[{self.host}]" if ":" in self.host else self.host
        self.sandbox.url = f"http://{shown}:{self.port}"
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="notion-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.sandbox.realism.commits.cancel()
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
        return AdminClient(self.url, self.sandbox.admin_token)
