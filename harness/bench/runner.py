"""Running the benchmark suite (pytest-benchmark) against a stack and summarising it.

The suite runs in a pytest subprocess, so its timings are not disturbed by the harness and a
crash in it cannot take the harness down. It writes, in the run folder:
  benchmark.json   pytest-benchmark's JSON (github-action-benchmark's `pytest` format), with
                   every round's time, machine and commit info; per benchmark, its database
                   cost per call in extra_info["db"] (or why not, in extra_info["db_note"])
  bench-junit.xml  one test case per benchmark (failures carry the reason)
  bench.log        pytest's output
The database password never reaches these files: pytest's output is masked line by line as
it is written, and the JUnit and JSON files once pytest has written them.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, Field

from harness.bench.gate import DEFAULT_TOLERANCE
from harness.bench.suite.support import as_count, p95
from harness.config_file import FILE_MODEL, read_toml, validate_file
from harness.console import Column, Table
from harness.errors import ConfigError
from harness.record import DbCost

SUITE = Path(__file__).resolve().parent / "suite"
DEFAULT_TARGETS = Path(__file__).resolve().parent / "targets.toml"
BENCH_JSON = "benchmark.json"
BENCH_JUNIT = "bench-junit.xml"
Progress = Callable[[str], None]
UNSTABLE_IQR = 0.20
MASK = "***"
EXAMPLE = "harness/bench/targets.toml"


@dataclass(frozen=True)
class BenchRequest:
    target: str
    dsn: str | None
    run_dir: Path
    bcrypt_rounds: int
    rounds: int = 30
    warmup: int = 3
    targets_file: Path | None = None
    targets: BenchTargets | None = None  # that file, already loaded (None: load it here)
    repo_root: Path = Path(__file__).resolve().parents[2]


class Benchmark(BaseModel):
    """A `[benchmarks.<name>]` table: the p95 it must stay under, its own tolerance, and the
    statements a call may cost the database (pg_stat_statements counts: exact, so no slack)."""

    model_config = FILE_MODEL
    p95_ms: float = Field(gt=0)
    tolerance: float | None = Field(None, gt=0, lt=1)
    max_queries: int | None = Field(None, ge=0)


class TargetDefaults(BaseModel):
    """The `[defaults]` table: the regression gate's tolerance for every benchmark."""

    model_config = FILE_MODEL
    tolerance: float = Field(DEFAULT_TOLERANCE, gt=0, lt=1)


class BenchTargets(BaseModel):
    """The targets file: a p95 target per benchmark, and the regression gate's tolerances."""

    model_config = FILE_MODEL
    defaults: TargetDefaults = TargetDefaults()
    benchmarks: dict[str, Benchmark] = {}

    def target_of(self, name: str) -> float | None:
        bench = self.benchmarks.get(name)
        return bench.p95_ms if bench else None

    def max_queries_of(self, name: str) -> int | None:
        bench = self.benchmarks.get(name)
        return bench.max_queries if bench else None

    def tolerance_of(self, name: str) -> float:
        bench = self.benchmarks.get(name)
        if bench is None or bench.tolerance is None:
            return self.defaults.tolerance
        return bench.tolerance


def load_targets(path: Path | None) -> BenchTargets:
    """The targets file, checked: a target for every benchmark of the suite, and no others."""
    source = path or DEFAULT_TARGETS
    data = read_toml(source, "targets file", EXAMPLE)
    targets = validate_file(BenchTargets, data, source, EXAMPLE)
    if not targets.benchmarks:
        raise ConfigError(
            f"{source} has no [benchmarks.<name>] tables",
            "copy harness/bench/targets.toml and edit its figures",
        )
    suite = benchmark_names()
    unknown = [name for name in targets.benchmarks if name not in suite]
    if unknown:
        raise ConfigError(
            f'{source}: unknown benchmark "{unknown[0]}" in benchmarks',
            f"remove it or fix its spelling; the suite's benchmarks are {', '.join(suite)}",
        )
    missing = [name for name in suite if name not in targets.benchmarks]
    if missing:
        raise ConfigError(
            f"{source} gives no target for {', '.join(missing)}",
            "every benchmark of the suite needs a [benchmarks.<name>] table with p95_ms",
        )
    return targets


def tolerance_of(targets: BenchTargets, name: str) -> float:
    return targets.tolerance_of(name)


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
    targets = request.targets or load_targets(request.targets_file)
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
    hidden = secrets_of(request.dsn)
    returncode = run_logged(command, request, env, request.run_dir / "bench.log", hidden)
    seconds = time.monotonic() - began
    mask_json(json_path, hidden)
    mask_junit(junit_path, hidden)
    if not junit_path.exists():
        raise ConfigError(
            f"the benchmark suite did not run (pytest exit {returncode})",
            f"see {request.run_dir / 'bench.log'}",
        )
    for note in db_notes(json_path):
        progress(f"bench: {note}")
    return summarise(json_path, junit_path, seconds, request, targets)


