"""The capacity search's answer: the last rate of the unbroken run of steps that held."""

from __future__ import annotations

from typing import Any

from harness.record import Stage
from harness.verdict import load_slo
from harness.verdict.capacity import answer_rows, search, stop_rules

FEED = "GET /trips/public"  # a 200 ms group of the default SLO file


def stage(index: int, rate: float, p95: float, dropped: int = 0, failures: int = 0) -> Stage:
    count = int(rate * 20)
    figures: dict[str, Any] = {"count": count, "p95": p95, "failures": failures}
    scheduled = count + dropped
    arrivals = {
        "scheduled": scheduled,
        "started": count,
        "dropped": dropped,
        "late": 0,
        "max_lag_ms": 3.0,
    }
    return Stage.model_validate(
        {
            "index": index,
            "for_s": 20,
            "rate": rate,
            "arrivals": arrivals,
            "endpoints": {FEED: figures, "GET /achievements": {"count": 5, "p95": 900.0}},
            "all": figures,
        }
    )


def test_the_capacity_is_the_last_step_that_held_before_the_first_break() -> None:
    slo = load_slo(None)
    stages = [stage(0, 10, 40.0), stage(1, 20, 120.0), stage(2, 30, 203.0), stage(3, 40, 150.0)]
    found = search(stages, slo, None)
    assert found.rate == 20 and [s.held for s in found.steps] == [True, True, False, True]
    assert not found.at_least
    assert search(stages[:2], slo, None).at_least  # every step held: above the range
    broke = found.steps[2]
    assert broke.reasons == [f"{FEED}: p95 203 ms > 200 ms"]
    assert found.steps[1].closest == f"{FEED} p95 120 ms of 200"
    assert found.steps[0].unjudged_endpoints == 1  # 5 requests: too few for a p95
    rows = answer_rows(stages, slo, found)
    assert [(r["endpoint"], r["p95_ms"]) for r in rows if r["endpoint"] == FEED] == [(FEED, 120.0)]


def test_dropped_iterations_and_failures_break_a_step_and_none_held_is_no_capacity() -> None:
    slo = load_slo(None)
    found = search([stage(0, 10, 40.0, dropped=10), stage(1, 20, 40.0)], slo, None)
    assert found.rate is None and "10 of 210 iterations dropped" in found.steps[0].reasons[0]
    failing = search([stage(0, 10, 40.0, failures=50)], slo, None)
    assert failing.rate is None and "failures 25.00% > 1.00%" in failing.steps[0].reasons[0]


def test_a_search_stopped_at_a_break_leaves_the_later_steps_unjudged() -> None:
    slo = load_slo(None)
    stages = [stage(0, 10, 40.0), stage(1, 20, 400.0), stage(2, 30, 50.0)]
    found = search(stages, slo, {"stage": 1, "reason": f"{FEED} p95 400 ms > 200 ms"})
    assert found.rate == 10 and found.stopped == f"step 2: {FEED} p95 400 ms > 200 ms"
    assert [(s.judged, s.held) for s in found.steps] == [
        (True, True),
        (True, False),
        (False, False),
    ]


def test_the_master_stops_on_the_slo_files_targets() -> None:
    rules = stop_rules(load_slo(None))
    assert rules["targets"][FEED] == 200 and rules["min_count"] == 20
    assert rules["max_failure_rate"] == 0.01 and rules["dropped"] == 0.01
