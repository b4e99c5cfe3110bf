"""A load run end to end: run folder, Locust against the stack, the verdict, results.json."""

from __future__ import annotations

import ipaddress
import json
import os
import platform
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from harness.bench_runs import BenchOptions, bench_phase, check_bench_options
from harness.errors import ConfigError, StackError
from harness.images import build_images
from harness.labels import STACK as STACK_LABEL
from harness.labels import Owner, labels_for
from harness.load.runner import LoadPlan, read_endpoints, run_in_docker, run_locally
from harness.load.shapes import resolve_shape, user_classes
from harness.monitor import MonitorRequest, Monitors
from harness.monitor.services import (
    DOWN_GRACE_S,
    ContainerWatch,
    ProcessWatch,
    ServiceWatch,
)
from harness.pipeline import REPO_ROOT, Progress, SeedOptions, UpOptions, bring_up, seed_stack
from harness.report import build_report, incident_line
from harness.run_folder import (
    EXIT_FAIL,
    EXIT_PASS,
    RESULTS_SCHEMA_VERSION,
    commit,
    new_run_dir,
    reports_root,
)
from harness.seed import DEFAULT_PASSWORD, MANIFEST, USERNAMES
from harness.stack import StackState, current, harness_home, is_alive, stop
from harness.verdict import evaluate, load_slo


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
    down_grace_s: float = DOWN_GRACE_S
    remote_workers: int = 0  # workers other machines add with `harness worker`
    master_bind: str = "127.0.0.1"  # where the master listens for them, for this run only
    master_port: int | None = None


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


def monitor_request(state: StackState, run_dir: Path) -> MonitorRequest:
    """What to sample for this stack: its containers (Docker) or its backend process."""
    return MonitorRequest(
        run_dir=run_dir,
        container_label=f"{STACK_LABEL}={state.stack_id}" if state.provider == "docker" else None,
        backend_pid=state.pid if state.provider == "local" else None,
        db_dsn=state.db_dsn,
    )


@contextmanager
def monitored(state: StackState, run_dir: Path, progress: Progress) -> Iterator[None]:
    """Monitors on for the block; off, then the report built, however the block ends."""
    monitors = Monitors(monitor_request(state, run_dir)).start()
    progress(
        "== monitors on: "
        + ("containers" if state.provider == "docker" else "processes")
        + (", PostgreSQL" if monitors.postgres else "")
    )
    try:
        yield
    finally:
        summary = monitors.stop()
        counts = ", ".join(f"{name} {n}" for name, n in sorted(summary["containers"].items()))
        progress(f"== monitors off: samples {counts or 'none'}")
        for note in summary["notes"]:
            progress(f"note: {note}")
        if (run_dir / "results.json").exists():
            for path in build_report(run_dir):
                progress(f"report: {path}")


def run_load(
    state: StackState,
    options: LoadOptions,
    environ: Mapping[str, str],
    progress: Progress,
) -> int:
    """`harness load`: a run folder, monitors, Locust, the verdict, the report."""
    shape = resolve_shape(
        options.shape, options.users, options.duration_s, options.spawn_rate, options.warmup_s
    )
    load_slo(options.slo_file)
    check_remote_workers(state, options)
    run_dir = new_run_dir(reports_root(options.reports_dir, environ), shape.name)
    with monitored(state, run_dir, progress):
        return load_phase(state, options, environ, progress, run_dir)


