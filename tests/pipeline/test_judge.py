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


def test_saturation_makes_the_run_invalid_and_abort_and_interruption_are_warned() -> None:
    result = LoadResult(
        [endpoint(200)], None, saturated=True, interrupted=True, aborted="backend down 20 s"
    )
    judgement = judge(SLO, result, bench=None)
    assert judgement.verdict == "INVALID"
    assert [r.code for r in judgement.invalid] == ["generator_saturated"]
    warnings = judgement.warnings
    assert any("aborted, partial results: backend down 20 s" in w for w in warnings)
    assert "interrupted: partial results" in warnings


def users(planned: int | None, reached: int | None, **more: Any) -> dict[str, Any]:
    return {"planned": planned, "reached": reached, **more}


REGISTER_400 = {
    "user_class": "ContraVentoUser",
    "endpoint": "POST /auth/register",
    "status": 400,
    "message": "VALIDATION_ERROR: special-use or reserved name",
}


def test_a_load_short_of_its_planned_users_is_invalid_naming_both_and_the_first_error() -> None:
    short = users(100, 92, started=92, start_failures=8, first_start_error=REGISTER_400)
    judgement = judge(SLO, LoadResult([endpoint(200)], None), bench=None, users=short)
    assert judgement.verdict == "INVALID"
    assert [r.code for r in judgement.invalid] == ["users_not_reached"]
    assert all(r["passed"] for r in judgement.rows)  # the rows alone would have passed
    assert judgement.warnings == [
        "users: reached 92 of 100 planned; 8 could not start; first error: "
        "POST /auth/register -> 400 VALIDATION_ERROR: special-use or reserved name"
    ]


def test_without_a_history_the_started_users_count() -> None:
    judgement = judge(
        SLO, LoadResult([endpoint(200)], None), bench=None, users=users(10, None, started=3)
    )
    assert judgement.verdict == "INVALID"
    assert judgement.warnings == ["users: reached 3 of 10 planned"]


def test_a_load_that_reached_its_users_passes() -> None:
    judgement = judge(
        SLO, LoadResult([endpoint(200)], None), bench=None, users=users(10, 10, started=10)
    )
    assert judgement.verdict == "PASS" and judgement.warnings == []


def test_failed_starts_replaced_by_locust_are_warned_without_failing() -> None:
    replaced = users(10, 10, started=12, start_failures=2, first_start_error=REGISTER_400)
    judgement = judge(SLO, LoadResult([endpoint(200)], None), bench=None, users=replaced)
    assert judgement.verdict == "PASS"
    assert judgement.warnings == [
        "users: 10 planned, 10 reached; 2 could not start (Locust started others in their "
        "place); first error: POST /auth/register -> 400 VALIDATION_ERROR: special-use or "
        "reserved name"
    ]


def test_users_set_by_hand_or_not_counted_do_not_decide() -> None:
    result = LoadResult([endpoint(200)], None)
    assert judge(SLO, result, bench=None, users=users(None, 3)).verdict == "PASS"
    assert judge(SLO, result, bench=None, users=users(10, None)).verdict == "PASS"
    assert judge(SLO, result, bench=None, users=None).verdict == "PASS"


def test_a_start_error_without_a_response_says_so() -> None:
    no_answer = {"endpoint": "POST /auth/login", "status": None, "message": "no response: refused"}
    short = users(4, 0, started=0, start_failures=4, first_start_error=no_answer)
    warnings = judge(SLO, LoadResult([], None), bench=None, users=short).warnings
    assert warnings == [
        "users: reached 0 of 4 planned; 4 could not start; first error: "
        "POST /auth/login -> no response: refused"
    ]
