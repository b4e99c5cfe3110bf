"""The combine rules: SLO rows, incidents, the bench suite and the run's health make one verdict."""

from __future__ import annotations

from typing import Any

from harness.pipeline.judge import judge
from harness.pipeline.load_phase import LoadResult
from harness.verdict import SloConfig
from harness.verdict.slo import Group

SLO = SloConfig(
    max_failure_rate=0.01, group=[Group(name="auth", p95_ms=500, endpoints=["POST /auth/login"])]
)


def endpoint(p95_ms: float, failures: int = 0) -> dict[str, Any]:
    return {
        "method": "POST",
        "name": "/auth/login",
        "requests": 100,
        "failures": failures,
        "failure_rate": failures / 100,
        "p95_ms": p95_ms,
    }


def bench(verdict: str) -> dict[str, Any]:
    return {"verdict": verdict, "benchmarks": []}


def test_rows_within_targets_pass() -> None:
    judgement = judge(SLO, LoadResult([endpoint(200)], None), bench=None)
    assert judgement.verdict == "PASS"
    assert [r["passed"] for r in judgement.rows] == [True]
    assert judgement.warnings == []


def test_a_slow_endpoint_fails_with_its_reason() -> None:
    judgement = judge(SLO, LoadResult([endpoint(800)], None), bench=None)
    assert judgement.verdict == "FAIL"
    assert judgement.rows[0]["reason"] == "p95 800 ms > 500 ms"


def test_a_run_with_no_requests_fails() -> None:
    assert judge(SLO, LoadResult([], None), bench=None).verdict == "FAIL"


def test_an_incident_fails_a_run_whose_rows_pass() -> None:
    incident = {"service": "backend", "event": "exited", "at_s": 3.0, "exit_code": 137}
    result = LoadResult([endpoint(200)], None, incidents=[incident])
    judgement = judge(SLO, result, bench=None)
    assert judgement.verdict == "FAIL"
    assert all(r["passed"] for r in judgement.rows)


def test_a_failed_bench_suite_fails_the_run_and_says_so() -> None:
    judgement = judge(SLO, LoadResult([endpoint(200)], None), bench=bench("FAIL"))
    assert judgement.verdict == "FAIL"
    assert any("benchmark suite" in w for w in judgement.warnings)
    assert judge(SLO, LoadResult([endpoint(200)], None), bench=bench("PASS")).verdict == "PASS"


def test_saturation_abort_and_interruption_are_warned() -> None:
    result = LoadResult(
        [endpoint(200)], None, saturated=True, interrupted=True, aborted="backend down 20 s"
    )
    warnings = judge(SLO, result, bench=None).warnings
    assert any("saturated" in w for w in warnings)
    assert any("aborted, partial results: backend down 20 s" in w for w in warnings)
    assert "interrupted: partial results" in warnings
