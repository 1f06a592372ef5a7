"""Drives the sandbox and the real `reconcile` CLI as subprocesses, measuring the reconcile process."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from notion_sandbox.seed import COUNCILS_DB_ID, COUNCILS_DS_ID, SERVICES_DB_ID, SERVICES_DS_ID

TOKEN = "ntn_sandbox"
NOTION_VERSION = "2025-09-03"
CHILD = Path(__file__).resolve().parent / "child.py"
SEED_WORKERS = 8


def reconcile_command() -> list[str]:
    """The installed console script beside this interpreter (the real CLI), else the same via -c."""
    beside = Path(sys.executable).parent / "reconcile"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("reconcile")
    return [found] if found else [sys.executable, "-c", "from reconcile.cli import main; main()"]


class SandboxProcess:
    """`reconcile sandbox serve` on a free loopback port, in its own process."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.http = httpx.Client(timeout=600)

    def start(self) -> SandboxProcess:
        out = self.workdir / "sandbox.out"
        command = [*reconcile_command(), "sandbox", "serve", "--seed", "planx", "--port", "0", "--rate-limit", "0"]
        with out.open("wb") as sink:
            self.proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, cwd=self.workdir)
        self.url = wait_for_url(out, self.proc)
        return self

    def stop(self) -> None:
        self.http.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ── admin API ────────────────────────────────────────────────────────────────────────────

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"{self.url}/_sandbox/{path}", json=body)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self.admin("POST", "reset", {"seed": "planx"})

    def settings(self, **changes: Any) -> dict[str, Any]:
        return self.admin("PATCH", "settings", changes)

    def put_planx(self, snapshot: dict[str, Any]) -> None:
        self.admin("PUT", "planx", snapshot)

    def clear_requests(self) -> None:
        self.admin("DELETE", "requests")

    def requests(self) -> dict[str, Any]:
        return self.admin("GET", "requests")

    def state(self) -> dict[str, Any]:
        return self.admin("GET", "state")

    # ── the Councils database, seeded through the Notion API ─────────────────────────────────

    def seed_councils(self, slugs: list[str]) -> None:
        """A Councils page per slug (ExternalCustomerID set), created through the API."""
        headers = {"Authorization": f"Bearer {TOKEN}", "Notion-Version": NOTION_VERSION}
        with httpx.Client(base_url=self.url, headers=headers, timeout=60) as client:

            def create(slug: str) -> None:
                body = {
                    "parent": {"type": "data_source_id", "data_source_id": COUNCILS_DS_ID},
                    "properties": {
                        "Name": {"title": [{"text": {"content": f"Council {slug}"}}]},
                        "ExternalCustomerID": {"rich_text": [{"text": {"content": slug}}]},
                    },
                }
                client.post("/v1/pages", json=body).raise_for_status()

            with ThreadPoolExecutor(SEED_WORKERS) as pool:
                list(pool.map(create, slugs))

    def env(self) -> dict[str, str]:
        return {
            "NOTION_BASE_URL": self.url,
            "NOTION_TOKEN": TOKEN,
            "PLANX_GRAPHQL_URL": f"{self.url}/v1/graphql",
            "COUNCILS_DB_ID": COUNCILS_DB_ID,
            "SERVICES_DB_ID": SERVICES_DB_ID,
        }


def wait_for_url(out: Path, proc: subprocess.Popen[bytes], timeout_s: float = 30) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for line in out.read_text(errors="replace").splitlines():
            if "listening on " in line:
                return line.split("listening on ", 1)[1].split()[0]
        if proc.poll() is not None:
            raise RuntimeError(f"the sandbox exited early:\n{out.read_text(errors='replace')}")
        time.sleep(0.05)
    raise RuntimeError("the sandbox did not report its URL in time")


DATA_SOURCES = {"services": SERVICES_DS_ID, "councils": COUNCILS_DS_ID}


@dataclass(frozen=True)
class ProcessRun:
    """One reconcile process: exit code, output, wall time, CPU time and peak memory."""

    exit_code: int
    stdout: str
    stderr: str
    wall_s: float
    cpu_s: float
    max_rss_mb: float


def run_reconcile(args: list[str], *, cwd: Path, env: dict[str, str]) -> ProcessRun:
    """Run the CLI under benchmarks/child.py, which reaps it with os.wait4 (CPU, peak RSS)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryDirectory() as tmp:
        figures_path = Path(tmp) / "figures.json"
        launcher = [sys.executable, str(CHILD), str(figures_path), "--"]
        subprocess.run(
            [*launcher, *reconcile_command(), *args], cwd=cwd, env={**os.environ, **env}, stdout=out, stderr=err
        )
        figures = json.loads(figures_path.read_text())
        out.seek(0)
        err.seek(0)
        return ProcessRun(
            exit_code=figures["exit_code"],
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
            wall_s=figures["wall_s"],
            cpu_s=figures["cpu_s"],
            max_rss_mb=figures["max_rss_mb"],
        )


def last_run_record(workdir: Path) -> dict[str, Any]:
    lines = (workdir / ".reconcile" / "runs.jsonl").read_text().splitlines()
    return json.loads(lines[-1])
