"""Whether a measured window was steady: its first third against its last, and its trend.

A window is not steady when a figure's last third differs from its first third by more than
that figure's allowance AND the figure moves one way through the window (Kendall's tau of its
values in about a dozen equal bins against time). Both, because one-second figures are noisy:
a difference alone can be a burst, a trend alone can be a few percent.

For throughput a difference must also exceed three standard deviations of chance (the two
thirds' request counts as Poisson counts): at 10 rps a third of a 30 s window holds about 100
requests, and 20 % is then within chance.

Throughput comes from the requests counted since the window began, not from Locust's
"current rps": that one averages the last seconds, so it starts near zero after the window's
statistics reset and climbs for seconds with no change in the load. The count arrives in
steps (each worker reports every few seconds) and is interpolated between them.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Literal

from harness.record import TrendCheck

Metric = Literal["rps", "p95_ms", "users"]

# How far the last third may move from the first before the window counts as still moving.
ALLOWED_CHANGE = {"rps": 0.20, "p95_ms": 0.50, "users": 0.05}
# ... and by at least this much: 9 ms against 22 ms is +144 %, and no SLO's business
ALLOWED_STEP = {"rps": 1.0, "p95_ms": 50.0, "users": 1.0}
TREND_TAU = 0.6  # |tau| at least this: the figure moved one way, not back and forth
MIN_BIN_S = 5.0  # a bin spans at least one report of every worker (Locust: every 3 s)
MAX_BINS = 12
MIN_WINDOW_S = 30.0


@dataclass(frozen=True)
class Point:
    """One second of Locust's history: the whole load at that moment."""

    t: float
    users: int
    rps: float
    p95_ms: float | None
    requests: int | None = None  # counted since the window's statistics reset


def kendall_tau(values: Sequence[float]) -> float | None:
    """Kendall's tau-a of `values` against their order: +1 always rising, -1 always falling."""
    pairs = list(combinations(values, 2))
    if not pairs:
        return None
    score = sum((b > a) - (b < a) for a, b in pairs)
    return score / len(pairs)


def _bins(start: float, end: float) -> list[tuple[float, float]]:
    width = max((end - start) / MAX_BINS, MIN_BIN_S)
    count = max(int((end - start) // width), 1)
    width = (end - start) / count
    return [(start + i * width, start + (i + 1) * width) for i in range(count)]


def _binned(points: Sequence[tuple[float, float]], bins: list[tuple[float, float]]) -> list[float]:
    values = []
    for a, b in bins:
        inside = [v for t, v in points if a <= t < b]
        if inside:
            values.append(statistics.median(inside))
    return values


def _check(
    metric: Metric, first: float, last: float, trend: list[float], noise: float = 0.0
) -> TrendCheck:
    """`noise`: how far last may differ from first by chance alone (same unit)."""
    change = (last / first - 1) if first > 0 else (0.0 if last == 0 else None)
    tau = kendall_tau(trend)
    moved = (
        (change is None or abs(change) > ALLOWED_CHANGE[metric])
        and abs(last - first) >= ALLOWED_STEP[metric]
        and abs(last - first) > noise
    )
    trending = tau is not None and abs(tau) >= TREND_TAU
    return TrendCheck(
        metric=metric,
        first=round(first, 2),
        last=round(last, 2),
        change=None if change is None else round(change, 4),
        tau=None if tau is None else round(tau, 3),
        steady=not (moved and trending),
    )


def check(
    metric: Metric, points: Sequence[tuple[float, float]], start: float, end: float
) -> TrendCheck:
    """A sampled figure's check over the window [start, end]: medians of its thirds."""
    third = (end - start) / 3
    first = [v for t, v in points if t < start + third]
    last = [v for t, v in points if t >= end - third]
    if not first or not last:
        return TrendCheck(metric=metric, steady=True)
    trend = _binned(points, _bins(start, end))
    return _check(metric, statistics.median(first), statistics.median(last), trend)


def counted(points: Sequence[tuple[float, int]], start: float) -> Callable[[float], float]:
    """Requests counted by time t: the count's steps (start: 0), interpolated between them."""
    steps: list[tuple[float, float]] = [(start, 0.0)]
    for t, n in sorted(points):
        if t > start and n > steps[-1][1]:
            steps.append((t, float(n)))

    def at(t: float) -> float:
        if t <= steps[0][0]:
            return 0.0
        for (t0, n0), (t1, n1) in itertools.pairwise(steps):
            if t <= t1:
                return n0 + (n1 - n0) * (t - t0) / (t1 - t0)
        return steps[-1][1]

    return at


def throughput(points: Sequence[tuple[float, int]], start: float, end: float) -> TrendCheck:
    """Requests per second over the first and the last third, and in bins, from the count."""
    at = counted(points, start)
    third = (end - start) / 3
    n_first, n_last = at(start + third) - at(start), at(end) - at(end - third)
    trend = [(at(b) - at(a)) / (b - a) for a, b in _bins(start, end)]
    # Requests arrive about as a Poisson process: two thirds' counts differ by chance by up
    # to 3 standard deviations of their difference, sqrt(n_first + n_last).
    noise = 3 * math.sqrt(n_first + n_last) / third
    return _check("rps", n_first / third, n_last / third, trend, noise)


def assess(
    points: Sequence[Point], start: float, end: float
) -> tuple[bool | None, list[TrendCheck]]:
    """Steady or not (None: the window is too short to say), with each figure's check."""
    inside = [p for p in points if start <= p.t <= end]
    if end - start < MIN_WINDOW_S or len(inside) < MIN_WINDOW_S / 2:
        return None, []
    counts = [(p.t, p.requests) for p in points if p.requests is not None and p.t <= end + 5]
    rps = (
        throughput(counts, start, end)  # the last reports come just after the window ends
        if counts
        else check("rps", [(p.t, p.rps) for p in inside], start, end)
    )
    checks = [
        rps,
        check("p95_ms", [(p.t, p.p95_ms) for p in inside if p.p95_ms is not None], start, end),
        check("users", [(p.t, float(p.users)) for p in inside], start, end),
    ]
    return all(c.steady for c in checks), checks


def describe(c: TrendCheck) -> str:
    """One check as a line of evidence."""
    if c.first is None or c.last is None:
        return f"{c.metric}: too few samples"
    change = "-" if c.change is None else f"{c.change:+.0%}"
    tau = "" if c.tau is None else f", trend tau {c.tau:+.2f}"
    unit = {"rps": " rps", "p95_ms": " ms", "users": " users"}[c.metric]
    name = {"rps": "throughput", "p95_ms": "p95", "users": "users"}[c.metric]
    first, last = f"{c.first:g}{unit}", f"{c.last:g}{unit}"
    return f"{name}: {first} in the first third, {last} in the last ({change}{tau})"
