"""Whether a load run's numbers describe the system under test or the test bed around it.

Each reason a run is INVALID carries what was measured (evidence) and what to do (hint): a
busy host, a saturated load generator, users that never ran, monitors that missed part of the
window, a warm-up that ran out before every user started, a window that never settled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from harness.record import Arrivals, HostLoad, InvalidReason, UserCounts, Window
from harness.verdict.steadiness import describe

OUTSIDE_LIMIT = 0.20  # share of the machine other programs may use before the run is suspect
STEAL_LIMIT = 0.10
NAMED_CORES = 0.05  # an outside process is named from this much CPU on
COVERAGE_LIMIT = 0.90  # share of the 1 Hz monitor samples each container must have
GENERATOR_LIMIT = 0.90  # share of a worker's CPU (its quota, or one core) before it saturates
DROPPED_LIMIT = 0.01  # share of the open model's iterations that may find no free user
LATE_LIMIT = 0.05  # share of them that may start late


@dataclass(frozen=True)
class GeneratorCpu:
    """One load-generator worker's CPU over the window."""

    name: str
    median_cores: float
    limit_cores: float  # its quota, or 1.0: a Locust worker is one process


@dataclass(frozen=True)
class Conditions:
    """What the run measured about everything but the system under test."""

    host: HostLoad | None = None
    coverage: Mapping[str, float] | None = None
    window: Window | None = None
    users: UserCounts | None = None
    generator_warned: bool = False  # Locust itself logged a worker above 90 % CPU
    generators: list[GeneratorCpu] = field(default_factory=list)
    user_lines: tuple[str, ...] = ()  # the users' own description (planned vs reached, error)
    arrivals: Arrivals | None = None  # the open model's iterations over the window
    pool: int | None = None  # the open model's users


def invalid_reasons(bed: Conditions) -> list[InvalidReason]:
    """Every reason the run's numbers describe the test bed; [] when they describe the system."""
    found = [
        _host(bed.host),
        _generator(bed),
        _users(bed),
        _coverage(bed.coverage),
        _warmup(bed.window),
        _steady(bed.window),
        _dropped(bed),
        _late(bed.arrivals),
    ]
    return [r for r in found if r is not None]


def _host(host: HostLoad | None) -> InvalidReason | None:
    if host is None or host.samples == 0:
        return None
    evidence = [
        f"host CPU over the window (median, {host.cores} cores): {host.busy:.0%} busy, "
        f"{host.outside:.0%} used by processes outside the stack, the load generator "
        "and the harness" + (f", {host.steal:.0%} stolen" if host.steal else "")
    ]
    evidence += [
        f"outside: {p.name} (pid {p.pid}) {p.cores:.2f} cores"
        for p in host.top_outside[:5]
        if p.cores >= NAMED_CORES
    ]
    if host.outside >= OUTSIDE_LIMIT:
        return InvalidReason(
            code="host_busy",
            message=f"other programs used {host.outside:.0%} of the machine during the window: "
            "the stack was starved, so its latency is not its own",
            evidence=evidence,
            hint="close the programs named above (or run on a quieter machine), then run again",
        )
    if host.steal is not None and host.steal >= STEAL_LIMIT:
        return InvalidReason(
            code="host_busy",
            message=f"the hypervisor took {host.steal:.0%} of the machine's CPU (steal time)",
            evidence=evidence,
            hint="run on a machine with dedicated cores, or at a quieter time",
        )
    return None


def _generator(bed: Conditions) -> InvalidReason | None:
    busy = [g for g in bed.generators if g.median_cores >= GENERATOR_LIMIT * g.limit_cores]
    if not busy and not bed.generator_warned:
        return None
    evidence = [
        f"{g.name}: median {g.median_cores:.2f} cores of its {g.limit_cores:g} "
        f"({g.median_cores / g.limit_cores:.0%})"
        for g in busy
    ]
    if bed.generator_warned:
        evidence.append("Locust logged a worker above 90 % CPU (see worker-*.log)")
    return InvalidReason(
        code="generator_saturated",
        message="the load generator ran out of CPU: it sent less load, and timed responses late",
        evidence=evidence,
        hint="add --workers (or give each worker more CPU), or lower --users",
    )


def _dropped(bed: Conditions) -> InvalidReason | None:
    a = bed.arrivals
    if a is None or a.dropped_share <= DROPPED_LIMIT:
        return None
    pool = f"all {bed.pool} users of the pool" if bed.pool else "every user of the pool"
    return InvalidReason(
        code="iterations_dropped",
        message=f"{a.dropped_share:.1%} of the iterations due were never sent: {pool} were "
        "busy, so the system was offered less than the rate asked for",
        evidence=[
            f"{a.dropped:,} of {a.scheduled:,} iterations dropped, "
            f"{DROPPED_LIMIT:.0%} allowed; the longest start lag was {a.max_lag_ms:.0f} ms"
        ],
        hint="give the pool more users (--users: at least the rate x the slowest latency you "
        "expect), or lower --rate; a pool that no size fills means the system cannot keep up",
    )


def _late(a: Arrivals | None) -> InvalidReason | None:
    if a is None or a.late_share <= LATE_LIMIT:
        return None
    return InvalidReason(
        code="late_starts",
        message=f"{a.late_share:.1%} of the iterations started more than {a.late_ms:.0f} ms "
        "after their time: the load generator fell behind its schedule",
        evidence=[
            f"{a.late:,} of {a.started:,} started late, {LATE_LIMIT:.0%} allowed; "
            f"the longest lag was {a.max_lag_ms:.0f} ms"
        ],
        hint="add --workers (or give each worker more CPU), or lower --rate",
    )


def _users(bed: Conditions) -> InvalidReason | None:
    counts = bed.users
    if counts is None or not counts.short:
        return None
    return InvalidReason(
        code="users_not_reached",
        message=f"the load ran {counts.ran} of the {counts.planned} users planned: "
        "the system was measured under a lighter load than asked for",
        evidence=list(bed.user_lines),
        hint="fix what kept the users from starting (the first start error above), then run again",
    )


def _coverage(coverage: Mapping[str, float] | None) -> InvalidReason | None:
    short = {name: share for name, share in (coverage or {}).items() if share < COVERAGE_LIMIT}
    if not short:
        return None
    return InvalidReason(
        code="samples_missing",
        message="the monitors missed part of the window: what the stack did then is unknown",
        evidence=[
            f"{name}: {share:.0%} of the expected 1 Hz samples"
            for name, share in sorted(short.items())
        ],
        hint="the machine was too busy for the monitors, or the Docker daemon stalled: close "
        "other programs and run again",
    )


def _warmup(window: Window | None) -> InvalidReason | None:
    if window is None or window.ramp_measured or window.starts_done is not False:
        return None
    return InvalidReason(
        code="warmup_unfinished",
        message="the warm-up ran out before every user had started: start-up work "
        "(registrations, logins) fell inside the measured window",
        evidence=[
            f"window began after {window.warmup_s:.0f} s of warm-up with "
            f"{window.users if window.users is not None else '?'} users running"
        ],
        hint="lengthen --warmup, or lower --users or raise --spawn-rate less steeply",
    )


def _steady(window: Window | None) -> InvalidReason | None:
    if window is None or window.steady is not False:
        return None
    return InvalidReason(
        code="not_steady",
        message="the measured window never settled: its figures were still moving, so the "
        "verdict would judge a transition, not the system's steady state",
        evidence=[describe(c) for c in window.checks if not c.steady],
        hint="lengthen --warmup (and --duration) so the window starts and stays in the "
        "steady state",
    )
