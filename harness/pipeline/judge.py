"""The run's verdict: the SLO rows combined with incidents, the bench suite and the run's health."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.pipeline.load_phase import LoadResult
from harness.record import UserCounts
from harness.report import users_line
from harness.verdict import SloConfig, evaluate


@dataclass(frozen=True)
class Judgement:
    verdict: str  # PASS | FAIL
    rows: list[dict[str, Any]]  # one SLO row per endpoint with requests
    warnings: list[str]


def judge(
    slo: SloConfig,
    result: LoadResult,
    bench: dict[str, Any] | None,
    users: Mapping[str, Any] | None = None,
) -> Judgement:
    """Every SLO row must pass; a service incident or a failed benchmark fails the run too.

    So does a load that ran fewer users than planned (`users`: results.json's "users"): users
    that could not start stop, and the rest would pass a lighter load than the one asked for.
    """
    rows, verdict = evaluate(slo, result.endpoints)
    warnings = []
    if result.incidents:
        verdict = "FAIL"  # results.json keeps them under "incidents"; the report says why
    counts = UserCounts.model_validate(users) if users is not None else None
    if counts is not None and counts.short:
        verdict = "FAIL"
        warnings.append(users_line(counts))  # planned vs reached, and the first start error
    elif counts is not None and counts.start_failures:
        warnings.append(users_line(counts))
    if result.aborted:
        warnings.append(f"aborted, partial results: {result.aborted}")
    if result.saturated:
        warnings.append(
            "load generator saturated: a worker ran above 90 % CPU; results are not trustworthy"
        )
    if result.interrupted:
        warnings.append("interrupted: partial results")
    if bench is not None and bench["verdict"] == "FAIL":
        verdict = "FAIL"
        warnings.append("benchmark suite: a benchmark failed its p95 target (see the bench table)")
    return Judgement(verdict, rows, warnings)