def load_phase(
    state: StackState,
    options: LoadOptions,
    environ: Mapping[str, str],
    progress: Progress,
    run_dir: Path,
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
        remote_workers=options.remote_workers,
    )
    started = datetime.now(UTC)
    progress(
        f"load: shape {shape.name}, {shape.users} users, {shape.warmup_s}s warm-up + "
        f"{shape.duration_s}s, {workers} worker(s), scenario {options.scenario} -> {run_dir}"
    )
    watch = service_watch(state, options.down_grace_s)
    try:
        abort = watch.abort_reason if watch is not None else None
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
                abort=abort,
            )
        else:
            outcome = run_locally(
                plan,
                target=state.backend_url,
                progress=progress,
                ui=options.ui,
                abort=abort,
                master_bind=options.master_bind,
                master_port=options.master_port,
            )
    finally:
        if watch is not None:
            watch.stop()
            watch.save_log_tails(run_dir, stack_secrets(state))
    incidents = watch.records() if watch is not None else []
    endpoints, aggregate = read_endpoints(run_dir)
    rows, verdict = evaluate(slo, endpoints)
    warnings = []
    if incidents:
        verdict = "FAIL"  # results.json keeps them under "incidents"; the report says why
    if outcome.aborted:
        warnings.append(f"aborted, partial results: {outcome.aborted}")
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
            "remote_workers": options.remote_workers,
            "http_client": options.http_client,
            "provider": state.provider,
            "stack_id": state.stack_id,
            "target": state.backend_url,
            "started_at": started.isoformat(timespec="seconds"),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": commit(),
            "host": platform.node(),
            "python": sys.version.split()[0],
            "slo_file": slo.source,
            "seed": seed_summary,
            "partial": outcome.interrupted or outcome.aborted is not None,
            "aborted": outcome.aborted,
        },
        "endpoints": endpoints,
        "aggregate": aggregate,
        "slo": rows,
        "benchmarks": bench,
        "incidents": incidents,
        "verdict": verdict,
        "load_generator_saturated": outcome.saturated,
        "warnings": warnings,
    }
    (run_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    said = [f"service incident: {incident_line(i)}" for i in incidents] + warnings
    for line in slo_table(rows, verdict, said):
        progress(line)
    progress(f"results: {run_dir / 'results.json'}")
    if outcome.interrupted:
        raise KeyboardInterrupt
    return EXIT_PASS if verdict == "PASS" else EXIT_FAIL


def check_remote_workers(state: StackState, options: LoadOptions) -> None:
    """Workers on other machines need a master they can reach and a target they can reach."""
    try:
        address = ipaddress.ip_address(options.master_bind)
    except ValueError:
        raise ConfigError(
            f"--master-bind {options.master_bind!r} is not an IP address",
            "give the address to listen on: 0.0.0.0 (every interface) or one of this machine's",
        ) from None
    if not options.remote_workers:
        if not address.is_loopback or options.master_port is not None:
            raise ConfigError(
                "--master-bind and --master-port only go with --remote-workers",
                "the master's port is opened only for a run that expects remote workers",
            )
        return
    if state.provider != "external":
        raise ConfigError(
            f"remote workers cannot reach this {state.provider} stack: its backend "
            f"({state.backend_url}) listens on this machine only",
            "point the harness at a backend every machine can reach: `harness up --target URL` "
            "(with --allow-remote-target if it is not on this machine), then "
            "`harness load --remote-workers N --master-bind 0.0.0.0`",
        )


def service_watch(state: StackState, grace_s: float) -> ServiceWatch | None:
    """What watches the stack's services during the load; nothing for an external target."""
    if state.provider == "docker":
        return ContainerWatch(f"{STACK_LABEL}={state.stack_id}", grace_s=grace_s).start()
    if state.provider == "local" and state.pid is not None:
        return ProcessWatch(state.pid, Path(state.folder) / "backend.log", grace_s).start()
    return None


def stack_secrets(state: StackState) -> list[str]:
    """Values that must not reach the run folder: the database password of the stack's DSN."""
    password = urlsplit(state.db_dsn).password if state.db_dsn else None
    return [unquote(password)] if password else []


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
    root = reports_root(load.reports_dir, environ)
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
        with monitored(state, run_dir, progress):
            summary = None
            if bench is not None:
                progress("== bench: the benchmark suite, latency in isolation")
                summary = bench_phase(state, bench, run_dir, progress)
            progress("== load")
            return load_phase(state, load, environ, progress, run_dir, bench=summary)
    finally:
        if not reuse:
            progress(f"== tear down: throwaway stack {state.stack_id}")
            stop(state)
