"""A window is steady unless a figure both moved beyond its allowance and trended one way."""

from __future__ import annotations

import random

from harness.verdict.steadiness import Point, assess, describe, kendall_tau


def window(rps: list[float], p95: list[float], users: int = 100) -> list[Point]:
    return [Point(1000.0 + i, users, r, p) for i, (r, p) in enumerate(zip(rps, p95, strict=True))]


def test_kendall_tau_reads_a_trend() -> None:
    assert kendall_tau([1, 2, 3, 4]) == 1.0
    assert kendall_tau([4, 3, 2, 1]) == -1.0
    assert kendall_tau([1]) is None


def test_a_flat_noisy_window_is_steady() -> None:
    rng = random.Random(1)
    points = window([50 + rng.gauss(0, 8) for _ in range(60)], [300 + rng.gauss(0, 60)] * 60)
    steady, checks = assess(points, 1000, 1059)
    assert steady is True and {c.metric for c in checks} == {"rps", "p95_ms", "users"}


def test_the_ramp_of_issue_15_is_not_steady() -> None:
    # throughput climbing 15 -> 79 rps and p95 falling 4.5 s -> 1.1 s through the window
    rps = [15 + (79 - 15) * i / 59 for i in range(60)]
    p95 = [4500 - (4500 - 1100) * i / 59 for i in range(60)]
    steady, checks = assess(window(rps, p95), 1000, 1059)
    assert steady is False
    moving = {c.metric: c for c in checks if not c.steady}
    assert set(moving) == {"rps", "p95_ms"}
    assert moving["rps"].change is not None and moving["rps"].change > 1.5
    line = describe(moving["rps"])
    assert line.startswith("throughput: ") and "in the first third" in line and "+" in line


def test_a_burst_that_returns_is_steady() -> None:
    rps = [50.0] * 20 + [90.0] * 20 + [52.0] * 20  # different middle, same ends
    assert assess(window(rps, [300.0] * 60), 1000, 1059)[0] is True


def test_a_short_window_is_not_assessed() -> None:
    assert assess(window([50.0] * 20, [300.0] * 20), 1000, 1019) == (None, [])


def test_throughput_comes_from_the_count_not_locusts_climbing_current_rps() -> None:
    # 10 rps all along; Locust's "current rps" climbs from 3 to 10 after the window's reset,
    # and the count arrives in 3-second steps (each worker's report)
    points = [
        Point(1000.0 + i, 10, min(3 + i * 0.5, 10), 12.0, requests=30 * (i // 3)) for i in range(61)
    ]
    steady, checks = assess(points, 1000.0, 1060.0)
    rps = checks[0]
    assert steady is True and rps.metric == "rps"
    assert rps.first is not None and rps.last is not None
    assert 9 <= rps.first <= 11 and 9 <= rps.last <= 11


def test_a_count_that_climbs_is_not_steady() -> None:
    # throughput rising from 5 to 15 rps through the window, counted
    total, points = 0.0, []
    for i in range(61):
        total += 5 + 10 * i / 60
        points.append(Point(1000.0 + i, 10, 0.0, 12.0, requests=int(total)))
    steady, checks = assess(points, 1000.0, 1060.0)
    assert steady is False and not checks[0].steady
    assert checks[0].tau is not None and checks[0].tau > 0.9


def test_small_latencies_moving_a_few_milliseconds_are_steady() -> None:
    p95 = [22.0] * 20 + [15.0] * 20 + [9.0] * 20  # -59 %, but 13 ms
    assert assess(window([10.0] * 60, p95), 1000, 1059)[0] is True


def test_a_low_rate_difference_within_chance_is_steady() -> None:
    # the suite's failing case: 11.9 rps then 9.0 rps over 10 s thirds (-24 %, 119 vs 90
    # requests: 2 standard deviations of chance), falling in a few steps
    total, points = 0.0, []
    for i in range(31):
        total += 11.9 if i < 10 else (10.5 if i < 20 else 9.0)
        points.append(Point(1000.0 + i, 10, 0.0, 12.0, requests=int(total)))
    steady, checks = assess(points, 1000.0, 1030.0)
    assert checks[0].change is not None and checks[0].change < -0.2 and checks[0].steady
    assert steady is True
