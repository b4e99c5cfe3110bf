"""Real short runs judged for validity and diagnosed (local provider: no Docker needed).

A quiet run is not INVALID; the same run beside a CPU-burning process is, naming the process;
a backend with a deliberately slow endpoint FAILs with that endpoint named as the cause.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.stack.cli import REPO, harness

pytestmark = [pytest.mark.slow]
EXIT = {"PASS": 0, "FAIL": 1, "INVALID": 3}
SHORT_RUN = (
    "full-load --provider local --skip-bench --profile tiny --shape baseline --users 10 "
    "--duration 30 --warmup 3 --workers 1 --bcrypt-rounds 4"
)


def run(home: Path, reports: Path, *more: str) -> tuple[int, dict[str, Any], str]:
    done = harness(home, *SHORT_RUN.split(), "--reports", str(reports), *more, timeout=400)
    assert done.returncode in EXIT.values(), done.stderr[-3000:]
    results = json.loads(((reports / "latest") / "results.json").read_text())
    assert done.returncode == EXIT[results["verdict"]], done.stderr[-3000:]
    return done.returncode, results, done.stderr


def test_a_quiet_short_run_is_not_invalid(tmp_path: Path) -> None:
    _, results, stderr = run(tmp_path / "home", tmp_path / "reports", "--skip-profile")
    assert results["invalid"] == [], results["invalid"]
    window = results["window"]
    assert window["starts_done"] is True and window["users"] == 10
    assert window["steady"] is not False and {c["metric"] for c in window["checks"]} == {
        "rps",
        "p95_ms",
        "users",
    }
    assert 29 <= window["end"] - window["start"] <= 40
    host = results["host"]
    assert host["samples"] >= 25 and host["outside"] < 0.2
    assert results["coverage"] and min(results["coverage"].values()) >= 0.9
    assert re.search(r"window: \d+s measured after \d+s of warm-up with 10 users; steady", stderr)


def test_a_cpu_hog_outside_the_stack_makes_the_run_invalid_and_is_named(tmp_path: Path) -> None:
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])  # one core of two
    try:
        code, results, stderr = run(tmp_path / "home", tmp_path / "reports", "--skip-profile")
    finally:
        hog.kill()
        hog.wait()
    assert code == 3 and results["verdict"] == "INVALID"
    busy = next(r for r in results["invalid"] if r["code"] == "host_busy")
    assert results["host"]["outside"] >= 0.2
    assert hog.pid in [p["pid"] for p in results["host"]["top_outside"]]
    assert any(f"(pid {hog.pid})" in line for line in busy["evidence"])
    assert "INVALID: other programs used" in stderr and "hint: close" in stderr
    assert results["causes"] is None  # an INVALID run is not diagnosed


def test_a_slow_endpoint_is_named_as_the_cause_with_its_evidence(tmp_path: Path) -> None:
    # 300 ms of CPU per stats call: over its 200 ms target by itself, whatever the queueing.
    # (150 ms failed the run only when calls queued behind each other; with exact percentiles
    # a fresh-clone run read every p95 under 200 ms and passed.)
    project = tmp_path / "harness.toml"
    reference = (REPO / "harness" / "reference-backend.toml").read_text()
    project.write_text(
        reference.replace('cwd = ".."', f'cwd = "{REPO}"').replace(
            'WEB_CONCURRENCY = "{workers}"',
            'WEB_CONCURRENCY = "{workers}"\nCV_SLOW_STATS_MS = "300"',
        )
    )
    _, results, stderr = run(tmp_path / "home", tmp_path / "reports", "--config", str(project))
    assert results["verdict"] in ("FAIL", "INVALID"), results["slo"]
    if results["verdict"] == "INVALID":  # the run must not be contaminated for this test
        pytest.fail(f"the slow-endpoint run was INVALID: {results['invalid']}")
    causes = results["causes"]
    assert causes, "a failing run with a slow endpoint must have a cause"
    slow = next(c for c in causes if c["code"] == "slow_endpoint")
    assert slow["endpoints"] == ["GET /users/[username]/stats"]
    assert "fastest request took" in slow["evidence"][0]
    profile = results["profile"]
    assert profile["status"] == "recorded", profile
    assert profile["top"][0]["function"] == "_slow_down_for_testing"
    assert any("_slow_down_for_testing" in e for e in slow["evidence"])
    assert "why it failed:" in stderr and "is slow by itself" in stderr
