"""The verdict's reasons, the warnings the saved data implies, and the metadata list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.report.inputs import RunFolder
from harness.report.overview import metadata, reasons, verdict, warnings


def _run(results: dict[str, Any], unreadable: dict[str, str] | None = None) -> RunFolder:
    return RunFolder(path=Path("run"), results=results, unreadable=unreadable or {})


def test_saturation_and_a_partial_run_are_warned_even_when_results_forgot() -> None:
    found = warnings(
        _run({"load_generator_saturated": True, "run": {"partial": True}, "warnings": []})
    )
    assert found == [
        "load generator saturated: results are not trustworthy",
        "partial run: it was interrupted; results cover only part of it",
    ]


def test_warnings_the_run_wrote_are_not_repeated() -> None:
    written = [
        "load generator saturated: a worker ran above 90 % CPU; results are not trustworthy",
        "interrupted: partial results",
    ]
    results = {
        "load_generator_saturated": True,
        "run": {"partial": True},
        "warnings": [*written, written[0]],
    }
    assert warnings(_run(results, {"monitor/postgres.jsonl": "2 unreadable lines"})) == [
        *written,
        "monitor/postgres.jsonl: 2 unreadable lines",
    ]


def test_reasons_say_what_decided_the_verdict() -> None:
    results = {
        "slo": [{"passed": True}, {"passed": False}, {"passed": True}],
        "benchmarks": {"benchmarks": [{"name": "a", "outcome": "error"}, {"name": "b"}]},
        "comparison": {"baseline": "main", "rows": [{"name": "b", "verdict": "same"}]},
    }
    assert reasons(results) == [
        "1 of 3 SLO rows failed",
        "1 of 2 benchmarks failed: a",
        "no regression against baseline 'main'",
    ]
    assert reasons({"slo": []}) == ["no SLO rows: the load recorded no requests"]
    assert reasons({"run": {"kind": "bench"}}) == []


def test_an_odd_verdict_is_unknown() -> None:
    assert verdict({"verdict": "PASS"}) == "PASS"
    assert verdict({"verdict": "maybe"}) == "UNKNOWN"
    assert verdict({}) == "UNKNOWN"


def test_metadata_leaves_out_what_was_not_recorded() -> None:
    pairs = dict(
        metadata(
            {
                "run": {
                    "id": "r1",
                    "kind": "bench",
                    "commit": None,
                    "started_at": "2026-11-24T03:08:37+00:00",
                    "finished_at": "2026-11-24T03:08:47+00:00",
                },
                "benchmarks": {"rounds": 5, "warmup_rounds": 1, "bcrypt_rounds": 12, "seconds": 10},
            }
        )
    )
    assert pairs == {
        "run": "r1",
        "kind": "benchmark suite only",
        "started": "2026-11-24T03:08:37+00:00",
        "finished": "2026-11-24T03:08:47+00:00",
        "wall time": "10 s",
        "benchmarks": "5 rounds (+1 warm-up), bcrypt rounds 12, 10 s",
    }