def run_logged(
    command: list[str], request: BenchRequest, env: dict[str, str], log: Path, hidden: list[str]
) -> int:
    """pytest, its output written to `log` line by line with the secrets masked."""
    with (
        log.open("w", encoding="utf-8") as sink,
        subprocess.Popen(
            command,
            cwd=request.repo_root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        ) as proc,
    ):
        assert proc.stdout is not None
        for line in proc.stdout:
            sink.write(masked(line, hidden))
    return proc.returncode


def secrets_of(dsn: str | None) -> list[str]:
    """The DSN's password as written and decoded, longest first; [] without one."""
    password = urlsplit(dsn).password if dsn else None
    if not password:
        return []
    return sorted({password, unquote(password)}, key=len, reverse=True)


def masked(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def _masked_values(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return masked(value, secrets)
    if isinstance(value, dict):
        return {k: _masked_values(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked_values(v, secrets) for v in value]
    return value


def mask_json(path: Path, secrets: list[str]) -> None:
    """Mask the secrets in the JSON file's strings (only there: a figure is never touched)."""
    if not secrets or not path.exists():
        return
    data = json.loads(path.read_text(encoding="utf-8"))
    cleaned = _masked_values(data, secrets)
    if cleaned != data:
        path.write_text(json.dumps(cleaned, indent=4), encoding="utf-8")


def mask_junit(path: Path, secrets: list[str]) -> None:
    """Mask the secrets in the JUnit file's text and attribute values (never in its markup)."""
    if not secrets or not path.exists():
        return
    tree = ET.parse(path)  # noqa: S314 -- pytest's own file
    changed = False
    for node in tree.getroot().iter():
        for part in ("text", "tail"):
            value = getattr(node, part)
            if value and (clean := masked(value, secrets)) != value:
                setattr(node, part, clean)
                changed = True
        for key, value in node.attrib.items():
            if (clean := masked(value, secrets)) != value:
                node.set(key, clean)
                changed = True
    if changed:
        tree.write(path, encoding="utf-8", xml_declaration=True)


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


def _extra_infos(json_path: Path) -> dict[str, dict[str, Any]]:
    """Per benchmark name: the extra_info the suite wrote into benchmark.json."""
    if not json_path.exists():
        return {}
    benches = json.loads(json_path.read_text()).get("benchmarks", [])
    return {str(b["name"]): b.get("extra_info") or {} for b in benches}


def db_notes(json_path: Path) -> list[str]:
    """Why a database cost is missing or approximate, each reason once."""
    notes = (str(e["db_note"]) for e in _extra_infos(json_path).values() if e.get("db_note"))
    return list(dict.fromkeys(notes))


def db_cost(extra_info: dict[str, Any]) -> dict[str, Any] | None:
    """The suite's database cost per call, as the record keeps it; None if not measured."""
    raw = extra_info.get("db")
    if raw is None:
        return None
    return DbCost.model_validate(raw).model_dump()


def summarise(
    json_path: Path,
    junit_path: Path,
    seconds: float,
    request: BenchRequest,
    targets: BenchTargets,
) -> dict[str, Any]:
    measured: dict[str, dict[str, Any]] = {}
    if json_path.exists():
        for bench in json.loads(json_path.read_text()).get("benchmarks", []):
            measured[bench["name"]] = bench
    rows = []
    for name, (outcome, message) in _outcomes(junit_path).items():
        bench = measured.get(name)
        row: dict[str, Any] = {
            "name": name,
            "outcome": outcome,
            "message": message,
            "target_p95_ms": targets.target_of(name),
            "tolerance": targets.tolerance_of(name),
            "db": db_cost(bench.get("extra_info") or {}) if bench is not None else None,
            "max_queries": targets.max_queries_of(name),
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


def bench_table(summary: dict[str, Any]) -> Table:
    return Table(
        columns=(
            Column("benchmark", width=38),
            Column("rounds", "right", width=6),
            Column("min ms", "right", width=8),
            Column("median", "right", width=8),
            Column("p95", "right", width=8),
            Column("target", "right", width=7),
            Column("queries", "right", width=7),
            Column("max q", "right", width=5),
            Column("rows", "right", width=6),
            Column("result", gap=2),
        ),
        rows=tuple(_bench_row(r) for r in summary["benchmarks"]),
        footer=(f"bench: {summary['verdict']} in {summary['seconds']:.0f}s",),
    )


def _bench_row(r: dict[str, Any]) -> tuple[str, ...]:
    if "median_ms" in r:
        figures = (
            str(r["rounds"]),
            *(f"{r[key]:.2f}" for key in ("min_ms", "median_ms", "p95_ms")),
        )
    else:
        figures = ("-",) * 4
    target = f"{r['target_p95_ms']:.0f}" if r.get("target_p95_ms") else "-"
    db = r.get("db")
    queries = as_count(db["queries"]) if db else "-"
    rows = as_count(db["rows"]) if db else "-"
    limit = str(r["max_queries"]) if r.get("max_queries") is not None else "-"
    result = {"passed": "ok", "skipped": "not run"}.get(r["outcome"], r["outcome"].upper())
    if r.get("unstable"):
        result += " (unstable: IQR > 20 % of median)"
    if r["message"] and r["outcome"] != "passed":
        result += f": {r['message']}"
    return (r["name"], *figures, target, queries, limit, rows, result)
