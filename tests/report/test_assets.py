"""The page's chart script really draws: index.html opened in a headless Chromium.

One Chromium run per page dumps the DOM after the script ran, logs the console to stderr
and saves a screenshot (report.png) into the run folder. Without Chromium these tests skip,
except where HARNESS_REQUIRE_DOCKER=1 (or CI=true) says the full toolchain must be there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from harness.report import build_report
from tests.report.run_folders import BENCH_ONLY, FULL_LOAD, copy_run, page_data
from tests.support.docker import docker_required

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

pytestmark = pytest.mark.slow


def browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    if docker_required(os.environ):
        pytest.fail("Chromium is required in CI (HARNESS_REQUIRE_DOCKER/CI set) but not installed")
    pytest.skip("Chromium is not installed (apt-get install -y chromium)")


@dataclass
class Chart:
    name: str
    drawn: str | None
    lines: list[str] = field(default_factory=list)  # each path's d / polyline's points
    texts: list[str] = field(default_factory=list)


class ChartFinder(HTMLParser):
    """The svg.chart elements of a dumped DOM, with their drawn lines and text."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[Chart] = []
        self._depth = 0  # > 0 while inside an svg.chart

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "svg" and "chart" in (values.get("class") or "").split():
            self.charts.append(Chart(values.get("data-chart") or "", values.get("data-drawn")))
            self._depth = 1
            return
        if not self._depth:
            return
        if tag == "svg":
            self._depth += 1
        if tag == "path":
            self.charts[-1].lines.append(values.get("d") or "")
        if tag == "polyline":
            self.charts[-1].lines.append(values.get("points") or "")

    def handle_endtag(self, tag: str) -> None:
        if self._depth and tag == "svg":
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth and data.strip():
            self.charts[-1].texts.append(data.strip())


@dataclass
class Rendered:
    run_dir: Path
    charts: list[Chart]
    console: list[str]  # console messages and uncaught errors the page logged


def console_messages(stderr: str) -> list[str]:
    """Lines the page's console produced. The page logs nothing when all is well."""
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


def render(page: Path, profile: Path) -> tuple[str, str]:
    done = subprocess.run(
        [
            browser(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            f"--screenshot={page.parent / 'report.png'}",
            "--window-size=1280,4000",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, done.stderr


def open_report(source: Path, tmp: Path) -> Rendered:
    run_dir = copy_run(source, tmp)
    build_report(run_dir)
    dom, stderr = render(run_dir / "index.html", tmp / "profile")
    finder = ChartFinder()
    finder.feed(dom)
    return Rendered(run_dir, finder.charts, console_messages(stderr))


@pytest.fixture(scope="module")
def full_page(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    return open_report(FULL_LOAD, tmp_path_factory.mktemp("browser-full"))


def test_every_chart_is_drawn(full_page: Rendered) -> None:
    data = page_data((full_page.run_dir / "index.html").read_text())["charts"]
    assert [c.name for c in full_page.charts] == list(data)
    for chart in full_page.charts:
        series = data[chart.name]["series"]
        assert chart.drawn == str(len(series)), chart.name
        drawn = [line for line in chart.lines if line.count("L") >= 2]
        assert len(drawn) >= len(series), f"{chart.name}: {len(drawn)} lines drawn"


def test_charts_have_axes_and_a_legend(full_page: Rendered) -> None:
    data = page_data((full_page.run_dir / "index.html").read_text())["charts"]
    for chart in full_page.charts:
        spec = data[chart.name]
        assert spec["y_label"] in chart.texts, chart.name
        assert spec["x_label"] in chart.texts, chart.name
        assert "0 s" in chart.texts and "0" in chart.texts, chart.name  # axis tick labels
        for series in spec["series"]:
            suffix = " (right axis)" if series["axis"] == "right" else ""
            assert series["label"] + suffix in chart.texts, (chart.name, series["label"])


def test_the_page_logs_no_console_error(full_page: Rendered) -> None:
    assert full_page.console == []


def test_a_screenshot_is_kept_in_the_run_folder(full_page: Rendered) -> None:
    shot = full_page.run_dir / "report.png"
    assert shot.read_bytes()[:8] == PNG_SIGNATURE
    assert shot.stat().st_size > 20_000


def test_a_page_without_charts_runs_cleanly(tmp_path: Path) -> None:
    page = open_report(BENCH_ONLY, tmp_path)
    assert page.charts == []
    assert page.console == []
    assert (page.run_dir / "report.png").stat().st_size > 5_000


def test_the_console_check_sees_errors(tmp_path: Path) -> None:
    """Guard against a check that silently finds nothing: a broken script must show."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><title>x</title><script>notDefined();</script>")
    _, stderr = render(page, tmp_path / "profile")
    assert any("Uncaught ReferenceError" in line for line in console_messages(stderr))
