"""Hostile or broken input gives one line and exit 1, never exit 3 and never a hang.

Alias bombs and oversized configs (memory measured with tracemalloc around the CLI), text Notion
cannot store in a source's answer, and answers from Notion cut short with status 200 (a proxy in
front of the sandbox truncates them): reads ride it out, a create says its outcome is unknown, and
the next run finds the page instead of creating it twice.
"""

from __future__ import annotations

import threading
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.common import run, writes
from tests.support.reliability import ScriptedEndpoint, assert_converged, graphql_body, notion_state, one_line
from tests.support.reliability import write_config as write_planx_config

pytestmark = pytest.mark.slow

MB = 1024 * 1024


def billion_laughs() -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    return "version: 1\n" + "\n".join(lines) + "\njobs: {x: *a9}\n"


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_an_alias_bomb_is_one_line_in_little_memory(sandbox: Any, tmp_path: Path, command: str) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(billion_laughs(), encoding="utf-8")
    tracemalloc.start()
    try:
        result = run(command, "-c", str(bomb))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.exit_code == 1
    assert one_line(result.stderr) == (
        f"Error: {bomb}:6:18: the document holds more than 30,000 values, counting each alias as all it repeats "
        "(an alias bomb?) (a config is far smaller; check the file)"
    )
    assert peak < 100 * MB, f"{peak / MB:.1f} MB"
    assert not (tmp_path / ".reconcile" / "crash.log").exists()


def test_an_oversized_config_is_refused_before_it_is_read(sandbox: Any, tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as out:
        out.truncate(300 * MB)  # sparse: costs no disk
    tracemalloc.start()
    try:
        result = run("validate", "-c", str(huge))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.exit_code == 1
    assert one_line(result.stderr).startswith(f"Error: {huge}: 314,572,800 bytes is more than a config may be")
    assert peak < 10 * MB


# ── text Notion cannot store, from the source ────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("escape", "what"), [("\\ud83d", "a lone surrogate (\\ud83d)"), ("\\u0000", "a NUL character")]
)
def test_a_nul_or_lone_surrogate_in_the_source_is_one_line_and_zero_writes(
    sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, escape: str, what: str
) -> None:
    config = write_planx_config(tmp_path)
    body = graphql_body(sandbox).replace(b'"name":"Lambeth"', f'"name":"Lam{escape}beth"'.encode(), 1)
    assert escape.encode() in body, "test set-up: Lambeth's name is not in the snapshot"
    with ScriptedEndpoint().serving() as endpoint:
        endpoint.answer(200, body)
        monkeypatch.setenv("PLANX_GRAPHQL_URL", endpoint.url)
        result = run("apply", "-c", str(config), "--auto-approve")
    assert result.exit_code == 1, result.output
    line = one_line(result.stderr)
    assert line.startswith("Error: record ") and f"(key 'lambeth') from GraphQL source {endpoint.url}: " in line
    assert f"name holds {what}: " in line
    assert line.endswith("(nothing was written; Notion cannot store that text: fix it in the source)")
    assert writes(sandbox) == 0


# ── answers from Notion cut short, with status 200 ───────────────────────────────────────────────


@contextmanager
def truncating_proxy(upstream: str, cut: Callable[[str, str], bool], cuts: list[str]) -> Iterator[str]:
    """A loopback proxy to `upstream` that cuts in half each 200 answer for which `cut(method, path)` holds
    (and notes it in `cuts`)."""
    client = httpx.Client(base_url=upstream, timeout=30)

    class Handler(BaseHTTPRequestHandler):
        def relay(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            answer = client.request(self.command, self.path, content=body, headers=headers)
            data = answer.content
            if answer.status_code == 200 and cut(self.command, self.path):
                data = data[: len(data) // 2]
                cuts.append(f"{self.command} {self.path}")
            self.send_response(answer.status_code)
            for key, value in answer.headers.items():
                if key.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = relay

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        client.close()


def test_truncated_reads_are_ridden_out(sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_planx_config(tmp_path)
    every_other = iter(range(10**6))
    cuts: list[str] = []
    with truncating_proxy(sandbox.url, lambda m, path: "query" in path and next(every_other) % 2 == 0, cuts) as proxy:
        monkeypatch.setenv("NOTION_BASE_URL", proxy)
        result = run("apply", "-c", str(config), "--auto-approve")
    assert result.exit_code == 0, result.output
    assert len(cuts) >= 2
    assert_converged(sandbox)


def test_a_create_answered_with_truncated_json_is_unknown_now_and_found_next_run(
    sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_planx_config(tmp_path)
    cuts: list[str] = []
    with truncating_proxy(sandbox.url, lambda method, path: (method, path) == ("POST", "/v1/pages"), cuts) as proxy:
        monkeypatch.setenv("NOTION_BASE_URL", proxy)
        first = run("apply", "-c", str(config), "--auto-approve")
    assert first.exit_code == 1, first.output
    assert "Traceback" not in first.output
    assert (
        "POST /v1/pages: Notion answered 200 with a body that is truncated after " in first.stderr
        and "so the page may have been created but its outcome is unknown (the next run reads every page by key "
        "before creating, so it will not create it twice)"
        in first.stderr
    )
    created = notion_state(sandbox).services
    assert len(created) == len(cuts) > 0  # every create landed, and none was sent twice

    monkeypatch.setenv("NOTION_BASE_URL", sandbox.url)
    again = run("apply", "-c", str(config), "--auto-approve")
    assert again.exit_code == 0, again.output
    state = assert_converged(sandbox)
    assert set(state.services) == set(created)  # found by key, never created twice
