"""What a load run measured, gathered from its run folder for the verdict's two questions.

Is the measurement valid (the test bed: host, load generator, monitors, window)? And when the
system failed, why (the stack: CPU, database, queries, profile)? The samplers wrote their files
during the run; this reads them over the measured window into the verdict's plain inputs.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.load.runner import read_history, read_window
from harness.load.shapes import Shape
from harness.monitor import coverage, read_samples
from harness.record import (
    Arrivals,
    EndpointStats,
    HostLoad,
    OutsideProcess,
    Profile,
    SloRow,
    UserCounts,
    Window,
)
from harness.verdict.causes import Measured
from harness.verdict.steadiness import Point, assess
from harness.verdict.validity import Conditions, GeneratorCpu

MONITOR = "monitor"
BACKEND_ROLES = ("backend", "process")
WORKER_ROLE = "locust-worker"


def inside(rows: Iterable[dict[str, Any]], start: float, end: float) -> list[dict[str, Any]]:
    return [r for r in rows if start <= float(r["t"]) <= end]


def measured_window(run_dir: Path, shape: Shape, ended: float) -> Window | None:
    """The window the staged shape recorded, with its steadiness; None when it never began."""
    found = read_window(run_dir)
    if found is None:
        return None
    start = float(found["start"])
    end = float(found.get("end") or ended)
    points = [Point(*row) for row in read_history(run_dir)]
    steady, checks = (None, []) if shape.ramp_measured else assess(points, start, end)
    return Window(
        start=start,
        end=end,
        warmup_s=float(found.get("warmup_s") or 0.0),
        ramp_measured=shape.ramp_measured,
        users=found.get("users"),
        starts_done=found.get("starts_done"),
        steady=steady,
        checks=checks,
    )


def host_load(rows: list[dict[str, Any]]) -> HostLoad | None:
    """The host sampler's rows over the window as medians, and the busiest outside processes."""
    if not rows:
        return None
    cores = int(rows[-1].get("cores") or os.cpu_count() or 1)

    def share(key: str) -> float | None:
        values = [float(r[key]) for r in rows if isinstance(r.get(key), int | float)]
        return round(statistics.median(values) / cores, 4) if values else None

    seen: dict[tuple[int, str], list[float]] = {}
    tops = [r["top"] for r in rows if isinstance(r.get("top"), list)]
    for top in tops:
        for p in top:
            if isinstance(p, dict) and isinstance(p.get("cores"), int | float):
                seen.setdefault((int(p.get("pid") or 0), str(p.get("name"))), []).append(
                    float(p["cores"])
                )
    ranked = sorted(seen.items(), key=lambda kv: -sum(kv[1]))[:5]
    return HostLoad(
        cores=cores,
        samples=len(rows),
        busy=share("busy_cores") or 0.0,
        outside=share("outside_cores") or 0.0,
        steal=share("steal_cores"),
        harness=share("harness_cores"),
        top_outside=[
            OutsideProcess(pid=pid, name=name, cores=round(sum(v) / len(tops), 3))
            for (pid, name), v in ranked
        ],
    )


def _cores(rows: Iterable[dict[str, Any]], roles: tuple[str, ...]) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for r in rows:
        if r.get("role") in roles and isinstance(r.get("cpu_percent"), int | float):
            found.setdefault(str(r.get("container")), []).append(float(r["cpu_percent"]) / 100)
    return found


def generators(rows: list[dict[str, Any]], worker_cpus: float | None) -> list[GeneratorCpu]:
    """Each Locust worker's median CPU against what it may use (its quota, else one core)."""
    limit = min(worker_cpus, 1.0) if worker_cpus else 1.0
    return [
        GeneratorCpu(name, round(statistics.median(v), 3), limit)
        for name, v in sorted(_cores(rows, (WORKER_ROLE,)).items())
    ]


def backend_cpu(rows: list[dict[str, Any]]) -> list[float]:
    """The backend's CPU per sample (cores; its containers or processes summed per second)."""
    by_second: dict[int, float] = {}
    for r in rows:
        if r.get("role") in BACKEND_ROLES and isinstance(r.get("cpu_percent"), int | float):
            second = int(float(r["t"]))
            by_second[second] = by_second.get(second, 0.0) + float(r["cpu_percent"]) / 100
    return [by_second[k] for k in sorted(by_second)]


@dataclass(frozen=True)
class RunFiles:
    """The monitor files of a run folder over its measured window."""

    containers: list[dict[str, Any]]
    host: list[dict[str, Any]]
    postgres: list[dict[str, Any]]
    top_queries: list[dict[str, Any]]

    @classmethod
    def read(cls, run_dir: Path, start: float, end: float) -> RunFiles:
        folder = run_dir / MONITOR
        try:
            top = json.loads((folder / "pg_top_queries.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            top = []
        return cls(
            containers=inside(read_samples(folder / "containers.jsonl"), start, end),
            host=inside(read_samples(folder / "host.jsonl"), start, end),
            postgres=inside(read_samples(folder / "postgres.jsonl"), start, end),
            top_queries=[q for q in top if isinstance(q, dict)] if isinstance(top, list) else [],
        )


def test_bed(
    run_dir: Path,
    files: RunFiles,
    window: Window | None,
    users: UserCounts | None,
    user_lines: tuple[str, ...],
    generator_warned: bool,
    worker_cpus: float | None,
    arrivals: Arrivals | None = None,
    pool: int | None = None,
) -> tuple[Conditions, HostLoad | None, dict[str, float] | None]:
    host = host_load(files.host)
    shares = (
        {k: round(v, 4) for k, v in coverage(run_dir, window.start, window.end).items()}
        if window is not None
        else None
    )
    bed = Conditions(
        host=host,
        coverage=shares,
        window=window,
        users=users,
        generator_warned=generator_warned,
        generators=generators(files.containers, worker_cpus),
        user_lines=user_lines,
        arrivals=arrivals,
        pool=pool,
    )
    return bed, host, shares


def hash_cpu_ms(rounds: int) -> float:
    """CPU time of one bcrypt hash at `rounds`, timed on this machine (the backend's hardware)."""
    import bcrypt  # only when a failure is diagnosed: it costs a fraction of a second

    began = time.process_time()
    bcrypt.hashpw(b"diagnosis", bcrypt.gensalt(rounds))
    return (time.process_time() - began) * 1000


def measurements(
    files: RunFiles,
    failing: list[SloRow],
    endpoints: list[EndpointStats],
    aggregate: EndpointStats | None,
    window: Window,
    host: HostLoad | None,
    profile: Profile | None,
    *,
    backend_workers: int | None,
    hash_rounds: int | None,
    generator_saturated: bool,
) -> Measured:
    """The stack's measurements over the window, for the diagnosis of a failed run."""
    logins = any(e.name in ("/auth/login", "/auth/register") and e.requests for e in endpoints)
    return Measured(
        failing=failing,
        endpoints=endpoints,
        aggregate=aggregate,
        window_s=window.end - window.start,
        users=window.users,
        backend_cpu=backend_cpu(files.containers),
        backend_cores=float(host.cores) if host is not None else float(os.cpu_count() or 1),
        backend_workers=backend_workers,
        host_busy=host.busy if host is not None else None,
        postgres=files.postgres,
        top_queries=files.top_queries,
        hash_ms=hash_cpu_ms(hash_rounds) if hash_rounds and logins else None,
        hash_rounds=hash_rounds,
        profile=list(profile.top) if profile is not None else [],
        generator_saturated=generator_saturated,
    )
