"""The SLO file is validated, and the verdict judges p95 and failure rate per endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.errors import ConfigError
from harness.verdict import evaluate, load_slo


def ep(
    method: str, name: str, p95: float, requests: int = 100, failures: int = 0
) -> dict[str, Any]:
    return {
        "method": method,
        "name": name,
        "p95_ms": p95,
        "requests": requests,
        "failures": failures,
        "failure_rate": failures / requests if requests else 0.0,
    }


def test_default_targets_follow_the_guide() -> None:
    slo = load_slo()
    assert slo.max_failure_rate == 0.01
    targets = {g.name: g.p95_ms for g in slo.groups}
    assert targets == {
        "simple queries": 200,
        "auth": 500,
        "registration": 1000,
        "trip create / update": 1000,
        "publish": 500,
        "lists": 200,
    }
    assert (
        slo.group_of("POST /auth/login") is not None
        and slo.group_of("POST /auth/login").p95_ms == 500
    )


def test_pass_and_fail_rows() -> None:
    rows, verdict = evaluate(
        load_slo(), [ep("GET", "/trips/public", 150), ep("POST", "/trips", 900)]
    )
    assert verdict == "PASS" and all(r["passed"] for r in rows)
    rows, verdict = evaluate(
        load_slo(), [ep("GET", "/trips/public", 250), ep("POST", "/trips", 900)]
    )
    assert verdict == "FAIL"
    slow = next(r for r in rows if r["endpoint"] == "GET /trips/public")
    assert not slow["passed"] and "p95 250 ms > 200 ms" in slow["reason"]


def test_failure_rate_limit_applies_to_every_endpoint() -> None:
    rows, verdict = evaluate(load_slo(), [ep("GET", "/unlisted", 5000, requests=1000, failures=20)])
    assert (
        verdict == "FAIL"
        and rows[0]["group"] is None
        and "failures 2.00% > 1.00%" in rows[0]["reason"]
    )
    rows, verdict = evaluate(load_slo(), [ep("GET", "/unlisted", 5000, requests=1000, failures=5)])
    assert verdict == "PASS"  # no p95 target for it, and 0.5 % failures is within the limit


def test_endpoints_without_requests_are_not_judged_and_nothing_measured_fails() -> None:
    rows, verdict = evaluate(load_slo(), [ep("POST", "/auth/login", 0, requests=0)])
    assert rows == [] and verdict == "FAIL"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("max_failure_rate = 2", "between 0 and 1"),
        ("max_faillure_rate = 0.01", "unknown key"),
        ("[[group]]\nname = 'x'\np95_ms = -1\nendpoints = []", "positive"),
        ("[[group]]\nname = 'x'\np95_ms = 100\nendpoints = 'GET /'", "list of strings"),
        ("[[group]]\nname = 'x'\np95 = 100", "needs name, p95_ms"),
        ("this is = = not toml", "not valid TOML"),
    ],
)
def test_bad_slo_files(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "slo.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_slo(path)
    assert needle in caught.value.message and caught.value.hint


def test_missing_slo_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_slo(tmp_path / "nope.toml")
    assert "no SLO file" in caught.value.message
