"""Running the benchmark suite (pytest-benchmark) against a stack and summarising it.

The suite runs in a pytest subprocess, so its timings are not disturbed by the harness and a
crash in it cannot take the harness down. It writes, in the run folder:
  benchmark.json   pytest-benchmark's JSON (github-action-benchmark's `pytest` format), with
                   every round's time, machine and commit info
  bench-junit.xml  one test case per benchmark (failures carry the reason)
  bench.log        pytest's output
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.bench.gate import DEFAULT_TOLERANCE
from harness.bench.suite.support import p95
from harness.errors import ConfigError

SUITE = Path(__file__).resolve().parent / "suite"
DEFAULT_TARGETS = Path(__file__).resolve().parent / "targets.toml"
BENCH_JSON = "benchmark.json"
BENCH_JUNIT = "bench-junit.xml"
Progress = Callable[[str], None]
UNSTABLE_IQR = 0.20


@dataclass(frozen=True)
class BenchRequest:
    target: str
    dsn: str | None
    run_dir: Path
    bcrypt_rounds: int
    rounds: int = 30
    warmup: int = 3
    targets_file: Path | None = None
    repo_root: Path = Path(__file__).resolve().parents[2]


def load_targets(path: Path | None) -> dict[str, Any]:
    """The targets TOML, checked: every benchmark has a positive p95_ms, tolerances in (0, 1)."""
    source = path or DEFAULT_TARGETS
    try:
        data = tomllib.loads(source.read_text())
    except OSError as exc:
        raise ConfigError(
            f"cannot read the targets file {source} ({exc.strerror})",
            "pass an existing TOML file with --targets, or leave it out for the defaults",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{source} is not valid TOML: {exc}", "fix the file; see harness/bench/targets.toml"
        ) from None
    benchmarks = data.get("benchmarks")
    defaults = data.get("defaults", {})
    if not isinstance(benchmarks, dict) or not benchmarks:
        raise ConfigError(
            f"{source} has no [benchmarks.<name>] tables",
            "copy harness/bench/targets.toml and edit its figures",
        )
    required = set(benchmark_names())
    missing = sorted(required - set(benchmarks))
    if missing:
        raise ConfigError(
            f"{source} gives no target for {', '.join(missing)}",
            "every benchmark of the suite needs a [benchmarks.<name>] table with p95_ms",
        )
    for name, table in benchmarks.items():
        p95 = table.get("p95_ms") if isinstance(table, dict) else None
        if not isinstance(p95, int | float) or isinstance(p95, bool) or p95 <= 0:
            raise ConfigError(
                f"{source}: benchmarks.{name}.p95_ms must be a positive number of milliseconds",
                "for example: p95_ms = 200",
            )
        tolerance = table.get("tolerance", defaults.get("tolerance", DEFAULT_TOLERANCE))
        if not isinstance(tolerance, int | float) or not 0 < tolerance < 1:
            raise ConfigError(
                f"{source}: the tolerance of {name} must be a fraction between 0 and 1",
                "for example: tolerance = 0.15 (15 % slower is a regression)",
            )
    return data


def tolerance_of(targets: dict[str, Any], name: str) -> float:
    table = targets["benchmarks"].get(name, {})
    default = targets.get("defaults", {}).get("tolerance", DEFAULT_TOLERANCE)
    return float(table.get("tolerance", default))


def benchmark_names() -> list[str]:
    """The suite's benchmarks, read from its source (the test functions' names)."""
    text = (SUITE / "test_api_benchmarks.py").read_text()
    return [
        line.split("(")[0].removeprefix("def ")
        for line in text.splitlines()
        if line.startswith("def test_")
    ]


def run_suite(request: BenchRequest, progress: Progress) -> dict[str, Any]:
    """Run the suite; returns the summary that results.json carries under "benchmarks"."""
    targets = load_targets(request.targets_file)
    env = {
        **os.environ,
        "CV_BENCH_TARGET": request.target,
        "CV_BENCH_DSN": request.dsn or "",
        "CV_BENCH_TARGETS": str(request.targets_file or DEFAULT_TARGETS),
        "CV_BENCH_ROUNDS": str(request.rounds),
        "CV_BENCH_WARMUP": str(request.warmup),
        "CV_BENCH_BCRYPT_ROUNDS": str(request.bcrypt_rounds),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    json_path = request.run_dir / BENCH_JSON
    junit_path = request.run_dir / BENCH_JUNIT
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(SUITE),
        "-p",
        "no:cacheprovider",
        "-o",
        "addopts=",
        "--rootdir",
        str(request.repo_root),
        "--benchmark-only",
        "--benchmark-json",
        str(json_path),
        "--benchmark-columns",
        "min,median,mean,max,rounds",
        "--junitxml",
        str(junit_path),
        "-q",
    ]
    progress(
        f"bench: {len(benchmark_names())} benchmarks, {request.rounds} rounds each "
        f"(+{request.warmup} warm-up) against {request.target}"
    )
    began = time.monotonic()
    with (request.run_dir / "bench.log").open("w") as log:
        done = subprocess.run(
            command, cwd=request.repo_root, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    seconds = time.monotonic() - began
    if not junit_path.exists():
        raise ConfigError(
            f"the benchmark suite did not run (pytest exit {done.returncode})",
            f"see {request.run_dir / 'bench.log'}",
        )
    return summarise(json_path, junit_path, seconds, request, targets)


def _outcomes(junit_path: Path) -> dict[str, tuple[str, str]]:
    """Per test name: (passed | failed | error | skipped, message)."""
    outcomes: dict[str, tuple[str, str]] = {}
    for case in ET.parse(junit_path).getroot().iter("testcase"):  # noqa: S314 -- our own file
        name = case.get("name", "")
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                outcome = {"failure": "failed"}.get(tag, tag)
                message = ((node.get("message") or "").splitlines() or [""])[0][:300]
                break
        outcomes[name] = (outcome, message)
    return outcomes


def summarise(
    json_path: Path,
    junit_path: Path,
    seconds: float,
    request: BenchRequest,
    targets: dict[str, Any],
) -> dict[str, Any]:
    measured: dict[str, dict[str, Any]] = {}
    if json_path.exists():
        for bench in json.loads(json_path.read_text()).get("benchmarks", []):
            measured[bench["name"]] = bench
    rows = []
    for name, (outcome, message) in _outcomes(junit_path).items():
        bench = measured.get(name)
        target = float(targets["benchmarks"].get(name, {}).get("p95_ms", 0)) or None
        row: dict[str, Any] = {
            "name": name,
            "outcome": outcome,
            "message": message,
            "target_p95_ms": target,
            "tolerance": tolerance_of(targets, name),
        }
        if bench is not None:
            data = [s * 1000 for s in bench["stats"]["data"]]
            row.update(
                {
                    "rounds": len(data),
                    "min_ms": round(min(data), 3),
                    "median_ms": round(statistics.median(data), 3),
                    "p95_ms": round(p95(data), 3),
                    "max_ms": round(max(data), 3),
                    "unstable": unstable(data),
                }
            )
        rows.append(row)
    failed = [r for r in rows if r["outcome"] in ("failed", "error")]
    return {
        "suite": "harness/bench/suite",
        "rounds": request.rounds,
        "warmup_rounds": request.warmup,
        "bcrypt_rounds": request.bcrypt_rounds,
        "seconds": round(seconds, 1),
        "json": json_path.name,
        "junit": junit_path.name,
        "benchmarks": rows,
        "verdict": "FAIL" if failed else "PASS",
    }


def unstable(samples: list[float]) -> bool:
    """Flagged as pyperf does for a noisy result, on robust figures: IQR over 20 % of median."""
    if len(samples) < 4:
        return False
    q1, _, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    return (q3 - q1) > UNSTABLE_IQR * statistics.median(samples)


def bench_table(summary: dict[str, Any]) -> list[str]:
    lines = [
        f"{'benchmark':<38} {'rounds':>6} {'min ms':>8} {'median':>8} {'p95':>8} {'target':>7}"
        "  result"
    ]
    for r in summary["benchmarks"]:
        target = f"{r['target_p95_ms']:.0f}" if r.get("target_p95_ms") else "-"
        if "median_ms" in r:
            figures = (
                f"{r['rounds']:>6} {r['min_ms']:>8.2f} {r['median_ms']:>8.2f} {r['p95_ms']:>8.2f}"
            )
        else:
            figures = f"{'-':>6} {'-':>8} {'-':>8} {'-':>8}"
        result = {"passed": "ok", "skipped": "not run"}.get(r["outcome"], r["outcome"].upper())
        if r.get("unstable"):
            result += " (unstable: IQR > 20 % of median)"
        if r["message"] and r["outcome"] != "passed":
            result += f": {r['message']}"
        lines.append(f"{r['name']:<38} {figures} {target:>7}  {result}")
    lines.append(f"bench: {summary['verdict']} in {summary['seconds']:.0f}s")
    return lines
