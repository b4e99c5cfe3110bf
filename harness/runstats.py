"""Run-level statistics: is version B slower than version A, judged over whole runs?

A run's median or p95 is one number; the unit of evidence is the run, not the request. Requests
within one run share its machine state (caches, the neighbours' load, the planner's luck), so an
interval drawn from them says how well one run is known, not how much the next run will differ.
Here every figure is a repetition: A and B alternate (A B, B A, A B, ...) and each B is paired
with the A next to it, so a slow drift of the machine falls on both sides of a pair.

Per metric (an endpoint's p50, its p95, its throughput, a benchmark's median):

  change      exp(mean of ln(b_i / a_i)) - 1, over the pairs: the typical relative change
  interval    the t interval of that mean (n - 1 degrees of freedom), at the family's
              confidence after Holm's correction over every metric judged in the comparison
  noise floor what A against A moves by: ln(a_{i+1} / a_i) between A's own repetitions gives
              the spread of a pair's difference when nothing changed; the floor is the
              half-width an interval of this many pairs has with that spread
  detectable  the smallest change the run would have found with 80 % power at that
              confidence, from the pairs' own spread: (t_{1-alpha/2} + t_{0.8}) * s / sqrt(n)

A metric is "slower" (or "faster") only when its corrected interval excludes no change; it
fails the comparison when it is slower and its change is beyond the tolerance. A change the
run cannot tell from noise is "no change" together with the smallest it could have seen.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from scipy import stats as scipy_stats

CONFIDENCE = 0.95  # for the family of metrics of one comparison (Holm-corrected)
POWER = 0.80  # for the smallest detectable change

Direction = Literal["lower_is_better", "higher_is_better"]
Call = Literal["slower", "faster", "no change", "too few"]


@dataclass(frozen=True)
class Estimate:
    """One metric, A against B, over the repetitions' pairs."""

    pairs: int
    a_median: float | None
    b_median: float | None
    change: float | None  # relative: +0.25 is 25 % more (higher latency, or more throughput)
    interval: tuple[float, float] | None  # the corrected interval of `change`
    noise_floor: float | None  # relative half-width an A-vs-A interval has at these pairs
    detectable: float | None  # the smallest relative change the run could have found
    p_value: float | None  # two-sided, of "no change", before correction
    call: Call = "too few"


def _log_pairs(a: Sequence[float], b: Sequence[float]) -> list[float]:
    return [math.log(y / x) for x, y in zip(a, b, strict=True) if x > 0 and y > 0]


def _t(q: float, df: int) -> float:
    return float(scipy_stats.t.ppf(q, df))


def a_vs_a_spread(a: Sequence[float]) -> float | None:
    """The standard deviation of ln(a_{i+1} / a_i): how far one A run is from the next.

    Differences of neighbours, not the spread around A's mean: a machine that drifts slowly
    through the comparison does not widen it, as it does not widen B's pairs either.
    """
    logs = [math.log(x) for x in a if x > 0]
    steps = [y - x for x, y in itertools.pairwise(logs)]
    if len(steps) < 2:
        return None
    return statistics.pstdev(steps) * math.sqrt(len(steps) / (len(steps) - 1))


Resolution = Callable[[float], float]  # a figure -> the step it was rounded to


def locust_step(ms: float) -> float:
    """The step Locust rounds a response time to: 1 ms below 100 ms, 10 ms below 1 s, then
    100 ms (its percentiles come from those buckets)."""
    return 1.0 if ms < 100 else 10.0 if ms < 1000 else 100.0


def _rounding_variance(a: Sequence[float], b: Sequence[float], step: Resolution) -> float:
    """The variance rounding adds to a pair's ln(b / a): a uniform error of one step each."""
    terms = [(step(x) / x) ** 2 / 12 + (step(y) / y) ** 2 / 12 for x, y in zip(a, b, strict=True)]
    return statistics.fmean(terms) if terms else 0.0


