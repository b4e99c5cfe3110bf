"""A benchmark run: the suite against a stack, the regression gate, baselines, results.json."""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.bench import (
    BENCH_JSON,
    BenchRequest,
    bench_table,
    compare,
    comparison_table,
    find_baseline,
    gate_failed,
    load_targets,
    read_bench_json,
    run_suite,
    save_baseline,
)
from harness.bench import check_name as check_baseline_name
from harness.errors import StackError
from harness.pipeline import REPO_ROOT, Progress
from harness.report import build_report
from harness.run_folder import (
    EXIT_FAIL,
    EXIT_PASS,
    RESULTS_SCHEMA_VERSION,
    commit,
    new_run_dir,
    reports_root,
)
from harness.stack import StackState, harness_home


@dataclass(frozen=True)
class BenchOptions:
    rounds: int = 30
    warmup: int = 3
    targets_file: Path | None = None
    reports_dir: Path | None = None
    save_baseline: str | None = None
    compare: str | None = None
    baselines_dir: Path | None = None
    bcrypt_rounds: int | None = None


def baselines_folder(options: BenchOptions, environ: Mapping[str, str]) -> Path:
    return options.baselines_dir or Path(
        environ.get("HARNESS_BASELINES") or harness_home(environ, REPO_ROOT) / "baselines"
    )


def check_bench_options(options: BenchOptions, environ: Mapping[str, str]) -> Path | None:
    """Bad input fails before anything runs; returns the baseline to compare with, if any."""
    load_targets(options.targets_file)
    if options.save_baseline is not None:
        check_baseline_name(options.save_baseline)
    if options.compare is None:
        return None
    path = find_baseline(baselines_folder(options, environ), options.compare)
    read_bench_json(path)
    return path


def bench_phase(
    state: StackState, options: BenchOptions, run_dir: Path, progress: Progress
) -> dict[str, Any]:
    """The suite against the stack, its table printed; the summary for results.json."""
    summary = run_suite(
        BenchRequest(
            target=state.backend_url,
            dsn=state.db_dsn,
            run_dir=run_dir,
            bcrypt_rounds=options.bcrypt_rounds or state.bcrypt_rounds,
            rounds=options.rounds,
            warmup=options.warmup,
            targets_file=options.targets_file,
            repo_root=REPO_ROOT,
        ),
        progress,
    )
    table = bench_table(summary)
    (run_dir / "bench-table.txt").write_text("\n".join(table) + "\n")
    for line in table:
        progress(line)
    return summary


def run_bench(
    state: StackState, options: BenchOptions, environ: Mapping[str, str], progress: Progress
) -> int:
    """`harness bench`: the suite, then (optionally) the gate and a saved baseline."""
    baseline_path = check_bench_options(options, environ)
    run_dir = new_run_dir(reports_root(options.reports_dir, environ), "bench")
    started = datetime.now(UTC)
    summary = bench_phase(state, options, run_dir, progress)
    try:
        return _bench_results(
            state, options, environ, progress, run_dir, summary, baseline_path, started
        )
    finally:
        if (run_dir / "results.json").exists():
            for path in build_report(run_dir):
                progress(f"report: {path}")


def _bench_results(
    state: StackState,
    options: BenchOptions,
    environ: Mapping[str, str],
    progress: Progress,
    run_dir: Path,
    summary: dict[str, Any],
    baseline_path: Path | None,
    started: datetime,
) -> int:
    bench_json = run_dir / BENCH_JSON
    comparison = None
    if baseline_path is not None and bench_json.exists():
        rows = compare(
            read_bench_json(baseline_path),
            read_bench_json(bench_json),
            {row["name"]: row["tolerance"] for row in summary["benchmarks"]},
        )
        table = comparison_table(rows, str(options.compare))
        (run_dir / f"compare-{options.compare}.txt").write_text("\n".join(table) + "\n")
        for line in table:
            progress(line)
        comparison = {"baseline": options.compare, "rows": rows, "failed": gate_failed(rows)}
    if options.save_baseline is not None:
        if not bench_json.exists():
            raise StackError(
                "the suite measured nothing, so there is no baseline to save",
                f"see {run_dir / 'bench.log'}",
            )
        saved = save_baseline(
            bench_json, baselines_folder(options, environ), options.save_baseline, commit()
        )
        progress(f"baseline {options.save_baseline!r} saved: {saved}")
    failed = summary["verdict"] == "FAIL" or bool(comparison and comparison["failed"])
    results = {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "run": {
            "id": run_dir.name,
            "kind": "bench",
            "provider": state.provider,
            "stack_id": state.stack_id,
            "target": state.backend_url,
            "started_at": started.isoformat(timespec="seconds"),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": commit(),
            "host": platform.node(),
            "python": sys.version.split()[0],
        },
        "benchmarks": summary,
        "comparison": comparison,
        "verdict": "FAIL" if failed else "PASS",
    }
    (run_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    progress(f"verdict: {results['verdict']}")
    progress(f"results: {run_dir / 'results.json'}")
    return EXIT_FAIL if failed else EXIT_PASS
