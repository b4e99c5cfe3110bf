"""One function per user command: options checked once, the phases composed, an outcome back."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.comparison_record import ComparisonFile
from harness.console import Column, Table, show_table
from harness.docker_api import docker_client_or_none
from harness.errors import ConfigError
from harness.images import BaseMode, BuiltImages, build_images, tag_latest
from harness.load.runner import (
    latency_block,
    read_failures,
    read_users,
    read_window,
    run_remote_workers,
)
from harness.owner import Owner
from harness.pipeline.bench_phase import bench_phase, gate_phase
from harness.pipeline.compare_phase import CompareOptions, check_compare, run_compare
from harness.pipeline.compare_table import show_verdict
from harness.pipeline.context import RunContext
from harness.pipeline.evidence import RunFiles, measured_window, measurements, test_bed
from harness.pipeline.judge import judge
from harness.pipeline.load_phase import Monitoring, check_remote_workers, load_phase, monitored
from harness.pipeline.profile_phase import finish, new_profiler
from harness.pipeline.run_folder import (
    EXIT_FAIL,
    EXIT_INVALID,
    EXIT_PASS,
    check_writable,
    new_run_dir,
    run_meta,
    write_results,
)
from harness.pipeline.specs import (
    BenchOptions,
    LoadOptions,
    LoadSpec,
    SeedOptions,
    SeedSpec,
    UpOptions,
    check_bench,
    check_load,
    check_seed,
    check_up,
)
from harness.pipeline.stack_phase import (
    bring_up,
    cached_seed,
    is_seeded,
    running_stack,
    seed_cached,
    seed_stack,
    seeded_users,
)
from harness.profile.profiler import Skip
from harness.project import describe, load_project
from harness.record import (
    RESULTS,
    Arrivals,
    Capacity,
    EndpointStats,
    RunRecord,
    SloRow,
    Stage,
    UserCounts,
)
from harness.report import build_run_outputs, failure_line, incident_line, users_line
from harness.seed import DEFAULT_PASSWORD
from harness.stack import (
    CleanReport,
    Stack,
    attach_external,
    clean,
    current,
    down,
    stack_of,
    watchdog,
)
from harness.verdict.capacity import answer_rows, search
from harness.verdict.causes import cause_lines, diagnose


@dataclass(frozen=True)
class RunOutcome:
    """A run folder and what it concluded; the exit code the command ends with."""

    run_dir: Path
    record: RunRecord

    @property
    def exit_code(self) -> int:
        return {"PASS": EXIT_PASS, "INVALID": EXIT_INVALID}.get(self.record.verdict, EXIT_FAIL)


def start_watchdog(ctx: RunContext) -> subprocess.Popen[bytes]:
    """A watcher that cleans up after this command if it is killed (harness.stack.watchdog)."""
    return watchdog.spawn(ctx.home, Owner.current())


def reap(ctx: RunContext) -> None:
    """Every command that touches stacks first removes what a killed run left behind."""
    found = clean(ctx.home, docker_client_or_none())
    if found.total:
        ctx.progress(f"removed what killed runs left: {found.describe()}")


def images(ctx: RunContext, base: BaseMode) -> tuple[BuiltImages, tuple[str, str, str]]:
    built = build_images(ctx.repo_root, base=base, progress=ctx.progress)
    return built, tag_latest(built)


def up(ctx: RunContext, options: UpOptions) -> tuple[Stack, bool]:
    return bring_up(ctx, check_up(options, ctx))


def config(ctx: RunContext, path: Path | None) -> dict[str, Any]:
    """The project description a stack would run, resolved, secrets written in it masked."""
    return describe(load_project(path, ctx.cwd))


def stop_current(ctx: RunContext) -> Stack | None:
    state = down(ctx.home)
    return stack_of(state) if state is not None else None


def status(ctx: RunContext) -> tuple[Stack | None, bool]:
    state = current(ctx.home)
    stack = stack_of(state) if state is not None else None
    return stack, stack is not None and stack.alive()


def clean_up(ctx: RunContext) -> CleanReport:
    return clean(ctx.home, docker_client_or_none())


def seed(ctx: RunContext, options: SeedOptions) -> dict[str, Any]:
    """Seed the current stack's database; a bad profile is refused before anything else."""
    spec = check_seed(options)
    return seed_stack(ctx, running_stack(ctx), spec)


