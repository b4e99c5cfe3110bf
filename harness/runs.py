"""A load run end to end: run folder, Locust against the stack, the verdict, results.json."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
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
    tolerance_of,
)
from harness.bench import check_name as check_baseline_name
from harness.errors import ConfigError, StackError
from harness.images import build_images
from harness.labels import Owner, labels_for
from harness.load.runner import LoadPlan, read_endpoints, run_in_docker, run_locally
from harness.load.shapes import resolve_shape, user_classes
from harness.pipeline import REPO_ROOT, Progress, SeedOptions, UpOptions, bring_up, seed_stack
from harness.seed import DEFAULT_PASSWORD, MANIFEST, USERNAMES
from harness.stack import StackState, current, harness_home, is_alive, stop
from harness.verdict import evaluate, load_slo

RESULTS_SCHEMA_VERSION = 1
EXIT_PASS, EXIT_FAIL = 0, 1


@dataclass(frozen=True)
class LoadOptions:
    shape: str = "load"
    scenario: str = "mixed"
    users: int | None = None
    duration_s: int | None = None
    spawn_rate: float | None = None
    warmup_s: int | None = None
    workers: int | None = None
    slo_file: Path | None = None
    reports_dir: Path | None = None
    http_client: str = "fast"
    ui: bool = False


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


def reports_root(options: LoadOptions | BenchOptions, environ: Mapping[str, str]) -> Path:
    root = options.reports_dir or Path(environ.get("HARNESS_REPORTS") or REPO_ROOT / "reports")
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"the reports folder {root} is not writable ({exc.strerror})",
            "choose another with --reports DIR (or HARNESS_REPORTS)",
        ) from None
    return root


def new_run_dir(root: Path, shape: str) -> Path:
    run_id = datetime.now(UTC).strftime("%Y%m%d-%H%M%S") + f"-{shape}"
    run_dir = root / run_id
    suffix = 1
    while run_dir.exists():
        suffix += 1
        run_dir = root / f"{run_id}-{suffix}"
    run_dir.mkdir(parents=True)
    latest = root / "latest"
    tmp = root / ".latest.tmp"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(run_dir.name)
    tmp.replace(latest)
    return run_dir


def _commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


def _seed_info(state: StackState) -> tuple[Path | None, str, dict[str, Any] | None]:
    folder = Path(state.folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None, DEFAULT_PASSWORD, None
    usernames = folder / USERNAMES
    summary = {k: manifest.get(k) for k in ("seed", "checksum", "total_rows")}
    summary["profile"] = (manifest.get("profile") or {}).get("name")
    return (usernames if usernames.exists() else None), str(manifest.get("password")), summary


def running_stack(environ: Mapping[str, str]) -> StackState:
    state = current(harness_home(environ, REPO_ROOT))
    if state is None or not is_alive(state):
        raise StackError(
            "no stack is up", "start one with `make harness-up` (or use make full-load)"
        )
    return state


def run_load(
    state: StackState,
    options: LoadOptions,
    environ: Mapping[str, str],
    progress: Progress,
    run_dir: Path | None = None,
    bench: dict[str, Any] | None = None,
) -> int:
    """Locust against the stack, then the verdict; `bench` (the suite's summary) joins it."""
    shape = resolve_shape(
        options.shape, options.users, options.duration_s, options.spawn_rate, options.warmup_s
    )
    classes = user_classes(options.scenario)
    slo = load_slo(options.slo_file)
    workers = options.workers or os.cpu_count() or 1
    if workers < 1:
        raise ConfigError(f"--workers {workers} must be 1 or more", "give a positive number")
    run_dir = run_dir or new_run_dir(reports_root(options, environ), shape.name)
    usernames, password, seed_summary = _seed_info(state)
    if usernames is None:
        progress(
            "note: the stack is not seeded; ContraVento users will register instead of logging in"
        )
    plan = LoadPlan(
        run_dir=run_dir,
        classes=classes,
        stages=shape.stages(),
        warmup_s=shape.warmup_s,
        total_s=shape.warmup_s + shape.duration_s,
        workers=workers,
        usernames_file=usernames,
        password=password,
        http_client=options.http_client,
    )
    started = datetime.now(UTC)
    progress(
        f"load: shape {shape.name}, {shape.users} users, {shape.warmup_s}s warm-up + "
        f"{shape.duration_s}s, {workers} worker(s), scenario {options.scenario} -> {run_dir}"
    )
    if state.provider == "docker":
        images = build_images(REPO_ROOT, progress=lambda _: None)
        outcome = run_in_docker(
            plan,
            image=images.locust,
            network=str(state.network),
            target="http://backend:8000",
            labels=labels_for(state.stack_id, Owner.current(), "locust"),
            name_prefix=f"{state.stack_id}-{run_dir.name}",
            progress=progress,
            ui_port=8089 if options.ui else None,
        )
    else:
        outcome = run_locally(plan, target=state.backend_url, progress=progress, ui=options.ui)
    endpoints, aggregate = read_endpoints(run_dir)
    rows, verdict = evaluate(slo, endpoints)
    warnings = []
    if outcome.saturated:
        warnings.append(
            "load generator saturated: a worker ran above 90 % CPU; results are not trustworthy"
        )
    if outcome.interrupted:
        warnings.append("interrupted: partial results")
    if bench is not None and bench["verdict"] == "FAIL":
        verdict = "FAIL"
        warnings.append("benchmark suite: a benchmark failed its p95 target (see the bench table)")
    results = {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "run": {
            "id": run_dir.name,
            "shape": asdict(shape),
            "scenario": options.scenario,
            "user_classes": list(classes),
            "workers": workers,
            "http_client": options.http_client,
            "provider": state.provider,
            "stack_id": state.stack_id,
            "target": state.backend_url,
            "started_at": started.isoformat(timespec="seconds"),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": _commit(),
            "host": platform.node(),
            "python": sys.version.split()[0],
            "slo_file": slo.source,
            "seed": seed_summary,
            "partial": outcome.interrupted,
        },
        "endpoints": endpoints,
        "aggregate": aggregate,
        "slo": rows,
        "benchmarks": bench,
        "verdict": verdict,
        "load_generator_saturated": outcome.saturated,
        "warnings": warnings,
    }
    (run_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    for line in slo_table(rows, verdict, warnings):
        progress(line)
    progress(f"results: {run_dir / 'results.json'}")
    if outcome.interrupted:
        raise KeyboardInterrupt
    return EXIT_PASS if verdict == "PASS" else EXIT_FAIL


def slo_table(rows: list[dict[str, Any]], verdict: str, warnings: list[str]) -> list[str]:
    lines = [f"{'endpoint':<38} {'group':<20} {'p95 ms':>7} {'target':>7} {'fail %':>7}  result"]
    for r in rows:
        target = f"{r['target_p95_ms']:.0f}" if r["target_p95_ms"] else "-"
        result = "ok" if r["passed"] else f"FAIL {r['reason']}"
        group = r["group"] or "(failures only)"
        lines.append(
            f"{r['endpoint']:<38} {group:<20} {r['p95_ms']:>7.0f} {target:>7} "
            f"{r['failure_rate'] * 100:>6.2f}%  {result}"
        )
    lines += [f"warning: {w}" for w in warnings]
    lines.append(f"verdict: {verdict}")
    return lines


def full_load(
    up: UpOptions,
    seed: SeedOptions,
    load: LoadOptions,
    environ: Mapping[str, str],
    progress: Progress,
    bench: BenchOptions | None = None,
) -> int:
    """images -> stack (the running one, else a throwaway) -> seed -> bench -> load -> verdict.

    `bench` None skips the benchmark suite; otherwise it runs before the load (latency in
    isolation) and its summary joins the run's results.json.
    """
    shape = resolve_shape(load.shape, load.users, load.duration_s, load.spawn_rate, load.warmup_s)
    load_slo(load.slo_file)  # bad input fails before anything starts
    root = reports_root(load, environ)
    if bench is not None:
        check_bench_options(bench, environ)
    existing = current(harness_home(environ, REPO_ROOT))
    reuse = existing is not None and is_alive(existing)
    progress(
        "== stack: " + ("reusing the running stack" if reuse else "starting a throwaway stack")
    )
    state, _ = bring_up(up if reuse else replace(up, persistent=False), environ, progress)
    try:
        if not (Path(state.folder) / MANIFEST).exists():
            progress(f"== seed: profile {seed.profile}")
            seed_stack(state, seed, progress)
        else:
            progress("== seed: the stack is already seeded; reusing its data")
        run_dir = new_run_dir(root, shape.name)
        summary = None
        if bench is not None:
            progress("== bench: the benchmark suite, latency in isolation")
            summary = bench_phase(state, bench, run_dir, progress)
        progress("== load")
        return run_load(state, load, environ, progress, run_dir=run_dir, bench=summary)
    finally:
        if not reuse:
            progress(f"== tear down: throwaway stack {state.stack_id}")
            stop(state)


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
    run_dir = new_run_dir(reports_root(options, environ), "bench")
    started = datetime.now(UTC)
    summary = bench_phase(state, options, run_dir, progress)
    bench_json = run_dir / BENCH_JSON
    comparison = None
    if baseline_path is not None and bench_json.exists():
        targets = load_targets(options.targets_file)
        rows = compare(
            read_bench_json(baseline_path),
            read_bench_json(bench_json),
            {name: tolerance_of(targets, name) for name in targets["benchmarks"]},
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
            bench_json, baselines_folder(options, environ), options.save_baseline, _commit()
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
            "commit": _commit(),
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