def estimate(
    a: Sequence[float],
    b: Sequence[float],
    alpha: float = 1 - CONFIDENCE,
    resolution: Resolution | None = None,
) -> Estimate:
    """A against B at significance `alpha` (already corrected for the family if need be).

    `a` and `b` are the repetitions in order; a[i] and b[i] ran next to each other.
    `resolution`: the figures were rounded (Locust's buckets): pairs that agree to the step
    are no evidence of no noise, so the rounding's own variance is the least the spread is.
    """
    a_median = statistics.median(a) if a else None
    b_median = statistics.median(b) if b else None
    diffs = _log_pairs(a, b)
    n = len(diffs)
    if n < 2:
        return Estimate(n, a_median, b_median, None, None, None, None, None)
    mean = statistics.fmean(diffs)
    sd = statistics.stdev(diffs)
    if resolution is not None:
        kept = [(x, y) for x, y in zip(a, b, strict=True) if x > 0 and y > 0]
        rounding = _rounding_variance([x for x, _ in kept], [y for _, y in kept], resolution)
        sd = math.sqrt(max(sd**2, rounding))
    df = n - 1
    t_crit = _t(1 - alpha / 2, df)
    half = t_crit * sd / math.sqrt(n)
    if sd > 0:
        p_value = float(2 * scipy_stats.t.sf(abs(mean) / (sd / math.sqrt(n)), df))
    else:
        p_value = 0.0 if mean != 0 else 1.0
    spread = a_vs_a_spread(a)
    if spread is not None and resolution is not None:
        own = [x for x in a if x > 0]
        spread = math.sqrt(max(spread**2, _rounding_variance(own[:-1], own[1:], resolution)))
    floor = None if spread is None else math.expm1(t_crit * spread / math.sqrt(n))
    detectable = math.expm1((t_crit + _t(POWER, df)) * sd / math.sqrt(n))
    return Estimate(
        pairs=n,
        a_median=a_median,
        b_median=b_median,
        change=math.expm1(mean),
        interval=(math.expm1(mean - half), math.expm1(mean + half)),
        noise_floor=floor,
        detectable=detectable,
        p_value=p_value,
    )


def holm(p_values: Sequence[float | None], alpha: float = 1 - CONFIDENCE) -> list[float]:
    """Per test, the significance level Holm's step-down procedure gives it in its family.

    The smallest p-value is held to alpha / m, the next to alpha / (m - 1), ...; once one is
    not significant, none after it is (its level is then 0). None (not tested) gets 0.
    """
    tested = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    levels = [0.0] * len(p_values)
    m = len(tested)
    for rank, (p, i) in enumerate(tested):
        level = alpha / (m - rank)
        if p > level:
            break
        levels[i] = level
    return levels


def judged(
    a: Sequence[float],
    b: Sequence[float],
    level: float,
    family_alpha: float,
    direction: Direction,
    resolution: Resolution | None = None,
) -> Estimate:
    """The estimate at the corrected level: a call when Holm let it through, else the interval
    at the family's most demanding level (alpha / m), with "no change"."""
    first = estimate(a, b, level if level > 0 else family_alpha, resolution)
    if first.change is None or first.interval is None:
        return first
    low, high = first.interval
    worse = low > 0 if direction == "lower_is_better" else high < 0
    better = high < 0 if direction == "lower_is_better" else low > 0
    call: Call = "no change"
    if level > 0 and worse:
        call = "slower"
    elif level > 0 and better:
        call = "faster"
    return Estimate(**{**first.__dict__, "call": call})


Metric = tuple[Sequence[float], Sequence[float], Direction, Resolution | None]


def judge_family(metrics: Sequence[Metric], alpha: float = 1 - CONFIDENCE) -> list[Estimate]:
    """Every metric of one comparison, judged together (Holm over the family)."""
    raw = [estimate(a, b, alpha, step) for a, b, _, step in metrics]
    levels = holm([e.p_value for e in raw], alpha)
    m = max(1, sum(e.p_value is not None for e in raw))
    return [
        judged(a, b, level, alpha / m, direction, step)
        for (a, b, direction, step), level in zip(metrics, levels, strict=True)
    ]


def beyond(estimate: Estimate, tolerance: float, direction: Direction) -> bool:
    """Slower, and by more than the tolerance (a relative change, e.g. 0.10)."""
    if estimate.call != "slower" or estimate.change is None:
        return False
    if direction == "lower_is_better":
        return estimate.change > tolerance
    return estimate.change < -tolerance / (1 + tolerance)
