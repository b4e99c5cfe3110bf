"""The nightly workflow users copy: valid YAML, every make target it calls exists, and its
history steps read the files the harness writes."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from harness.report.trend import TREND_BIGGER, TREND_SMALLER

REPO = Path(__file__).resolve().parents[1]
WORKFLOW = REPO / ".github" / "workflows" / "perf-nightly.yml"


def make_targets() -> set[str]:
    listed = subprocess.run(
        ["make", "-s", "help"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    return {line.split()[0] for line in listed.splitlines() if line.strip()}


def test_the_nightly_workflow_runs_the_pipeline_and_keeps_the_report() -> None:
    flow = yaml.safe_load(WORKFLOW.read_text())
    triggers = flow.get("on") or flow[True]  # YAML 1.1 reads a bare `on` key as true
    assert triggers["schedule"][0]["cron"]  # nightly
    steps = flow["jobs"]["full-load"]["steps"]
    commands = " ".join(step.get("run", "") for step in steps)
    called = set(re.findall(r"\bmake ([a-z][a-z-]+)", commands))
    assert {"full-load", "bench-compare", "bench-baseline", "harness-down"} <= called
    assert called <= make_targets(), called - make_targets()
    uses = {step.get("uses", "").split("@")[0] for step in steps}
    assert {"actions/upload-artifact", "benchmark-action/github-action-benchmark"} <= uses
    gate = next(s for s in steps if s.get("id") == "gate")
    assert "[ -d .harness/baselines/nightly ]" in gate["run"]  # a baseline is a folder of runs


def test_the_history_takes_the_trend_files_the_harness_writes_in_their_formats() -> None:
    """One github-action-benchmark step per direction, each on the file trend.py writes for it,
    from the full-load run's folder (the bench runs after it move reports/latest)."""
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["full-load"]["steps"]
    history = [s for s in steps if "github-action-benchmark" in s.get("uses", "")]
    files = {s["with"]["tool"]: s["with"]["output-file-path"] for s in history}
    folder = "${{ steps.run.outputs.dir }}/"
    assert files == {
        "customSmallerIsBetter": folder + TREND_SMALLER,
        "customBiggerIsBetter": folder + TREND_BIGGER,
    }
    remembered = next(s for s in steps if s.get("id") == "run")
    assert "reports/latest" in remembered["run"]
    assert steps.index(remembered) < steps.index(next(s for s in steps if s.get("id") == "gate"))
    names = [s["with"]["name"] for s in history]
    assert len(set(names)) == 2 and all(names)  # two series of charts, not one mixed
    for step in history:
        assert step["if"].startswith("always()")
        assert step["with"]["alert-threshold"] == "150%"
        assert step["with"]["fail-on-alert"] is False  # the harness's own gate decides
        assert step["with"]["comment-on-alert"] is False
        assert step["with"]["auto-push"] is True
