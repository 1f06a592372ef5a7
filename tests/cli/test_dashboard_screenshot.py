"""The dashboard in headless Chromium: the status banner is the first thing on the page, in the
colour of the last run's status, and the chart draws one colour per action."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from reconcile.dashboard import ACTION_COLOURS, render_dashboard
from tests.support.png import Image, read_png
from tests.unit.test_dashboard import outcome, run

BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome")
BROWSER = next((b for b in BROWSERS if shutil.which(b)), None)
WIDTH, HEIGHT = 1000, 1400

pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="no headless Chromium (apt-get install chromium-headless-shell)"
)


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)


def screenshot(tmp_path: Path, runs: list[dict[str, Any]]) -> Image:
    page = tmp_path / "report.html"
    page.write_text(render_dashboard(runs, run_log="runs.jsonl", generated_at="now"), encoding="utf-8")
    shot = tmp_path / "report.png"
    assert BROWSER is not None
    subprocess.run(
        [
            BROWSER,
            "--headless",
            "--no-sandbox",  # tests run as root in CI
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            f"--window-size={WIDTH},{HEIGHT}",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return read_png(shot)


def first_banner_row(image: Image, colour: tuple[int, int, int]) -> int | None:
    return next((y for y in range(image.height) if image.row_share(y, colour) > 0.5), None)


@pytest.mark.slow
def test_a_failed_last_run_is_a_red_banner_at_the_top_and_writes_are_split_by_action(tmp_path: Path) -> None:
    runs = [
        run("2026-11-28T02:17:00.000Z", status="ok", outcomes=[outcome("create", "barnet"), outcome("touch", "x")]),
        run(
            "2026-11-29T03:04:00.000Z",
            status="failed",
            outcomes=[
                outcome("update", "camden"),
                outcome("update", "barnet", "failed", error_code="validation_error"),
            ],
        ),
    ]
    image = screenshot(tmp_path, runs)
    assert (image.width, image.height) == (WIDTH, HEIGHT)
    red = rgb("#c53030")
    top = first_banner_row(image, red)
    assert top is not None and top < 150, "the red status banner is not at the top of the page"
    assert first_banner_row(image, rgb("#2f855a")) is None  # no green banner as well
    below_banner = next(y for y in range(top, image.height) if image.row_share(y, red) < 0.5)
    for action in ("create", "touch", "update", "failed"):
        drawn = image.count(rgb(ACTION_COLOURS[action]), from_y=below_banner)
        assert drawn > 1000, f"no {action} segment drawn ({drawn} pixels)"
    assert image.count(rgb(ACTION_COLOURS["archive"]), from_y=below_banner) < 200  # only in the legend


@pytest.mark.slow
def test_a_clean_last_run_is_a_green_banner(tmp_path: Path) -> None:
    image = screenshot(tmp_path, [run("2026-11-30T02:17:00.000Z", status="ok", outcomes=[outcome("update", "a")])])
    top = first_banner_row(image, rgb("#2f855a"))
    assert top is not None and top < 150
    assert first_banner_row(image, rgb("#c53030")) is None
