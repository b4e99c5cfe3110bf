"""junit.xml: a test case per SLO row and per benchmark, counts that add up, valid XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from harness.report import build_report
from tests.report.run_folders import (
    FAILURE_GROUPS,
    SHORT_USERS,
    SHORT_USERS_LINE,
    XSS_NAME,
    edit_results,
)


def _junit(run_dir: Path) -> ET.Element:
    build_report(run_dir)
    return ET.fromstring((run_dir / "junit.xml").read_bytes())  # noqa: S314 -- our own file


def _check_counts(root: ET.Element) -> None:
    """Every suite's and the root's counts are what its test cases say."""
    assert root.tag == "testsuites"
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        counted = {
            "tests": len(cases),
            "failures": sum(c.find("failure") is not None for c in cases),
            "errors": sum(c.find("error") is not None for c in cases),
            "skipped": sum(c.find("skipped") is not None for c in cases),
        }
        assert {k: int(suite.get(k, "-1")) for k in counted} == counted, suite.get("name")
        total = {k: total[k] + counted[k] for k in total}
    assert {k: int(root.get(k, "-1")) for k in total} == total


def test_one_case_per_slo_row_and_per_benchmark(full_run: Path) -> None:
    root = _junit(full_run)
    _check_counts(root)
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"slo", "bench"}
    assert (suites["slo"].get("tests"), suites["slo"].get("failures")) == ("11", "2")
    assert (suites["bench"].get("tests"), suites["bench"].get("failures")) == ("12", "1")
    assert (root.get("tests"), root.get("failures")) == ("23", "3")
    assert {c.get("classname") for c in suites["slo"]} == {"slo"}
    assert {c.get("classname") for c in suites["bench"]} == {"bench"}


def test_a_failing_slo_case_gives_observed_against_target(full_run: Path) -> None:
    root = _junit(full_run)
    case = root.find(".//testcase[@name='POST /auth/login [auth]']")
    assert case is not None
    failure = case.find("failure")
    assert failure is not None
    message = failure.get("message", "")
    assert "observed p95 640 ms (target 500 ms)" in message and message.startswith("p95 640 ms")
    names = [c.get("name") for c in root.iter("testcase")]
    assert f"GET {XSS_NAME} [failures only]" in names
    passed = root.find(".//testcase[@name='GET /health [simple queries]']")
    assert passed is not None and passed.find("failure") is None


def test_a_regression_against_the_baseline_fails_its_benchmark(full_run: Path) -> None:
    case = _junit(full_run).find(".//testcase[@name='test_login_endpoint_latency']")
    assert case is not None
    failure = case.find("failure")
    assert failure is not None
    assert "regression against baseline" in failure.get("message", "")
    assert "ratio 1.4195" in failure.get("message", "")


def test_a_bench_only_run_has_only_benchmark_cases(bench_run: Path) -> None:
    root = _junit(bench_run)
    _check_counts(root)
    assert [s.get("name") for s in root.findall("testsuite")] == ["bench"]
    failures = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failures] == [
        "test_create_trip_latency",
        "test_publish_trip_latency",
    ]
    message = failures[0].find("failure").get("message", "")  # type: ignore[union-attr]
    assert message.startswith("AssertionError: assert 'draft' == 'DRAFT'")


def test_a_failed_run_without_failing_rows_still_fails(full_run: Path) -> None:
    edit_results(full_run, slo=[], endpoints=[], benchmarks=None, comparison=None)
    root = _junit(full_run)
    _check_counts(root)
    case = root.find(".//testcase[@classname='run']")
    assert case is not None and case.find("failure") is not None
    assert "no SLO rows" in case.find("failure").get("message", "")  # type: ignore[union-attr]


def test_characters_xml_cannot_hold_are_replaced(full_run: Path) -> None:
    row = {
        "endpoint": "GET /colour\x1b[31m",
        "group": None,
        "p95_ms": 1.0,
        "target_p95_ms": None,
        "failure_rate": 0.5,
        "max_failure_rate": 0.01,
        "passed": False,
        "reason": "failures 50.00% > 1.00%\x00",
    }
    edit_results(full_run, slo=[row])
    root = _junit(full_run)
    assert root.find(".//testcase[@name='GET /colour?[31m [failures only]']") is not None


def test_a_load_short_of_its_users_fails_a_users_case(full_run: Path) -> None:
    edit_results(full_run, users=SHORT_USERS)
    root = _junit(full_run)
    _check_counts(root)
    case = root.find("testsuite[@name='users']/testcase")
    assert case is not None and case.get("classname") == "users"
    failure = case.find("failure")
    assert failure is not None and failure.get("message") == SHORT_USERS_LINE


def test_a_load_that_reached_its_users_passes_its_users_case(full_run: Path) -> None:
    edit_results(full_run, users={"planned": 10, "reached": 10, "started": 10})
    case = _junit(full_run).find("testsuite[@name='users']/testcase")
    assert case is not None and case.find("failure") is None
    out = case.find("system-out")
    assert out is not None and out.text == "users: 10 planned, 10 reached"


def test_an_slo_case_lists_its_endpoints_failures(full_run: Path) -> None:
    edit_results(full_run, failures=FAILURE_GROUPS)
    root = _junit(full_run)
    failure = root.find(".//testcase[@name='POST /auth/login [auth]']/failure")
    assert failure is not None and failure.text is not None
    assert failure.text.splitlines()[1:] == ["2 x POST /auth/login -> 401 BAD: x"]
    other = root.find(".//testcase[@name='GET /health [simple queries]']/system-out")
    assert other is not None and other.text is not None and "->" not in other.text


def test_each_invalid_reason_is_an_error_case(invalid: Path) -> None:
    root = _junit(invalid)
    _check_counts(root)
    suite = root.find("testsuite[@name='invalid']")
    assert suite is not None and suite.get("errors") == "2" and suite.get("failures") == "0"
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("invalid", "host_busy"),
        ("invalid", "samples_missing"),
    ]
    error = cases[0].find("error")
    assert error is not None and cases[0].find("failure") is None
    assert error.get("type") == "invalid"
    assert error.get("message") == "other programs used 35% of the machine during the window"
    assert error.text == (
        "- outside: <b>backup</b>.sh (pid 4711) 0.70 cores\n"
        "what to do: close the programs named above, then run again"
    )
    assert root.find(".//testcase[@classname='run']") is None  # the errors already say it


def test_a_failing_slo_case_carries_the_causes_that_name_its_endpoint(diagnosed: Path) -> None:
    root = _junit(diagnosed)
    login = root.find(".//testcase[@name='POST /auth/login [auth]']/failure")
    assert login is not None and login.text is not None
    why = login.text.split("\n\n", 1)[1].splitlines()
    assert why == [
        "why: bcrypt hashing took the backend's CPU",
        "  explains: POST /auth/login",
        "  - hashpw: 41 % of the profile's samples",
        "  - backend CPU at 98 % of its cores",
        "  what to do: lower the bcrypt rounds for the test, or add backend workers",
    ]
    search = root.find(f".//testcase[@name='GET {XSS_NAME} [failures only]']/failure")
    assert search is not None and search.text is not None
    assert "why: sessions waited on row locks" in search.text and "bcrypt" not in search.text


def test_no_cause_found_is_said_in_the_failing_slo_cases(diagnosed: Path) -> None:
    edit_results(diagnosed, causes=[])
    failures = [f.text or "" for f in _junit(diagnosed).iter("failure")]
    slo = [text for text in failures if "observed p95" in text and "why" in text]
    assert len(slo) == 2
    assert all(text.endswith("why: no cause found in what this run measured") for text in slo)
