"""The run's verdict: the SLO rows combined with incidents, the bench suite and the test bed.

A capacity search's SLO verdict is its answer: PASS when a rate held (the rows are its step's),
FAIL when the first step broke already.

PASS: every SLO row passed. FAIL: the system failed (an SLO row, a crashed service, a failed
benchmark). INVALID: the numbers describe the test bed rather than the system (a busy host, a
saturated load generator, users that never ran, missing samples, a window that never settled),
so neither PASS nor FAIL can be trusted. A crashed service is a FAIL whatever the test bed did:
it is a fact about the system, not a figure the test bed could have bent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.pipeline.load_phase import LoadResult
from harness.record import Capacity, InvalidReason, UserCounts
from harness.report import users_line
from harness.verdict import SloConfig, evaluate
from harness.verdict.validity import Conditions, invalid_reasons


@dataclass(frozen=True)
class Judgement:
    verdict: str  # PASS | FAIL | INVALID
    rows: list[dict[str, Any]]  # one SLO row per endpoint with requests
    warnings: list[str]
    invalid: list[InvalidReason] = field(default_factory=list)

    @property
    def failing(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if not r["passed"]]


def judge(
    slo: SloConfig,
    result: LoadResult,
    bench: dict[str, Any] | None,
    users: Mapping[str, Any] | None = None,
    bed: Conditions | None = None,
    capacity: tuple[Capacity, list[dict[str, Any]]] | None = None,
) -> Judgement:
    """Every SLO row must pass; a service incident or a failed benchmark fails the run too.

    `bed` (what the run measured of the test bed) can make the run INVALID; without it the
    users alone can (`users`: results.json's "users"): a load that ran fewer users than planned
    measured a lighter load than the one asked for.
    """
    rows, verdict = evaluate(slo, result.endpoints)
    warnings = []
    if capacity is not None:  # a capacity search: its answer, and the rows of its step
        found, rows = capacity
        verdict = "PASS" if found.rate is not None else "FAIL"
        if found.rate is None:
            warnings.append("capacity search: the first step already broke an SLO")
    counts = UserCounts.model_validate(users) if users is not None else None
    if counts is not None and (counts.short or counts.start_failures):
        warnings.append(users_line(counts))  # planned vs reached, and the first start error
    if result.aborted:
        warnings.append(f"aborted, partial results: {result.aborted}")
    if result.interrupted:
        warnings.append("interrupted: partial results")
    if bench is not None and bench["verdict"] == "FAIL":
        verdict = "FAIL"
        warnings.append(
            "benchmark suite: a benchmark failed its p95 target or its max_queries "
            "(see the bench table)"
        )
    bed = bed if bed is not None else Conditions(users=counts, generator_warned=result.saturated)
    invalid = invalid_reasons(bed)
    if result.incidents:
        verdict = "FAIL"  # results.json keeps them under "incidents"; the report says why
        warnings += [f"also, the test bed: {reason.message}" for reason in invalid]
        invalid = []
    elif invalid:
        verdict = "INVALID"
    return Judgement(verdict, rows, warnings, invalid)
