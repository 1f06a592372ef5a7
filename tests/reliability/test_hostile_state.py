"""Issue 10, point 4 (the run log and Notion's pagination): one line and exit 1, never exit 3 or a hang.

- A run log that is not UTF-8, cannot be read, or is a directory stops `plan` and `apply` before
  any write: the run log says which stamps are owed and which saved plans were applied, so a run
  that cannot read it must not guess.
- A Notion query that hands back the cursor it was given, or that never ends, is bounded and
  reported. A small proxy in front of the sandbox plays that Notion; everything else passes through.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.common import run, writes
from tests.support.reliability import one_line, write_config

RUN_LOG = Path(".reconcile") / "runs.jsonl"
GIVE_UP_AFTER = 50  # queries the proxy plays along for


# ── the run log ──────────────────────────────────────────────────────────────────────────────────


def not_utf8(tmp_path: Path) -> None:
    (tmp_path / RUN_LOG).write_bytes(b'{"outcomes": []}\n\xff\xfe\x00broken\n')


def a_directory(tmp_path: Path) -> None:
    (tmp_path / RUN_LOG).mkdir()


def unreadable(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads any file: permissions cannot make the run log unreadable")
    path = tmp_path / RUN_LOG
    path.write_text('{"outcomes": []}\n', encoding="utf-8")
    path.chmod(0)


BROKEN_LOGS = {"not-utf8": not_utf8, "a-directory": a_directory, "unreadable": unreadable}


@pytest.mark.parametrize("command", [("plan",), ("apply", "--auto-approve")], ids=["plan", "apply"])
@pytest.mark.parametrize("breakage", list(BROKEN_LOGS))
def test_a_broken_run_log_is_one_line_and_no_write(
    sandbox: Any, tmp_path: Path, breakage: str, command: tuple[str, ...]
) -> None:
    config = write_config(tmp_path)
    (tmp_path / ".reconcile").mkdir()
    BROKEN_LOGS[breakage](tmp_path)
    sandbox.admin.clear_requests()

    result = run(*command, "-c", str(config))

    assert result.exit_code == 1, result.output
    line = one_line(result.stderr)
    assert line.startswith("Error: run log "), line
    assert str(RUN_LOG) in line
    assert writes(sandbox) == 0
    assert not (tmp_path / ".reconcile" / "crash.log").exists()


def test_a_torn_last_line_is_still_skipped(sandbox: Any, tmp_path: Path) -> None:
    # A run killed while appending leaves half a line: that is not a broken log.
    config = write_config(tmp_path)
    assert run("apply", "-c", str(config), "--auto-approve").exit_code == 0
    with (tmp_path / RUN_LOG).open("a", encoding="utf-8") as fh:
        fh.write('{"record_version": 1, "outcomes": [{"act')
    result = run("plan", "-c", str(config), "--detailed-exitcode")
    assert result.exit_code == 0, result.output


# ── pagination that does not end ─────────────────────────────────────────────────────────────────


class PagingProxy:
    """Forwards every request to the sandbox; query answers get `has_more` and a cursor of its own.

    mode "repeat": the same next_cursor every time; mode "endless": a fresh cursor every time, and
    each continuation is served the first page again (Notion never reaching the end).
    """

    def __init__(self, upstream: str, mode: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.mode = mode
        self.queries = 0
        self.cursor = str(uuid.uuid4())
        self.http = httpx.Client(timeout=10)
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> httpx.Response:
        is_query = method == "POST" and path.endswith("/query")
        if is_query and body:
            document = json.loads(body)
            document.pop("start_cursor", None)  # the sandbox would refuse a cursor it never made
            body = json.dumps(document).encode()
        sent = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length")}
        answer = self.http.request(method, self.upstream + path, headers=sent, content=body)
        if not is_query or answer.status_code != 200:
            return answer
        self.queries += 1
        document = answer.json()
        if self.queries >= GIVE_UP_AFTER:
            return answer  # let a client that never stops finish, so the test fails instead of hanging
        cursor = self.cursor if self.mode == "repeat" else str(uuid.uuid4())
        document.update(has_more=True, next_cursor=cursor)
        return httpx.Response(200, json=document)

    @contextmanager
    def serving(self) -> Iterator[PagingProxy]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def handle_any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                answer = proxy.forward(self.command, self.path, dict(self.headers), body)
                content = answer.content
                self.send_response(answer.status_code)
                self.send_header("Content-Type", answer.headers.get("content-type", "application/json"))
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PATCH = do_DELETE = handle_any

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            self.http.close()


@pytest.mark.parametrize("mode", ["repeat", "endless"])
def test_a_query_whose_pagination_never_ends_is_bounded_and_reported(
    sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    config = write_config(tmp_path)
    with PagingProxy(sandbox.url, mode).serving() as proxy:
        monkeypatch.setenv("NOTION_BASE_URL", proxy.url)
        sandbox.admin.clear_requests()

        result = run("apply", "-c", str(config), "--auto-approve")

    assert result.exit_code == 1, result.output
    line = one_line(result.stderr)
    assert line.startswith("Error: "), line
    assert "pagination" in line, line
    assert proxy.queries <= 5, proxy.queries  # caught within a few pages that do not move on
    assert writes(sandbox) == 0
