"""`harness compare`: two versions of the backend, measured in alternation on one machine.

Each version gets its own throwaway stack (PostgreSQL + its backend, from its own image),
seeded once and kept as a template database. Then the repetitions run in pairs whose order
alternates (A B, B A, A B, ...): before each, the version's database is restored from its
template with the backend stopped, so every repetition starts from the same state and a fresh
backend process; the benchmark suite (optional) and the load run against it under the
monitors. What each repetition measured goes into comparison.json; harness.verdict.versus
judges the versions over the repetitions, and the comparison report shows them side by side.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from harness.comparison_record import (
    ComparisonFile,
    RepBench,
    RepEndpoint,
    Repetition,
    RepResource,
    Settings,
    VersionInfo,
    write_comparison,
)
from harness.errors import ConfigError
from harness.images import BaseMode, build_images
from harness.load.runner import read_history, read_percentiles, read_users
from harness.monitor import read_samples
from harness.pipeline.bench_phase import bench_phase
from harness.pipeline.context import RunContext
from harness.pipeline.evidence import RunFiles, measured_window, test_bed
from harness.pipeline.load_phase import load_phase, monitored
from harness.pipeline.run_folder import check_writable, new_run_dir
from harness.pipeline.specs import (
    BenchOptions,
    BenchSpec,
    LoadOptions,
    LoadSpec,
    SeedOptions,
    SeedSpec,
    check_bench,
    check_load,
    check_seed,
)
from harness.pipeline.stack_phase import SeedCache, seed_cached, seeded_users
from harness.pipeline.versions import Version, VersionSpec, build_version, check_version
from harness.record import UserCounts
from harness.report import build_comparison_report
from harness.seed import DEFAULT_PASSWORD
from harness.stack import Stack, UpRequest, resolve_provider, stack_of, up
from harness.verdict.validity import invalid_reasons
from harness.verdict.versus import compare_rows, overall

# 5 pairs of ~1 min (a 20 s warm-up, 20 s measured, the suite, the restore): ~10 min here
DEFAULT_REPEATS = 5
DEFAULT_USERS = 20
DEFAULT_DURATION_S = 20
DEFAULT_BENCH_ROUNDS = 5
GROUPS = {"backend": "backend", "postgres": "postgres", "locust-master": "locust"}
GROUPS["locust-worker"] = "locust"


@dataclass(frozen=True)
class CompareOptions:
    base: str
    candidate: str
    repeats: int = DEFAULT_REPEATS
    users: int = DEFAULT_USERS
    duration_s: int = DEFAULT_DURATION_S
    warmup_s: int | None = None
    spawn_rate: float | None = None
    scenario: str = "mixed"
    workers: int | None = None
    profile: str = "small"
    seed: int = 1
    bench: bool = True
    bench_rounds: int = DEFAULT_BENCH_ROUNDS
    slo_file: Path | None = None
    bcrypt_rounds: int = 12
    backend_workers: int = 1
    base_images: BaseMode = "auto"
    config: Path | None = None  # the project file describing the backend (git revisions, images)


@dataclass(frozen=True)
class CompareSpec:
    options: CompareOptions
    versions: tuple[VersionSpec, VersionSpec]
    load: LoadSpec
    seed: SeedSpec
    bench: BenchSpec | None


def check_compare(options: CompareOptions, ctx: RunContext) -> CompareSpec:
    """Every input checked before an image is built or a container started."""
    if options.repeats < 3:
        raise ConfigError(
            f"--repeats {options.repeats} is too few pairs to call anything",
            "use 3 or more: with two, an interval over ~25 metrics at once is wider than any"
            " change (5 is the default)",
        )
    if options.duration_s < 10:
        raise ConfigError(
            f"--duration {options.duration_s}s is too short to measure",
            "use 10 s or more per repetition (30 s is the default)",
        )
    if options.bench and options.bench_rounds < 1:
        raise ConfigError(f"--bench-rounds {options.bench_rounds}", "use 1 or more, or --no-bench")
    a = check_version("A", options.base, options.config, ctx.cwd)
    b = check_version("B", options.candidate, options.config, ctx.cwd)
    load = check_load(
        LoadOptions(
            shape="load",
            scenario=options.scenario,
            users=options.users,
            duration_s=options.duration_s,
            warmup_s=options.warmup_s,
            spawn_rate=options.spawn_rate,
            workers=options.workers,
            slo_file=options.slo_file,
            profile=False,
        )
    )
    seed = check_seed(SeedOptions(profile=options.profile, seed=options.seed))
    bench = (
        check_bench(BenchOptions(rounds=options.bench_rounds, warmup=1), ctx)
        if options.bench
        else None
    )
    check_writable(ctx.reports)
    if resolve_provider("auto", None) != "docker":
        raise ConfigError(
            "harness compare needs Docker: each version runs in its own stack of containers",
            "start the Docker daemon (or run on a machine that has one)",
        )
    return CompareSpec(options, (a, b), load, seed, bench)


def sequence(repeats: int) -> list[tuple[Literal["A", "B"], int]]:
    """(version, pair) in running order: A B, B A, A B, ... (each pair's order alternates, so
    a drift of the machine weighs on both versions alike)."""
    order: list[tuple[Literal["A", "B"], int]] = []
    for pair in range(1, repeats + 1):
        first, second = ("A", "B") if pair % 2 else ("B", "A")
        order += [(first, pair), (second, pair)]  # type: ignore[list-item]
    return order


@dataclass
class _Running:
    version: Version
    stack: Stack
    cache: SeedCache | None = None


def run_compare(ctx: RunContext, spec: CompareSpec) -> tuple[Path, ComparisonFile]:
    options = spec.options
    began = time.monotonic()
    started = datetime.now(UTC)
    folder = new_run_dir(ctx.reports, "compare")
    ctx.progress(f"compare: A = {options.base}, B = {options.candidate} -> {folder}")
    built = build_images(ctx.repo_root, base=options.base_images, progress=ctx.progress)
    versions = [
        build_version(v, folder, ctx.repo_root, options.base_images, ctx.progress)
        for v in spec.versions
    ]
    with ExitStack() as stacks:
        running: dict[str, _Running] = {}
        for version in versions:
            tag = version.spec.label
            ctx.progress(f"== version {tag}: a stack for {version.spec.name} ({version.image})")
            stack = stacks.enter_context(
                _throwaway(ctx, version, built.postgres, built.locust, options)
            )
            running[tag] = _Running(version, stack)
        for name, run in running.items():
            ctx.progress(f"== version {name}: seed profile {spec.seed.profile.name}")
            run.cache = seed_cached(ctx, run.stack, spec.seed)
        reps = []
        order = sequence(options.repeats)
        for position, (label, pair) in enumerate(order, start=1):
            run = running[label]
            rep_dir = folder / f"rep{position:02d}-{label}{pair}"
            rep_dir.mkdir()
            ctx.progress(
                f"== repetition {position}/{len(order)}: version {label}"
                f" (pair {pair}), {run.version.spec.name}"
            )
            assert run.cache is not None
            restored = run.cache.restore(ctx)
            rep = _repetition(ctx, spec, run.stack, rep_dir, position, pair, label)
            reps.append(rep.model_copy(update={"restore_s": round(restored, 2)}))
        rows, noise = compare_rows(reps, spec.load.slo.compare)
        call, failed = overall(rows)
        invalid = [f"repetition {r.order} ({r.version}): {why}" for r in reps for why in r.invalid]
        comparison = ComparisonFile(
            id=folder.name,
            started_at=started.isoformat(timespec="seconds"),
            finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
            wall_s=round(time.monotonic() - began, 1),
            host=platform.node(),
            cpus=os.cpu_count() or 1,
            settings=_settings(spec, order),
            versions=[_info(run) for run in running.values()],
            seed_cache=_cache_info(running),
            repetitions=reps,
            rows=rows,
            noise=noise,
            verdict="INVALID" if invalid else call,
            failed=failed,
            invalid=invalid,
        )
    write_comparison(folder, comparison)
    for path in build_comparison_report(folder):
        ctx.progress(f"report: {path}")
    return folder, comparison


@contextmanager
def _throwaway(
    ctx: RunContext, version: Version, postgres: str, locust: str, options: CompareOptions
) -> Iterator[Stack]:
    state = up(
        UpRequest(
            provider="docker",
            home=ctx.home,
            project=version.project,
            persistent=False,
            images={"backend": version.image, "postgres": postgres, "locust": locust},
            bcrypt_rounds=options.bcrypt_rounds,
            backend_workers=options.backend_workers,
        )
    )
    stack = stack_of(state)
    try:
        yield stack
    finally:
        ctx.progress(f"== tear down: {stack.describe()} (version {version.spec.label})")
        stack.stop()


def _repetition(
    ctx: RunContext,
    spec: CompareSpec,
    stack: Stack,
    rep_dir: Path,
    position: int,
    pair: int,
    label: Literal["A", "B"],
) -> Repetition:
    benchmarks: dict[str, RepBench] = {}
    with monitored(ctx, stack, rep_dir) as monitoring:
        if spec.bench is not None:
            summary = bench_phase(ctx, stack, spec.bench, rep_dir)
            benchmarks = _benchmarks(summary)
        users = seeded_users(stack, DEFAULT_PASSWORD)
        result = load_phase(ctx, stack, spec.load, users, rep_dir)
        ended = time.time()
        monitoring.stop()
    window = measured_window(rep_dir, spec.load.shape, ended)
    start, end = (window.start, window.end) if window else (0.0, ended)
    files = RunFiles.read(rep_dir, start, end)
    reached = read_users(rep_dir, spec.load.shape.users)
    counts = UserCounts.model_validate(reached)
    bed, _, _ = test_bed(rep_dir, files, window, counts, (), result.saturated, None)
    percentiles = read_percentiles(rep_dir)
    endpoints = {
        f"{e['method']} {e['name']}": _endpoint(e, percentiles.get(f"{e['method']} {e['name']}"))
        for e in result.endpoints
    }
    history = [
        (round(t - start, 1), rps, p95)
        for t, _, rps, p95, _ in read_history(rep_dir)
        if window is not None and start <= t <= end
    ]
    invalid = [r.message for r in invalid_reasons(bed)]
    if window is None:
        invalid.append("the measured window never began")
    return Repetition(
        order=position,
        pair=pair,
        version=label,
        folder=rep_dir.name,
        window_s=round(end - start, 1) if window else None,
        users=counts.reached,
        endpoints=endpoints,
        aggregate=_endpoint(result.aggregate, percentiles.get("")) if result.aggregate else None,
        history=history,
        resources=_resources(rep_dir, start, end),
        benchmarks=benchmarks,
        invalid=invalid,
    )


def _endpoint(e: dict[str, object], percentiles: dict[str, float] | None) -> RepEndpoint:
    return RepEndpoint.model_validate(
        {
            "requests": e["requests"],
            "failures": e["failures"],
            "p50_ms": e.get("p50_ms"),
            "p95_ms": e.get("p95_ms"),
            "rps": e["rps"],
            "percentiles": percentiles or {},
            "exact": e.get("percentiles") == "hdr",
        }
    )


def _benchmarks(summary: dict[str, object]) -> dict[str, RepBench]:
    out = {}
    rows = summary.get("benchmarks")
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict) or row.get("median_ms") is None:
            continue
        found = row.get("db")
        db: dict[str, Any] = found if isinstance(found, dict) else {}
        out[str(row["name"])] = RepBench(
            median_ms=row["median_ms"],
            rounds=row.get("rounds"),
            queries=db.get("queries"),
            rows=db.get("rows"),
            exec_ms=db.get("exec_ms"),
        )
    return out


def _resources(rep_dir: Path, start: float, end: float) -> dict[str, RepResource]:
    """Per group of containers: mean and peak CPU cores, peak memory, over the window."""
    rows = [
        r
        for r in read_samples(rep_dir / "monitor" / "containers.jsonl")
        if start <= float(r.get("t", 0)) <= end
    ]
    cpu: dict[str, dict[int, float]] = {}
    mem: dict[str, dict[int, float]] = {}
    for r in rows:
        group = GROUPS.get(str(r.get("role")))
        if group is None:
            continue
        second = int(float(r["t"]))
        if isinstance(r.get("cpu_percent"), int | float):
            per = cpu.setdefault(group, {})
            per[second] = per.get(second, 0.0) + float(r["cpu_percent"]) / 100
        if isinstance(r.get("mem_bytes"), int | float):
            held = mem.setdefault(group, {})
            held[second] = held.get(second, 0.0) + float(r["mem_bytes"]) / 2**20
    return {
        group: RepResource(
            cpu_cores=round(statistics.fmean(cpu[group].values()), 3) if group in cpu else None,
            cpu_cores_peak=round(max(cpu[group].values()), 3) if group in cpu else None,
            memory_mib_peak=round(max(mem[group].values()), 1) if group in mem else None,
        )
        for group in sorted(set(cpu) | set(mem))
    }


def _settings(spec: CompareSpec, order: list[tuple[Literal["A", "B"], int]]) -> Settings:
    options, shape = spec.options, spec.load.shape
    pairs = [order[i][0] + order[i + 1][0] for i in range(0, len(order), 2)]
    return Settings(
        repeats=options.repeats,
        shape=shape.name,
        users=shape.users,
        duration_s=shape.duration_s,
        warmup_s=shape.warmup_s,
        scenario=options.scenario,
        profile=spec.seed.profile.name,
        seed=spec.seed.seed,
        bench_rounds=options.bench_rounds if spec.bench is not None else None,
        tolerance=spec.load.slo.compare.tolerance,
        slo_file=spec.load.slo.source,
        confidence=0.95,
        order=" ".join(pairs),
    )


def _info(run: _Running) -> VersionInfo:
    v = run.version
    return VersionInfo(
        label=v.spec.label,
        name=v.spec.name,
        kind=v.spec.kind,
        image=v.image,
        project_file=str(v.spec.project.source),
        revision=v.spec.revision,
        stack_id=run.stack.stack_id,
        schema_hash=run.cache.schema if run.cache else None,
    )


def _cache_info(running: dict[str, _Running]) -> dict[str, float | str | None]:
    out: dict[str, float | str | None] = {}
    for label, run in running.items():
        if run.cache is not None:
            out[f"{label}_key"] = run.cache.key
            out[f"{label}_seeded_s"] = run.cache.seeded_s
            out[f"{label}_saved_s"] = run.cache.saved_s
    return out
