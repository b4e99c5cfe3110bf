"""The verdict of `harness compare`: each endpoint and benchmark, A against B, over repetitions.

The repetitions' figures (harness.comparison_record) become one row per endpoint of the load,
one for the load's total and one per benchmark of the suite. Every judged metric of every row
is one test of one family, Holm-corrected (harness/runstats.py), so that comparing a version
with itself calls nothing slower however many endpoints there are.

Judged: an endpoint's p50 (from MIN_P50 requests in every repetition) and p95 (from MIN_P95);
the total's p50, p95 and throughput; a benchmark's median. An endpoint's own throughput is
shown, not judged: in a closed model it follows the mix of tasks and every latency at once.
Queries and rows per call are counts, compared exactly: more queries fails whatever the timings.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from harness.comparison_record import (
    Call,
    ExactCount,
    MetricName,
    MetricVerdict,
    Noise,
    RepBench,
    RepEndpoint,
    Repetition,
    Row,
)
from harness.runstats import (
    CONFIDENCE,
    Direction,
    Estimate,
    Resolution,
    beyond,
    estimate,
    judge_family,
    locust_step,
)
from harness.verdict.slo import Compare

MIN_P50 = 10  # requests in every repetition before an endpoint's median is judged
MIN_P95 = 40  # ... before its p95 is: the 95th percentile of fewer is two or three requests

LOWER: Direction = "lower_is_better"
HIGHER: Direction = "higher_is_better"
DIRECTIONS: dict[MetricName, Direction] = {
    "p50_ms": LOWER,
    "p95_ms": LOWER,
    "median_ms": LOWER,
    "rps": HIGHER,
}
# Locust's percentiles are rounded to its buckets; the suite's medians are not.
RESOLUTION: dict[MetricName, Resolution] = {"p50_ms": locust_step, "p95_ms": locust_step}


def hdr_step(ms: float) -> float:
    """An HDR histogram's bucket at 3 significant figures: at most 1/1024 of the figure."""
    return ms / 1024


@dataclass
class _Planned:
    """A metric waiting for its family's verdict."""

    row: int
    metric: MetricName
    a: list[float]
    b: list[float]
    judged: bool
    exact: bool = False  # percentiles from HDR histograms in every repetition

    @property
    def resolution(self) -> Resolution | None:
        if self.exact and self.metric in ("p50_ms", "p95_ms"):
            return hdr_step
        return RESOLUTION.get(self.metric)


@dataclass
class _RowPlan:
    name: str
    kind: Literal["endpoint", "total", "benchmark"]
    tolerance: float
    failures: tuple[int, int] = (0, 0)
    queries: ExactCount | None = None
    rows: ExactCount | None = None
    note: str = ""


def pairs(reps: Sequence[Repetition]) -> list[tuple[Repetition, Repetition]]:
    """(A, B) of each pair that has both, in pair order."""
    by_pair: dict[int, dict[str, Repetition]] = {}
    for rep in reps:
        by_pair.setdefault(rep.pair, {})[rep.version] = rep
    return [(p["A"], p["B"]) for _, p in sorted(by_pair.items()) if "A" in p and "B" in p]


def _series(
    matched: list[tuple[Repetition, Repetition]],
    pick: Callable[[Repetition], float | None],
) -> tuple[list[float], list[float]]:
    a: list[float] = []
    b: list[float] = []
    for rep_a, rep_b in matched:
        x, y = pick(rep_a), pick(rep_b)
        if x is not None and y is not None and x > 0 and y > 0:
            a.append(x)
            b.append(y)
    return a, b


def _endpoint(rep: Repetition, name: str) -> RepEndpoint | None:
    return rep.aggregate if name == "" else rep.endpoints.get(name)


def _picker(name: str, metric: str) -> Callable[[Repetition], float | None]:
    def pick(rep: Repetition) -> float | None:
        found = _endpoint(rep, name)
        value = getattr(found, metric) if found is not None else None
        return float(value) if value is not None else None

    return pick


def _fewest(matched: list[tuple[Repetition, Repetition]], name: str) -> int:
    counts = [
        (e.requests if (e := _endpoint(rep, name)) is not None else 0)
        for pair in matched
        for rep in pair
    ]
    return min(counts, default=0)


def _exact(values_a: list[float], values_b: list[float]) -> ExactCount | None:
    if not values_a and not values_b:
        return None
    a = statistics.median(values_a) if values_a else None
    b = statistics.median(values_b) if values_b else None
    return ExactCount(a=a, b=b, differs=a is not None and b is not None and a != b)


def _bench_values(
    matched: list[tuple[Repetition, Repetition]], name: str, field: str
) -> tuple[list[float], list[float]]:
    def values(side: int) -> list[float]:
        out = []
        for pair in matched:
            bench: RepBench | None = pair[side].benchmarks.get(name)
            value = getattr(bench, field) if bench is not None else None
            if value is not None:
                out.append(float(value))
        return out

    return values(0), values(1)


