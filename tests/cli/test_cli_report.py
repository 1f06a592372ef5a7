"""The HTML report (the dashboard): self-contained, per job, and it renders in a real browser."""

from __future__ import annotations

import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconcile.cli import cli
from reconcile.dashboard import render_dashboard
from reconcile.runlog import append_run
from tests.support.run_records import run, two_job_runs

CHROMIUM = Path("/usr/bin/chromium")


class Collector(HTMLParser):
    """Tags and the URLs any attribute points at (a self-contained page points nowhere)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]


def parse(html: str) -> Collector:
    c = Collector()
    c.feed(html)
    return c


def report_html(runs: list[dict] | None = None) -> str:
    return render_dashboard(runs if runs is not None else two_job_runs(), run_log="runs.jsonl", generated_at="now")


def test_the_page_is_self_contained() -> None:
    page = parse(report_html())
    assert "script" not in page.tags and "img" not in page.tags and "link" not in page.tags
    assert all(u.startswith("https://www.notion.so/") for u in page.urls)  # links to pages only, no resources
    assert page.tags.count("svg") == 2  # one chart per job


def test_each_job_has_its_own_section_chart_changes_and_unlinked_keys() -> None:
    html = report_html()
    planx = html[html.index('id="job-planx-live-services"') : html.index('id="job-planning-data"')]
    pd = html[html.index('id="job-planning-data"') :]
    assert "<td>touch</td><td>councils</td><td>barnet</td>" in planx and "BNE" not in planx
    assert "<td>update</td><td>pd-councils</td><td>BNE</td>" in pd and 'class="st bad"' in pd
    assert "<code>camden</code>" in planx and "Nothing unlinked" in pd


def test_the_chart_has_a_segment_per_action_written_and_failures_apart() -> None:
    html = report_html()
    planx_svg = html[html.index("<svg") : html.index("</svg>")]
    creates = re.findall(r'<rect [^>]*fill="#2f855a"', planx_svg)
    assert len(creates) == 1  # the first run's creates; the second run wrote updates and a touch
    pd_svg = html[html.rindex("<svg") : html.rindex("</svg>")]
    assert len(re.findall(r'fill="#c53030"', pd_svg)) == 1  # its one failure


def test_values_are_escaped() -> None:
    evil = run("2026-01-03T00:00:00.000Z", outcomes=[("create", "services", "<script>x</script>", "ok")])
    html = report_html([evil])
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_an_empty_log_gives_a_page_that_says_so() -> None:
    assert "No runs yet" in report_html([])


def test_the_command_writes_the_file(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    for r in two_job_runs():
        append_run(log, r)
    out = CliRunner().invoke(cli, ["report", "--run-log", str(log), "--html", str(tmp_path / "out" / "r.html")])
    assert out.exit_code == 0, out.output
    assert "Job planning-data" in (tmp_path / "out" / "r.html").read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium (Debian package chromium) is not installed")
def test_it_renders_in_headless_chromium(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(report_html(), encoding="utf-8")
    shot = tmp_path / "report.png"
    profile = tmp_path / "profile"
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", f"--screenshot={shot}", "--window-size=1200,1600", page.as_uri(),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a drawn page, not a blank one
