"""The report: index.html, summary.md and junit.xml built from one run folder's saved files.

It reads only what the run saved (results.json, Locust's history, the monitor samples, the
profile's summary), so it works offline from a folder copied to another machine, and imports
no other phase. Its charts are drawn by plotly, whose script the page carries inline. A
folder `harness compare` wrote gets the comparison report instead (harness.report.comparison).
"""

from __future__ import annotations

from pathlib import Path

from harness.report.comparison import (
    COMPARISON_OUTPUTS,
    build_comparison_report,
    is_comparison_folder,
    write_outputs,
)
from harness.report.inputs import read_run
from harness.report.junit import render_junit
from harness.report.overview import failure_line, incident_line, users_line
from harness.report.page import render_page
from harness.report.summary import render_summary
from harness.report.trend import write_trend

OUTPUTS = ("index.html", "summary.md", "junit.xml")

__all__ = [
    "COMPARISON_OUTPUTS",
    "OUTPUTS",
    "build_comparison_report",
    "build_report",
    "build_run_outputs",
    "failure_line",
    "incident_line",
    "users_line",
]


def build_report(run_dir: Path) -> list[Path]:
    """Write the three report files into `run_dir`; returns their paths.

    A comparison folder (comparison.json and no results.json) gets the comparison's three
    files instead. Raises ConfigError when the folder or its results.json is missing or
    unreadable.
    """
    run_dir = Path(run_dir)
    if is_comparison_folder(run_dir):
        return build_comparison_report(run_dir)
    run = read_run(run_dir)
    rendered = (render_page(run), render_summary(run), render_junit(run))
    return write_outputs(run.path, list(zip(OUTPUTS, rendered, strict=True)))


def build_run_outputs(run_dir: Path) -> list[Path]:
    """The report, and for a run (not a comparison) the trend files: github-action-benchmark's
    customSmallerIsBetter / customBiggerIsBetter figures of this run."""
    written = build_report(run_dir)
    if is_comparison_folder(Path(run_dir)):
        return written
    return [*written, *write_trend(Path(run_dir))]