def _plan(
    matched: list[tuple[Repetition, Repetition]], compare: Compare
) -> tuple[list[_RowPlan], list[_Planned]]:
    plans: list[_RowPlan] = []
    metrics: list[_Planned] = []
    names = sorted({n for pair in matched for rep in pair for n in rep.endpoints})
    for name in [*names, ""]:
        fewest = _fewest(matched, name)
        index = len(plans)
        failures = tuple(
            sum((e.failures if (e := _endpoint(pair[side], name)) else 0) for pair in matched)
            for side in (0, 1)
        )
        total = name == ""
        plan = _RowPlan(
            name=name or "all requests",
            kind="total" if total else "endpoint",
            tolerance=compare.tolerance_of(name or "all requests"),
            failures=(failures[0], failures[1]),
        )
        if not total and fewest < MIN_P95:
            plan.note = f"{fewest} requests in the smallest repetition: " + (
                "p95 not judged" if fewest >= MIN_P50 else "too few to judge"
            )
        plans.append(plan)
        checks: tuple[tuple[MetricName, bool], ...] = (
            ("p50_ms", fewest >= MIN_P50),
            ("p95_ms", fewest >= MIN_P95 or total),
            ("rps", True),
        )
        for metric, enough in checks:
            a, b = _series(matched, _picker(name, metric))
            judged = enough and (metric != "rps" or total)
            exact = all(
                (e := _endpoint(rep, name)) is not None and e.exact
                for pair in matched
                for rep in pair
            )
            metrics.append(_Planned(index, metric, a, b, judged, exact))
    benches = sorted({n for pair in matched for rep in pair for n in rep.benchmarks})
    for name in benches:
        index = len(plans)
        queries = _exact(*_bench_values(matched, name, "queries"))
        rows = _exact(*_bench_values(matched, name, "rows"))
        plans.append(
            _RowPlan(
                name=name,
                kind="benchmark",
                tolerance=compare.tolerance_of(name),
                queries=queries,
                rows=rows,
            )
        )
        a, b = _bench_values(matched, name, "median_ms")
        metrics.append(_Planned(index, "median_ms", a, b, True))
    return plans, metrics


def _call(verdicts: list[MetricVerdict]) -> Call:
    judged = [v for v in verdicts if v.judged]
    if any(v.call == "slower" for v in judged):
        return "slower"
    if any(v.call == "faster" for v in judged):
        return "faster"
    if judged and all(v.call == "too few" for v in judged):
        return "too few"
    return "no change" if judged else "too few"


def _verdict(planned: _Planned, e: Estimate) -> MetricVerdict:
    return MetricVerdict(
        metric=planned.metric,
        a=[round(x, 3) for x in planned.a],
        b=[round(x, 3) for x in planned.b],
        a_median=e.a_median,
        b_median=e.b_median,
        change=e.change,
        interval=e.interval,
        noise_floor=e.noise_floor,
        detectable=e.detectable,
        p_value=e.p_value,
        call=e.call if planned.judged else "no change" if e.change is not None else "too few",
        judged=planned.judged,
    )


def compare_rows(
    reps: Sequence[Repetition], compare: Compare, confidence: float = CONFIDENCE
) -> tuple[list[Row], list[Noise]]:
    """Every row's verdict, and the comparison's sensitivity per metric."""
    matched = pairs(reps)
    plans, planned = _plan(matched, compare)
    judged = [p for p in planned if p.judged]
    estimates = dict(
        zip(
            (id(p) for p in judged),
            judge_family(
                [(p.a, p.b, DIRECTIONS[p.metric], p.resolution) for p in judged],
                1 - confidence,
            ),
            strict=True,
        )
    )
    per_row: dict[int, list[tuple[_Planned, Estimate]]] = {}
    for p in planned:
        # information-only metrics are estimated uncorrected
        e = estimates.get(id(p)) or estimate(p.a, p.b, 1 - confidence, p.resolution)
        per_row.setdefault(p.row, []).append((p, e))
    rows = []
    for index, plan in enumerate(plans):
        found = per_row.get(index, [])
        verdicts = [_verdict(p, e) for p, e in found]
        too_slow = any(
            p.judged and beyond(e, plan.tolerance, DIRECTIONS[p.metric]) for p, e in found
        )
        more_queries = bool(
            plan.queries and plan.queries.differs and (plan.queries.b or 0) > (plan.queries.a or 0)
        )
        call = _call(verdicts)
        note = plan.note
        if more_queries:
            note = (note + "; " if note else "") + "more queries per call"
        rows.append(
            Row(
                name=plan.name,
                kind=plan.kind,
                call=call,
                failed=too_slow or more_queries,
                tolerance=plan.tolerance,
                metrics=verdicts,
                queries=plan.queries,
                rows=plan.rows,
                failures=plan.failures,
                note=note,
            )
        )
    rows.sort(key=lambda r: ({"endpoint": 0, "total": 1, "benchmark": 2}[r.kind], r.name))
    return rows, _noise(rows)


def _noise(rows: list[Row]) -> list[Noise]:
    found: dict[MetricName, tuple[list[float], list[float]]] = {}
    for row in rows:
        for m in row.metrics:
            if not m.judged:
                continue
            floors, detectable = found.setdefault(m.metric, ([], []))
            if m.noise_floor is not None:
                floors.append(m.noise_floor)
            if m.detectable is not None:
                detectable.append(m.detectable)
    return [
        Noise(
            metric=metric,
            noise_floor=statistics.median(floors) if floors else None,
            detectable=statistics.median(detectable) if detectable else None,
            rows=max(len(floors), len(detectable)),
        )
        for metric, (floors, detectable) in found.items()
    ]


def overall(rows: Sequence[Row]) -> tuple[Call, bool]:
    """The comparison's call (slower when any row is) and whether it fails."""
    calls = {r.call for r in rows}
    call: Call = "slower" if "slower" in calls else "faster" if "faster" in calls else "no change"
    return call, any(r.failed for r in rows)
