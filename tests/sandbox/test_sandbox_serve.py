"""`reconcile sandbox serve` in a subprocess: it answers once up, and prints its exports.

How fast it starts is not asserted (timing belongs to benchmarks/); the deadline only stops a hung server from
hanging the suite.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


STARTUP_DEADLINE_S = 60.0


def test_serve_answers_and_prints_its_exports(tmp_path: object) -> None:
    port = free_port()
    cmd = [
        sys.executable,
        "-c",
        "from reconcile.cli import main; main()",
        "sandbox",
        "serve",
        "--port",
        str(port),
        "--seed",
        "planx",
        "--rate-limit",
        "0",
        "--token",
        "ntn_a",
        "--token",
        "ntn_b",
    ]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        answered = None
        while time.monotonic() - started < STARTUP_DEADLINE_S and answered is None and proc.poll() is None:
            try:
                answered = httpx.get(
                    f"http://127.0.0.1:{port}/v1/users/me",
                    headers={"Authorization": "Bearer ntn_b", "Notion-Version": "2025-09-03"},
                )
            except httpx.TransportError:
                time.sleep(0.05)
        assert answered is not None, (
            proc.stderr.read() if proc.poll() is not None else f"no answer within {STARTUP_DEADLINE_S} s"
        )
        assert answered.status_code == 200 and answered.json()["type"] == "bot"
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert f"export NOTION_BASE_URL=http://127.0.0.1:{port}" in out
    assert "export NOTION_TOKEN=ntn_a" in out
    assert "export COUNCILS_DB_ID=c0c11c00-0000-4000-8000-000000000001" in out