def bench(
    ctx: RunContext,
    options: BenchOptions,
    target: str | None = None,
    db_dsn: str | None = None,
    allow_remote: bool = False,
) -> RunOutcome:
    """`harness bench`: the suite against the current stack (or --target), gate, baseline."""
    spec = check_bench(options, ctx)  # bad input fails before any traffic
    if target is not None:
        stack = stack_of(attach_external("external", ctx.home, target, db_dsn, allow_remote))
    elif db_dsn is not None or allow_remote:
        raise ConfigError(
            "--db-dsn and --allow-remote-target only go with --target",
            "without --target the suite uses the current stack and its database",
        )
    else:
        stack = running_stack(ctx)
    run_dir = new_run_dir(check_writable(ctx.reports), "bench")
    started = datetime.now(UTC)
    summary = bench_phase(ctx, stack, spec, run_dir)
    try:
        comparison = gate_phase(ctx, spec, run_dir, summary)
        failed = summary["verdict"] == "FAIL" or bool(comparison and comparison["failed"])
        results = {
            "run": run_meta(ctx.repo_root, run_dir, "bench", stack, started),
            "benchmarks": summary,
            "comparison": comparison,
            "verdict": "FAIL" if failed else "PASS",
        }
        record = write_results(run_dir, results)
        ctx.progress(f"verdict: {record.verdict}")
        ctx.progress(f"results: {run_dir / RESULTS}")
        return RunOutcome(run_dir, record)
    finally:
        if (run_dir / RESULTS).exists():
            for report in build_run_outputs(run_dir):
                ctx.progress(f"report: {report}")


def load(ctx: RunContext, options: LoadOptions) -> RunOutcome:
    """`harness load`: a run folder, monitors, Locust, the verdict, the report."""
    spec = check_load(options)
    stack = running_stack(ctx)
    check_remote_workers(stack, spec)
    run_dir = new_run_dir(check_writable(ctx.reports), spec.shape.name)
    with monitored(ctx, stack, run_dir) as monitoring:
        return _load_and_judge(ctx, stack, spec, run_dir, None, monitoring)


def full_load(
    ctx: RunContext,
    up_options: UpOptions,
    seed_options: SeedOptions,
    load_options: LoadOptions,
    bench_options: BenchOptions | None,
) -> RunOutcome:
    """images -> stack (the running one, else a throwaway) -> seed -> bench -> load -> verdict.

    `bench_options` None skips the benchmark suite; otherwise it runs before the load (latency
    in isolation) and its summary joins the run's results.json.
    """
    spec = check_load(load_options)  # bad input fails before anything starts
    seed_spec = check_seed(seed_options)
    bench_spec = check_bench(bench_options, ctx) if bench_options is not None else None
    check_writable(ctx.reports)
    stack, reuse = bring_up(ctx, replace(check_up(up_options, ctx), persistent=False))
    if reuse:
        ctx.progress(f"== stack: reusing the running {stack.describe()}")
    try:
        check_remote_workers(stack, spec)
        _seed_for_load(ctx, stack, seed_spec, kept=reuse)
        run_dir = new_run_dir(ctx.reports, spec.shape.name)
        with monitored(ctx, stack, run_dir) as monitoring:
            summary = None
            if bench_spec is not None:
                ctx.progress("== bench: the benchmark suite, latency in isolation")
                summary = bench_phase(ctx, stack, bench_spec, run_dir)
            ctx.progress("== load")
            return _load_and_judge(ctx, stack, spec, run_dir, summary, monitoring)
    finally:
        if not reuse:
            ctx.progress(f"== tear down: throwaway {stack.describe()}")
            stack.stop()


def _seed_for_load(ctx: RunContext, stack: Stack, spec: SeedSpec, kept: bool) -> None:
    """A kept stack's data comes back from its template (the same state every run), or is
    seeded and kept as one; a throwaway stack is seeded (a template would go with it)."""
    cacheable = kept and stack.restarts_backend
    if cacheable and cached_seed(ctx, stack, spec) is not None:
        ctx.progress("== seed: restored from the stack's template: every run starts alike")
    elif is_seeded(stack):
        ctx.progress("== seed: the stack is already seeded; reusing its data")
    elif cacheable:
        ctx.progress(f"== seed: profile {spec.profile.name}, kept as a template for next runs")
        seed_cached(ctx, stack, spec)
    else:
        ctx.progress(f"== seed: profile {spec.profile.name}")
        seed_stack(ctx, stack, spec)


