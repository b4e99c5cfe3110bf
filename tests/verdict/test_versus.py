"""harness compare's verdict: one endpoint made slower is named, and no other; A vs A is quiet."""

from __future__ import annotations

import random

import pytest

from harness.comparison_record import RepBench, RepEndpoint, Repetition
from harness.runstats import a_vs_a_spread, beyond, estimate, holm, judge_family
from harness.verdict.slo import Compare
from harness.verdict.versus import compare_rows, overall, pairs

ENDPOINTS = {f"GET /e{i}": 20.0 + 5 * i for i in range(14)}


def _reps(
    rng: random.Random,
    n_pairs: int,
    slower: dict[str, float] | None = None,
    noise: float = 0.05,
    requests: int = 200,
    queries: tuple[float, float] = (4, 4),
) -> list[Repetition]:
    reps = []
    order = 0
    for pair in range(1, n_pairs + 1):
        drift = rng.lognormvariate(0, 0.03)  # the machine's state, shared by the pair
        for version in "AB" if pair % 2 else "BA":
            order += 1
            endpoints = {}
            for name, base in ENDPOINTS.items():
                factor = (slower or {}).get(name, 1.0) if version == "B" else 1.0
                p50 = base * factor * drift * rng.lognormvariate(0, noise)
                endpoints[name] = RepEndpoint(
                    requests=requests,
                    failures=0,
                    p50_ms=p50,
                    p95_ms=p50 * 3 * rng.lognormvariate(0, noise),
                    rps=2.0 * rng.lognormvariate(0, noise),
                )
            total = RepEndpoint(
                requests=requests * 14,
                failures=0,
                p50_ms=40.0 * drift,
                p95_ms=150.0 * drift,
                rps=28.0 * rng.lognormvariate(0, noise),
            )
            bench = RepBench(
                median_ms=12.0 * drift * rng.lognormvariate(0, noise),
                queries=queries[0] if version == "A" else queries[1],
                rows=3,
            )
            reps.append(
                Repetition(order=order, pair=pair, version=version, folder=f"rep{order}",
                           endpoints=endpoints, aggregate=total,
                           benchmarks={"test_feed": bench})
            )  # fmt: skip
    return reps


def test_one_endpoint_made_slower_is_named_and_no_other() -> None:
    reps = _reps(random.Random(3), 4, slower={"GET /e5": 1.6})
    rows, noise = compare_rows(reps, Compare(tolerance=0.10))
    slower = [r.name for r in rows if r.call == "slower"]
    assert slower == ["GET /e5"]
    row = next(r for r in rows if r.name == "GET /e5")
    assert row.failed
    p50 = next(m for m in row.metrics if m.metric == "p50_ms")
    assert p50.change is not None and 0.4 < p50.change < 0.8
    assert p50.interval is not None and p50.interval[0] > 0
    assert overall(rows) == ("slower", True)
    assert {n.metric for n in noise} >= {"p50_ms", "p95_ms", "rps", "median_ms"}


def test_a_version_against_itself_calls_nothing_in_nearly_every_comparison() -> None:
    """Holm over the whole family: 14 endpoints x 2 latencies + the total + a benchmark are
    ~32 tests, and still a comparison of A with A calls something in at most ~5 % of runs."""
    rng = random.Random(11)
    called = 0
    trials = 200
    for _ in range(trials):
        rows, _ = compare_rows(_reps(rng, 4), Compare(tolerance=0.10))
        called += any(r.call != "no change" for r in rows)
    assert called / trials <= 0.08


def test_slower_within_the_tolerance_is_said_and_does_not_fail() -> None:
    reps = _reps(random.Random(5), 5, slower={"GET /e2": 1.06}, noise=0.005)
    rows, _ = compare_rows(reps, Compare(tolerance=0.10))
    row = next(r for r in rows if r.name == "GET /e2")
    assert row.call == "slower" and not row.failed
    rows, _ = compare_rows(reps, Compare(tolerance=0.02))
    assert next(r for r in rows if r.name == "GET /e2").failed
    per_endpoint = Compare(tolerance=0.02, endpoints={"GET /e2": 0.10})
    rows, _ = compare_rows(reps, per_endpoint)
    assert not next(r for r in rows if r.name == "GET /e2").failed


