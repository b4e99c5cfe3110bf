"""plotly really draws the page's charts: index.html opened in a headless Chromium.

One Chromium run per page dumps the DOM after the scripts ran, logs the console to stderr
and saves a screenshot (report.png) into the run folder. Without Chromium these tests skip,
except where HARNESS_REQUIRE_DOCKER=1 (or CI=true) says the full toolchain must be there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from harness.report import build_report
from tests.report.run_folders import (
    BENCH_ONLY,
    DIAGNOSED_CHARTS,
    FLAME,
    copy_run,
    diagnosed_run,
    invalid_run,
    page_data,
)
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
    """One chart slot of the dumped DOM, as plotly left it."""

    name: str
    classes: list[str]
    drawn: str | None  # data-drawn: set by the page's script once Plotly.newPlot resolved
    elements: dict[str, int] = field(default_factory=dict)  # class name -> how many
    lines: list[str] = field(default_factory=list)  # each js-line path's d
    texts: list[str] = field(default_factory=list)

    def count(self, cls: str) -> int:
        return self.elements.get(cls, 0)


class ChartFinder(HTMLParser):
    """The div.chart elements of a dumped DOM, with what plotly drew inside them."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[Chart] = []
        self._depth = 0  # > 0 while inside a div.chart

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        classes = (values.get("class") or "").split()
        if tag == "div" and "chart" in classes and not self._depth:
            self.charts.append(
                Chart(values.get("data-chart") or "", classes, values.get("data-drawn"))
            )
            self._depth = 1
            return
        if not self._depth:
            return
        if tag == "div":
            self._depth += 1
        chart = self.charts[-1]
        for cls in classes:
            chart.elements[cls] = chart.elements.get(cls, 0) + 1
        if tag == "path" and "js-line" in classes:
            chart.lines.append(values.get("d") or "")

    def handle_endtag(self, tag: str) -> None:
        if self._depth and tag == "div":
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._depth and data.strip():
            self.charts[-1].texts.append(data.strip())


@dataclass
class Rendered:
    run_dir: Path
    charts: list[Chart]
    console: list[str]  # console messages and uncaught errors the page logged

    def figures(self) -> dict[str, Any]:
        charts: dict[str, Any] = page_data((self.run_dir / "index.html").read_text())["charts"]
        return charts

    def chart(self, name: str) -> Chart:
        return next(c for c in self.charts if c.name == name)


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
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, done.stderr


def open_run(run_dir: Path, tmp: Path) -> Rendered:
    build_report(run_dir)
    dom, stderr = render(run_dir / "index.html", tmp / "profile")
    finder = ChartFinder()
    finder.feed(dom)
    return Rendered(run_dir, finder.charts, console_messages(stderr))


