"""The nightly workflow users copy: valid YAML, and every make target it calls exists."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

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
    bench = next(s for s in steps if "github-action-benchmark" in s.get("uses", ""))
    assert bench["with"]["tool"] == "pytest"
    assert bench["with"]["output-file-path"].endswith("benchmark.json")