def test_more_queries_per_call_fail_whatever_the_timings() -> None:
    rows, _ = compare_rows(_reps(random.Random(2), 3, queries=(4, 5)), Compare())
    bench = next(r for r in rows if r.kind == "benchmark")
    assert bench.queries is not None and bench.queries.differs
    assert bench.failed and "more queries" in bench.note
    rows, _ = compare_rows(_reps(random.Random(2), 3, queries=(5, 4)), Compare())
    assert not next(r for r in rows if r.kind == "benchmark").failed


def test_an_endpoint_with_few_requests_is_not_judged_on_its_p95() -> None:
    rows, _ = compare_rows(_reps(random.Random(4), 3, requests=20), Compare())
    row = next(r for r in rows if r.name == "GET /e0")
    judged = {m.metric for m in row.metrics if m.judged}
    assert judged == {"p50_ms"} and "p95 not judged" in row.note
    rows, _ = compare_rows(_reps(random.Random(4), 3, requests=5), Compare())
    row = next(r for r in rows if r.name == "GET /e0")
    assert row.call == "too few" and "too few to judge" in row.note


def test_pairs_match_a_and_b_of_each_pair_whatever_their_order() -> None:
    reps = _reps(random.Random(1), 3)
    assert [(a.order, b.order) for a, b in pairs(reps)] == [(1, 2), (4, 3), (5, 6)]
    assert len(pairs(reps[:-1])) == 2  # an unfinished pair is left out


def test_estimate_change_interval_noise_floor_and_detectable() -> None:
    a = [100.0, 102.0, 98.0, 101.0, 99.0]
    same = estimate(a, a)
    assert same.change == 0 and same.p_value == 1.0 and same.call == "too few"
    b = [x * 1.5 for x in a]
    e = estimate(a, [y * f for y, f in zip(b, (1.01, 0.99, 1.0, 1.02, 0.98), strict=True)])
    assert e.change is not None and 0.45 < e.change < 0.55
    assert e.interval is not None and e.interval[0] < e.change < e.interval[1]
    assert e.noise_floor is not None and 0 < e.noise_floor < 0.1
    assert e.detectable is not None and 0 < e.detectable < 0.1
    assert estimate([1.0], [2.0]).change is None  # one pair: no interval


def test_a_vs_a_spread_ignores_a_slow_drift() -> None:
    drifting = [100.0 * 1.05**i for i in range(6)]  # 5 % more each repetition, no noise
    spread = a_vs_a_spread(drifting)
    assert spread is not None and spread < 1e-9
    assert a_vs_a_spread([100.0, 101.0]) is None


def test_holm_steps_down_and_stops_at_the_first_miss() -> None:
    assert holm([0.001, 0.02, 0.04], 0.05) == pytest.approx([0.05 / 3, 0.025, 0.05])
    assert holm([0.001, 0.03, 0.04], 0.05) == pytest.approx([0.05 / 3, 0.0, 0.0])
    assert holm([None, 0.001], 0.05) == pytest.approx([0.0, 0.05])


def test_judge_family_and_beyond_by_direction() -> None:
    a = [100.0, 101.0, 99.0, 100.5]
    slower = [x * 1.3 for x in a]
    slower[0] *= 1.01
    lower_rps = [x * 0.7 for x in a]
    lower_rps[1] *= 0.99
    lat, rps = judge_family(
        [(a, slower, "lower_is_better", None), (a, lower_rps, "higher_is_better", None)]
    )
    assert lat.call == "slower" and beyond(lat, 0.1, "lower_is_better")
    assert rps.call == "slower" and beyond(rps, 0.1, "higher_is_better")
    assert not beyond(lat, 0.5, "lower_is_better")
