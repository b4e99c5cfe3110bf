"""The report: index.html, summary.md and junit.xml built from one run folder's saved files.

It reads only what the run saved (results.json, Locust's history, the monitor samples, the
profile's summary), so it works offline from a folder copied to another machine, and imports
no other phase. Its charts are drawn by plotly, whose script the page carries inline.
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import ConfigError
from harness.report.inputs import read_run
from harness.report.junit import render_junit
from harness.report.overview import failure_line, incident_line, users_line
from harness.report.page import render_page
from harness.report.summary import render_summary

OUTPUTS = ("index.html", "summary.md", "junit.xml")

__all__ = ["OUTPUTS", "build_report", "failure_line", "incident_line", "users_line"]


def build_report(run_dir: Path) -> list[Path]:
    """Write the three report files into `run_dir`; returns their paths.

    Raises ConfigError when the folder or its results.json is missing or unreadable.
    """
    run = read_run(Path(run_dir))
    rendered = (render_page(run), render_summary(run), render_junit(run))
    written = []
    for name, content in zip(OUTPUTS, rendered, strict=True):
        path = run.path / name
        # write then rename, so a viewer or CI step never reads half a file
        tmp = path.with_name(f".{name}.tmp")
        try:
            tmp.write_text(content, encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:
            raise ConfigError(
                f"cannot write {path} ({exc.strerror})",
                "copy the run folder somewhere writable and build the report there",
            ) from None
        written.append(path)
    return written