def _load_and_judge(
    ctx: RunContext,
    stack: Stack,
    spec: LoadSpec,
    run_dir: Path,
    bench: dict[str, Any] | None,
    monitoring: Monitoring,
) -> RunOutcome:
    started = datetime.now(UTC)
    users = seeded_users(stack, DEFAULT_PASSWORD)
    wanted = spec.options.profile and not spec.options.ui
    profiler = new_profiler(ctx, stack, wanted, spec.options.profile_rate_hz, run_dir)
    began: list[bool] = []

    def window_began(window: dict[str, Any]) -> None:
        sampled = "" if isinstance(profiler.target, Skip) else ", py-spy on the backend"
        ctx.progress(f"== measured window begins: statistics reset{sampled}")
        profiler.start()
        began.append(True)

    try:
        result = load_phase(ctx, stack, spec, users, run_dir, on_window=window_began)
    finally:
        profile = finish(profiler, bool(began))
    ended = time.time()
    monitoring.stop()  # the samplers' files are complete before they are judged
    options = spec.options
    # The shape's peak is the plan; with the Locust UI the users are set by hand instead.
    planned = None if options.ui else spec.shape.users
    reached = read_users(run_dir, planned)
    counts = UserCounts.model_validate(reached)
    failures = read_failures(run_dir)
    window = measured_window(run_dir, spec.shape, ended)
    files = RunFiles.read(run_dir, *((window.start, window.end) if window else (0.0, ended)))
    latency = latency_block(run_dir)
    searching = spec.shape.kind == "capacity"  # each step judges its own arrivals
    arrivals = None if searching else (latency or {}).get("arrivals")
    bed, host, coverage = test_bed(
        run_dir,
        files,
        window,
        counts,
        (users_line(counts),),
        result.saturated,
        options.worker_cpus,
        Arrivals.model_validate(arrivals) if arrivals else None,
        spec.shape.users if spec.shape.model == "open" else None,
    )
    capacity = capacity_search(spec, run_dir, latency) if searching else None
    judgement = judge(spec.slo, result, bench, reached, bed, capacity)
    causes = None
    if judgement.verdict == "FAIL" and judgement.failing and window is not None:
        causes = diagnose(
            measurements(
                files,
                [SloRow.model_validate(r) for r in judgement.failing],
                [EndpointStats.model_validate(e) for e in result.endpoints],
                EndpointStats.model_validate(result.aggregate) if result.aggregate else None,
                window,
                host,
                profile,
                backend_workers=stack.backend_workers,
                hash_rounds=stack.hash_rounds,
                generator_saturated=any(r.code == "generator_saturated" for r in judgement.invalid),
            )
        )
    run = run_meta(ctx.repo_root, run_dir, "load", stack, started) | {
        "shape": asdict(spec.shape) | {"model": spec.shape.model},
        "scenario": spec.scenario,
        "user_classes": list(spec.classes),
        "workers": spec.workers,
        "remote_workers": options.remote_workers,
        "http_client": options.http_client,
        "slo_file": spec.slo.source,
        "seed": users.summary,
        "partial": result.interrupted or result.aborted is not None,
        "aborted": result.aborted,
    }
    results = {
        "run": run,
        "endpoints": result.endpoints,
        "aggregate": result.aggregate,
        "slo": judgement.rows,
        "benchmarks": bench,
        "incidents": result.incidents,
        "verdict": judgement.verdict,
        "load_generator_saturated": result.saturated,
        "warnings": judgement.warnings,
        "users": reached,
        "failures": failures,
        "invalid": [r.model_dump() for r in judgement.invalid],
        "causes": None if causes is None else [c.model_dump() for c in causes],
        "window": window.model_dump() if window else None,
        "host": host.model_dump() if host else None,
        "coverage": coverage,
        "profile": profile.model_dump(),
        "latency": latency,
        "capacity": capacity[0].model_dump() if capacity else None,
    }
    record = write_results(run_dir, results)
    said = [f"service incident: {incident_line(i)}" for i in result.incidents]
    said_users = users_line(reached)
    notes = [] if said_users in judgement.warnings else [said_users]
    notes += [f"failures: {failure_line(f)}" for f in (failures or [])[:FAILURE_LINES]]
    notes += window_lines(record)
    table = slo_table(judgement.rows, judgement.verdict, said + judgement.warnings, notes)
    show_table(ctx.progress, table)
    if record.capacity is not None:
        show_table(ctx.progress, capacity_table(record.capacity))
    for line in verdict_lines(record):
        ctx.progress(line)
    ctx.progress(f"results: {run_dir / RESULTS}")
    if result.interrupted:
        raise KeyboardInterrupt
    return RunOutcome(run_dir, record)


def window_lines(record: RunRecord) -> list[str]:
    """The measured window in a line: how long the warm-up really ran, and whether it settled."""
    w = record.window
    if w is None:
        return ["window: the measured window never began (the load stopped in its warm-up)"]
    state = (
        "ramp measured on purpose"
        if w.ramp_measured
        else {True: "steady", False: "NOT steady", None: "steadiness not assessed"}[w.steady]
    )
    users = f" with {w.users} users" if w.users is not None else ""
    measured = f"{w.end - w.start:.0f}s measured after {w.warmup_s:.0f}s of warm-up"
    return [f"window: {measured}{users}; {state}"]


