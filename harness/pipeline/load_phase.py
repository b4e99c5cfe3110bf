"""The load phase: monitors around the run, distributed Locust against the stack, its outcome."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.images import build_images
from harness.load.runner import (
    LoadPlan,
    OnWindow,
    read_endpoints,
    run_in_docker,
    run_locally,
)
from harness.load.shapes import Shape
from harness.monitor import MonitorRequest, Monitors
from harness.monitor.services import ContainerWatch, ProcessWatch, ServiceWatch
from harness.owner import Owner
from harness.pipeline.context import RunContext
from harness.pipeline.specs import LoadSpec
from harness.pipeline.stack_phase import SeededUsers
from harness.record import RESULTS
from harness.report import build_run_outputs
from harness.stack import Stack
from harness.verdict.capacity import stop_rules


class Monitoring:
    """The run's monitors while they run; stopped once, by the load's judge or at the end."""

    def __init__(self, ctx: RunContext, monitors: Monitors) -> None:
        self.ctx = ctx
        self.monitors = monitors
        self.summary: dict[str, Any] | None = None

    def stop(self) -> dict[str, Any]:
        """Stop every sampler (its files complete), once; their summary."""
        if self.summary is None:
            self.summary = self.monitors.stop()
            counts = ", ".join(
                f"{name} {n}" for name, n in sorted(self.summary["containers"].items())
            )
            self.ctx.progress(f"== monitors off: samples {counts or 'none'}")
            for note in self.summary["notes"]:
                self.ctx.progress(f"note: {note}")
        return self.summary


@contextmanager
def monitored(ctx: RunContext, stack: Stack, run_dir: Path) -> Iterator[Monitoring]:
    """Monitors on for the block; off, then the report built, however the block ends."""
    services = stack.services()
    request = MonitorRequest(
        run_dir=run_dir,
        container_label=services.container_label if services else None,
        backend_pid=services.backend_pid if services else None,
        db_dsn=stack.db_dsn,
    )
    monitors = Monitors(request).start()
    sampled = "containers" if request.container_label else "processes"
    ctx.progress(f"== monitors on: {sampled}" + (", PostgreSQL" if monitors.postgres else ""))
    monitoring = Monitoring(ctx, monitors)
    try:
        yield monitoring
    finally:
        monitoring.stop()
        if (run_dir / RESULTS).exists():
            for path in build_run_outputs(run_dir):
                ctx.progress(f"report: {path}")


def check_remote_workers(stack: Stack, spec: LoadSpec) -> None:
    """Workers on other machines need a target they can reach."""
    if spec.options.remote_workers and not stack.reachable_from_other_machines:
        raise ConfigError(
            f"remote workers cannot reach this {stack.kind} stack: its backend "
            f"({stack.backend_url}) listens on this machine only",
            "point the harness at a backend every machine can reach: `harness up --target URL` "
            "(with --allow-remote-target if it is not on this machine), then "
            "`harness load --remote-workers N --master-bind 0.0.0.0`",
        )


@dataclass
class LoadResult:
    """What the load measured, before any verdict."""

    endpoints: list[dict[str, Any]]
    aggregate: dict[str, Any] | None
    incidents: list[dict[str, Any]] = field(default_factory=list)
    saturated: bool = False
    interrupted: bool = False
    aborted: str | None = None


def service_watch(stack: Stack, grace_s: float) -> ServiceWatch | None:
    """What watches the stack's services during the load; nothing when none is ours."""
    services = stack.services()
    if services is None or not services.watched:
        return None
    if services.container_label is not None:
        return ContainerWatch(services.container_label, grace_s=grace_s).start()
    if services.backend_pid is not None and services.backend_log is not None:
        return ProcessWatch(services.backend_pid, services.backend_log, grace_s).start()
    return None


def load_line(shape: Shape) -> str:
    """What the shape offers: users (closed model), or a rate and a pool of users (open)."""
    pool = f"a pool of {shape.users} users"
    if shape.kind == "capacity":
        return (
            f"open model, {shape.rate:g} to {shape.peak_rate:g} iterations/s in {shape.steps} "
            f"steps of {shape.duration_s}s (stopping at the first that breaks), {pool}"
        )
    if shape.kind == "rate-ramp":
        return f"open model, {shape.rate / 10:g} to {shape.rate:g} iterations/s, {pool}"
    if shape.model == "open":
        return f"open model, {shape.rate:g} iterations/s, {pool}"
    return f"closed model, {shape.users} users"


def load_phase(
    ctx: RunContext,
    stack: Stack,
    spec: LoadSpec,
    users: SeededUsers,
    run_dir: Path,
    on_window: OnWindow = None,
) -> LoadResult:
    """Locust against the stack, the services watched; what it measured.

    `on_window` is called as the measured window begins (after the warm-up).
    """
    shape, options = spec.shape, spec.options
    if users.usernames is None:
        ctx.progress(
            "note: the stack is not seeded; ContraVento users will register instead of logging in"
        )
    plan = LoadPlan(
        run_dir=run_dir,
        classes=spec.classes,
        shape=shape.plan()
        | ({"stop_when": stop_rules(spec.slo)} if shape.kind == "capacity" else {}),
        warmup_s=shape.warmup_s,
        total_s=shape.max_total_s,
        workers=spec.workers,
        usernames_file=users.usernames,
        password=users.password,
        http_client=options.http_client,
        remote_workers=options.remote_workers,
        worker_cpus=options.worker_cpus,
    )
    warmup = (
        f"a warm-up of {shape.warmup_s}s or more (until {shape.warmup_users} users have started)"
        if shape.warmup_s
        else "no warm-up"
    )
    ctx.progress(
        f"load: shape {shape.name}, {load_line(shape)}, {warmup}, then {shape.window_s}s "
        f"measured, {spec.workers} worker(s), scenario {spec.scenario} -> {run_dir}"
    )
    site = stack.load_site()
    watch = service_watch(stack, options.down_grace_s)
    try:
        abort = watch.abort_reason if watch is not None else None
        if site.network is not None:
            # a stack started before the load generator's image was recorded with it
            image = site.image or build_images(ctx.repo_root, progress=lambda _: None).locust
            outcome = run_in_docker(
                plan,
                image=image,
                network=site.network,
                target=site.target,
                labels=stack.labels("locust", Owner.current()),
                name_prefix=f"{stack.stack_id}-{run_dir.name}",
                progress=ctx.progress,
                ui_port=8089 if options.ui else None,
                abort=abort,
                on_window=on_window,
            )
        else:
            outcome = run_locally(
                plan,
                target=site.target,
                progress=ctx.progress,
                ui=options.ui,
                abort=abort,
                master_bind=options.master_bind,
                master_port=options.master_port,
                on_window=on_window,
            )
    finally:
        if watch is not None:
            watch.stop()
            watch.save_log_tails(run_dir, stack.secrets())
    endpoints, aggregate = read_endpoints(run_dir)
    return LoadResult(
        endpoints=endpoints,
        aggregate=aggregate,
        incidents=watch.records() if watch is not None else [],
        saturated=outcome.saturated,
        interrupted=outcome.interrupted,
        aborted=outcome.aborted,
    )