@pytest.fixture(scope="module")
def full_page(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """Every chart the report has: the diagnosed run adds host, wait events and a flame graph."""
    tmp = tmp_path_factory.mktemp("browser-full")
    return open_run(diagnosed_run(tmp), tmp)


def test_plotly_draws_every_chart(full_page: Rendered) -> None:
    figures = full_page.figures()
    assert [c.name for c in full_page.charts] == list(DIAGNOSED_CHARTS)
    assert list(figures) == list(DIAGNOSED_CHARTS)
    for chart in full_page.charts:
        assert "js-plotly-plot" in chart.classes, chart.name
        assert chart.count("main-svg") >= 1, chart.name
        assert chart.drawn == str(len(figures[chart.name]["data"])), chart.name


def test_every_line_of_a_time_chart_is_drawn(full_page: Rendered) -> None:
    figures = full_page.figures()
    for name in DIAGNOSED_CHARTS:
        if name in ("knee", "flame"):
            continue
        chart = full_page.chart(name)
        traces = figures[name]["data"]
        assert chart.count("scatter") == len(traces), name  # g.trace.scatter, one per trace
        drawn = [d for d in chart.lines if "L" in d]  # plotly draws a flat run as one segment
        assert len(drawn) >= len(traces), f"{name}: {len(drawn)} lines drawn"


def test_time_charts_have_axis_titles_a_legend_and_the_phases(full_page: Rendered) -> None:
    figures = full_page.figures()
    for name in DIAGNOSED_CHARTS:
        if name in ("knee", "flame"):
            continue
        chart = full_page.chart(name)
        layout = figures[name]["layout"]
        assert layout["yaxis"]["title"]["text"] in chart.texts, name
        assert layout["xaxis"]["title"]["text"] in chart.texts, name
        for trace in figures[name]["data"]:
            assert unescape(trace["name"]) in chart.texts, (name, trace["name"])
        assert "warm-up" in chart.texts and "measured window" in chart.texts, name


def test_the_knee_chart_draws_a_point_per_second(full_page: Rendered) -> None:
    knee = full_page.chart("knee")
    points = sum(len(t["x"]) for t in full_page.figures()["knee"]["data"])
    assert points > 50
    assert knee.count("point") == points
    assert "requests per second" in knee.texts and "p95 milliseconds" in knee.texts
    assert "users" in knee.texts  # the colour bar's title


def test_the_flame_graph_draws_a_slice_per_frame(full_page: Rendered) -> None:
    flame = full_page.chart("flame")
    assert flame.count("icicle") == 1
    assert flame.count("slice") == len(FLAME)
    assert "login (auth.py:40)" in flame.texts
    assert "<img src=x onerror=alert(1)>" in flame.texts  # shown as text, not read as a tag


def test_the_page_logs_no_console_error(full_page: Rendered) -> None:
    assert full_page.console == []


def test_a_screenshot_is_kept_in_the_run_folder(full_page: Rendered) -> None:
    shot = full_page.run_dir / "report.png"
    assert shot.read_bytes()[:8] == PNG_SIGNATURE
    assert shot.stat().st_size > 20_000


def test_an_invalid_page_runs_cleanly(tmp_path: Path) -> None:
    page = open_run(invalid_run(tmp_path), tmp_path)
    assert page.console == []
    assert all(c.drawn not in (None, "0") for c in page.charts)


def test_a_page_without_charts_runs_cleanly(tmp_path: Path) -> None:
    page = open_run(copy_run(BENCH_ONLY, tmp_path), tmp_path)
    assert page.charts == []
    assert page.console == []
    assert (page.run_dir / "report.png").stat().st_size > 5_000


def test_the_console_check_sees_errors(tmp_path: Path) -> None:
    """Guard against a check that silently finds nothing: a broken script must show."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><title>x</title><script>notDefined();</script>")
    _, stderr = render(page, tmp_path / "profile")
    assert any("Uncaught ReferenceError" in line for line in console_messages(stderr))


# Hovers over the latency chart at +30 s and over the knee chart's first measured point, then
# copies what plotly shows into data-hover. Added to a copy of the page without its
# Content-Security-Policy, which would (rightly) refuse a script it has no hash for.
HOVER = """<script>
(function () {
  var latency = document.querySelector('div.chart[data-chart="latency"]');
  Plotly.Fx.hover(latency, {xval: 30});
  latency.setAttribute("data-hover", latency.querySelector(".hoverlayer").textContent);
  var knee = document.querySelector('div.chart[data-chart="knee"]');
  Plotly.Fx.hover(knee, [{curveNumber: 1, pointNumber: 0}]);
  knee.setAttribute("data-hover", knee.querySelector(".hoverlayer").textContent);
})();
</script>"""


def test_values_show_on_hover(full_page: Rendered, tmp_path: Path) -> None:
    html = (full_page.run_dir / "index.html").read_text()
    head, policy_and_rest = html.split('<meta http-equiv="Content-Security-Policy"', 1)
    page = tmp_path / "hover.html"
    page.write_text(head + policy_and_rest.split(">", 1)[1].replace("</body>", HOVER + "</body>"))
    dom, stderr = render(page, tmp_path / "profile")
    assert console_messages(stderr) == []
    hovered = dict(re.findall(r'data-chart="([\w-]+)"[^>]*data-hover="([^"]*)"', dom))
    assert "p95 ms" in hovered["latency"] and "users (right axis)" in hovered["latency"]
    assert re.search(r"\d+ requests/s", hovered["knee"]) and "50 users" in hovered["knee"]
