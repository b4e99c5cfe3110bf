"""The SLO file is validated, and the verdict judges p95 and failure rate per endpoint."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from harness.errors import ConfigError
from harness.verdict import DEFAULT_SLO, evaluate, load_slo


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


AUTH = '[[group]]\nname = "auth"\nendpoints = ["POST /auth/login"]\n'
LISTS = '[[group]]\nname = "lists"\np95_ms = 200\n'  # a good group first: the second is named


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # an unknown key, at the top and in a group (named even though p95_ms is then missing)
        ("max_faillure_rate = 0.01", 'unknown key "max_faillure_rate"'),
        ("[groups.auth]\np95_ms = 500", 'unknown key "groups"'),
        (AUTH + "p59_ms = 500", 'unknown key "p59_ms" in group "auth"'),
        # a wrong type: no silent conversion of a string or a boolean to a number
        (AUTH + 'p95_ms = "500"', 'group "auth".p95_ms must be a number greater than 0'),
        (LISTS + AUTH + "p95_ms = true", 'group "auth".p95_ms must be a number greater than 0'),
        ("max_failure_rate = '0.01'", "max_failure_rate must be a number between 0 and 1"),
        (
            "[[group]]\nname = 'x'\np95_ms = 100\nendpoints = 'GET /'",
            'group "x".endpoints must be a list of strings',
        ),
        (
            "[[group]]\nname = 'x'\np95_ms = 100\nendpoints = ['GET /', 3]",
            'group "x".endpoints #2 must be a string',
        ),
        ("[[group]]\nname = 3\np95_ms = 100", "group #1.name must be a string"),
        # a value out of range
        (AUTH + "p95_ms = -1", 'group "auth".p95_ms must be a number greater than 0'),
        (AUTH + "p95_ms = 0", 'group "auth".p95_ms must be a number greater than 0'),
        ("max_failure_rate = 2", "max_failure_rate must be a number between 0 and 1"),
        ("max_failure_rate = -0.1", "max_failure_rate must be a number between 0 and 1"),
        # a required key missing
        (AUTH, 'missing key "p95_ms" in group "auth"'),
        ("[[group]]\np95_ms = 100", 'missing key "name" in group #1'),
    ],
)
def test_a_bad_slo_file_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "slo.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_slo(path)
    assert caught.value.message == f"{path}: {message}"
    assert caught.value.exit_code == 2
    assert re.fullmatch(r"error: [^\n]+\nhint: [^\n]+", caught.value.render())


def test_an_unknown_key_is_answered_with_the_keys_that_are_allowed(tmp_path: Path) -> None:
    path = tmp_path / "slo.toml"
    path.write_text(AUTH + "p95_ms = 500\np59_ms = 500")
    with pytest.raises(ConfigError) as caught:
        load_slo(path)
    assert "name, p95_ms, endpoints" in caught.value.hint
    assert str(DEFAULT_SLO) in caught.value.hint


def test_a_file_that_is_not_toml(tmp_path: Path) -> None:
    path = tmp_path / "slo.toml"
    path.write_text("this is = = not toml")
    with pytest.raises(ConfigError) as caught:
        load_slo(path)
    assert "not valid TOML" in caught.value.message and caught.value.hint


def test_the_file_read_is_remembered(tmp_path: Path) -> None:
    path = tmp_path / "slo.toml"
    path.write_text('max_failure_rate = 0.05\n[[group]]\nname = "x"\np95_ms = 10')
    slo = load_slo(path)
    assert slo.source == str(path) and load_slo().source == str(DEFAULT_SLO)
    assert slo.max_failure_rate == 0.05 and slo.groups[0].endpoints == []
    assert slo.group_of("GET /health") is None


def test_missing_slo_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_slo(tmp_path / "nope.toml")
    assert "no SLO file" in caught.value.message
