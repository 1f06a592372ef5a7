"""A local webhook receiver: a real HTTP server on 127.0.0.1 that records what is POSTed to it.

`mode` decides the answer: "ok" (204), "fail" (500), or "hang" (holds the request open until the
test calls `release()`, and at most HANG_LIMIT_S, so a broken test cannot hang the suite).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

HANG_LIMIT_S = 10.0


class WebhookReceiver:
    def __init__(self, mode: str = "ok") -> None:
        self.mode = mode
        self.received: list[dict[str, Any]] = []
        self.released = threading.Event()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def bodies(self) -> list[Any]:
        with self._lock:
            return [json.loads(r["body"]) for r in self.received]

    def release(self) -> None:
        self.released.set()

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(HANG_LIMIT_S)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                with receiver._lock:
                    receiver.received.append(
                        {"path": self.path, "content_type": self.headers.get("Content-Type"), "body": body}
                    )
                if receiver.mode == "hang":
                    receiver.released.wait(HANG_LIMIT_S)
                status = 500 if receiver.mode == "fail" else 204
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the client gave up waiting: that is what a hang test wants

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