def verdict_lines(record: RunRecord) -> list[str]:
    """Under the table: why the run is INVALID, or why it failed, each with its evidence."""
    lines = []
    for reason in record.invalid:
        lines.append(f"INVALID: {reason.message}")
        lines += [f"  - {e}" for e in reason.evidence]
        lines.append(f"  hint: {reason.hint}")
    if record.causes is not None:
        lines.append("why it failed:" if record.causes else "why it failed: " + cause_lines([])[0])
        for line, cause in zip(cause_lines(record.causes), record.causes, strict=False):
            lines.append(f"  {line}")
            lines += [f"     - {e}" for e in cause.evidence]
            if cause.hint:
                lines.append(f"     hint: {cause.hint}")
    return lines


FAILURE_LINES = 5  # the most frequent failure groups under the SLO table; the report has all


def capacity_table(found: Capacity) -> Table:
    """The capacity search's steps, and its answer under them."""
    rows = []
    for step in found.steps:
        result = "held" if step.held else ("not judged" if not step.judged else "broke")
        why = "; ".join(step.reasons) if step.reasons else (step.closest or "")
        dropped = "-" if step.dropped is None else str(step.dropped)
        late = "-" if step.late is None else str(step.late)
        rows.append(
            (
                str(step.index + 1),
                f"{step.rate:g}",
                f"{step.sent_per_s:.1f}" if step.judged else "-",
                dropped,
                late,
                result,
                why,
            )
        )
    answer = (
        f"capacity: at least {found.rate:g} iterations/s: every step held (raise --rate or "
        "--steps to find where it breaks)"
        if found.rate is not None and found.at_least
        else f"capacity: {found.rate:g} iterations/s, the highest rate whose step held"
        if found.rate is not None
        else f"capacity: below the first step ({found.steps[0].rate:g}/s), which broke"
        if found.steps
        else "capacity: no step was measured"
    )
    stopped = (f"stopped at {found.stopped}",) if found.stopped else ()
    return Table(
        columns=(
            Column("step", "right", width=4),
            Column("rate/s", "right", width=7),
            Column("req/s", "right", width=7),
            Column("dropped", "right", width=7),
            Column("late", "right", width=5),
            Column("result", width=10, gap=2),
            Column("evidence"),
        ),
        rows=tuple(rows),
        footer=(*stopped, answer),
    )


def slo_table(
    rows: list[dict[str, Any]], verdict: str, warnings: list[str], notes: Sequence[str] = ()
) -> Table:
    """The SLO rows; under them the notes (users, failure groups), the warnings, the verdict."""
    return Table(
        columns=(
            Column("endpoint", width=38),
            Column("group", width=20),
            Column("p95 ms", "right", width=7),
            Column("target", "right", width=7),
            Column("fail %", "right", width=7),
            Column("result", gap=2),
        ),
        rows=tuple(
            (
                r["endpoint"],
                r["group"] or "(failures only)",
                f"{r['p95_ms']:.0f}",
                f"{r['target_p95_ms']:.0f}" if r["target_p95_ms"] else "-",
                f"{r['failure_rate'] * 100:.2f}%",
                "ok" if r["passed"] else f"FAIL {r['reason']}",
            )
            for r in rows
        ),
        footer=(*notes, *(f"warning: {w}" for w in warnings), f"verdict: {verdict}"),
    )


@dataclass(frozen=True)
class CompareOutcome:
    """A comparison's folder and verdict; exit 0 (no failure), 1 (B slower beyond the
    tolerance, or more queries), 3 (INVALID: the repetitions describe the test bed)."""

    folder: Path
    comparison: ComparisonFile

    @property
    def exit_code(self) -> int:
        if self.comparison.verdict == "INVALID":
            return EXIT_INVALID
        return EXIT_FAIL if self.comparison.failed else EXIT_PASS


def compare(ctx: RunContext, options: CompareOptions) -> CompareOutcome:
    """`harness compare`: versions checked, then built, stacks, repetitions, verdict, report."""
    spec = check_compare(options, ctx)  # bad input fails before any image or container
    reap(ctx)
    folder, comparison = run_compare(ctx, spec)
    show_verdict(ctx, comparison)
    ctx.progress(f"comparison: {folder}")
    return CompareOutcome(folder, comparison)


def worker(
    ctx: RunContext, master_host: str, master_port: int, processes: int, http_client: str
) -> int:
    return run_remote_workers(master_host, master_port, processes, http_client, ctx.progress)


def report(run_dir: Path) -> list[Path]:
    return build_run_outputs(run_dir)


def capacity_search(
    spec: LoadSpec, run_dir: Path, latency: dict[str, Any] | None
) -> tuple[Capacity, list[dict[str, Any]]]:
    """The capacity search's answer from the steps' histograms, and the SLO rows of its step."""
    stages = [Stage.model_validate(s) for s in (latency or {}).get("stages") or []]
    stopped = (read_window(run_dir) or {}).get("stopped")
    found = search(stages, spec.slo, stopped)
    return found, answer_rows(stages, spec.slo, found)
