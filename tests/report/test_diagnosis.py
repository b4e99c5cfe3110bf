"""The run's own account of its numbers as text: causes ranked, the window, test bed, profile."""

from __future__ import annotations

from typing import Any

from harness.record import Window
from harness.report.diagnosis import (
    cause_lines,
    causes_of,
    checks_table,
    coverage_table,
    host_table,
    invalid_lines,
    outside_table,
    profile_line,
    ranked_causes,
    top_functions_table,
    window_line,
)
from tests.report.run_folders import (
    CAUSES,
    COVERAGE,
    HOST_LOAD,
    INVALID,
    PROFILE,
    SKIPPED_PROFILE,
    WINDOW,
    WINDOW_LINE,
    XSS_NAME,
    record,
)


def _window(**changes: Any) -> Window:
    return Window.model_validate(WINDOW | changes)


def test_causes_rank_by_weight_and_name_their_endpoints() -> None:
    diagnosed = record(verdict="FAIL", causes=CAUSES)
    assert [c.code for c in ranked_causes(diagnosed)] == ["bcrypt", "db_waits"]
    assert [c.code for c in causes_of(diagnosed, "POST /auth/login")] == ["bcrypt"]
    assert [c.code for c in causes_of(diagnosed, f"GET {XSS_NAME}")] == ["db_waits"]
    assert causes_of(diagnosed, "GET /health") == []
    assert ranked_causes(record()) == []


def test_a_cause_reads_as_summary_endpoints_evidence_and_hint() -> None:
    bcrypt = ranked_causes(record(causes=CAUSES))[0]
    assert cause_lines(bcrypt) == [
        "bcrypt hashing took the backend's CPU",
        "explains: POST /auth/login",
        "- hashpw: 41 % of the profile's samples",
        "- backend CPU at 98 % of its cores",
        "what to do: lower the bcrypt rounds for the test, or add backend workers",
    ]
    waits = ranked_causes(record(causes=CAUSES))[1]
    assert not any(line.startswith("what to do") for line in cause_lines(waits))  # no hint


def test_an_invalid_reason_reads_as_evidence_and_hint() -> None:
    reason = record(verdict="INVALID", invalid=INVALID).invalid[0]
    assert invalid_lines(reason) == [
        "- outside: <b>backup</b>.sh (pid 4711) 0.70 cores",
        "what to do: close the programs named above, then run again",
    ]


def test_the_window_line_says_length_warmup_and_users() -> None:
    assert window_line(_window()) == WINDOW_LINE
    assert window_line(_window(start=0.0, end=60.0, warmup_s=34.0, users=100, steady=None)) == (
        "Measured window: 60 s after a 34 s warm-up (100 users running, all started)"
    )
    assert window_line(_window(starts_done=False, steady=False)).endswith(
        "(50 users running, not all started); not steady"
    )
    assert window_line(_window(start=0.0, end=300.0, warmup_s=0, users=None)) == (
        "Measured window: 5 min 00 s from the load's start; steady"
    )


def test_a_ramp_is_measured_on_purpose() -> None:
    ramp = _window(ramp_measured=True, steady=None, checks=[])
    assert window_line(ramp).endswith("; the ramp measured on purpose")
    assert checks_table(ramp) is None


def test_the_steadiness_checks_are_a_table() -> None:
    moving = [*WINDOW["checks"][:2], {**WINDOW["checks"][0], "metric": "users", "steady": False}]
    table = checks_table(_window(checks=moving))
    assert table is not None
    assert table.columns[:4] == ("metric", "first third", "last third", "change")
    assert table.rows[0].cells == ("requests/s", "141.2", "137.9", "-2.3 %", "-0.20", "yes")
    assert table.rows[1].cells[:4] == ("p95 ms", "150", "196", "+30.7 %")
    assert (table.rows[2].cells[-1], table.rows[2].status) == ("no", "warn")


def test_the_host_is_shares_and_cores_with_its_outside_processes() -> None:
    host = record(host=HOST_LOAD).host
    assert host is not None
    rows = {r.cells[0]: r.cells[1:] for r in host_table(host).rows}
    assert rows["busy"] == ("62.00 %", "1.24")
    assert rows["outside the stack, generator and harness"] == ("5.00 %", "0.10")
    outside = outside_table(host)
    assert outside is not None and outside.rows[0].cells == ("4711", "<b>backup</b>.sh", "0.08")
    quiet = record(host={**HOST_LOAD, "steal": None, "top_outside": []}).host
    assert quiet is not None and outside_table(quiet) is None
    assert dict(r.cells[:2] for r in host_table(quiet).rows)["stolen by the hypervisor"] == "-"


def test_coverage_is_a_share_per_container() -> None:
    table = coverage_table(COVERAGE)
    assert table is not None
    assert [r.cells for r in table.rows] == [
        ("cv-a1b2c3d4-backend", "100.00 %"),
        ("cv-a1b2c3d4-postgres", "97.50 %"),
    ]
    assert coverage_table({}) is None


def test_the_profile_line_says_what_was_recorded_or_why_not() -> None:
    recorded = record(profile=PROFILE).profile
    assert recorded is not None
    assert profile_line(recorded, {"duration_s": 41.0}) == (
        "Profile recorded: 4,000 samples at 100 Hz over 41 s from 2 backend processes"
    )
    skipped = record(profile=SKIPPED_PROFILE).profile
    assert skipped is not None
    assert profile_line(skipped, None) == "Profile skipped: py-spy needs SYS_PTRACE on this host"
    failed = record(profile={"status": "failed"}).profile
    assert failed is not None and profile_line(failed, None) == "Profile failed: no reason given"


def test_top_functions_by_own_time() -> None:
    profile = record(profile=PROFILE).profile
    assert profile is not None
    table = top_functions_table(profile)
    assert table is not None
    assert table.columns == ("own %", "total %", "function", "file", "own samples")
    assert table.rows[0].cells == ("41.00 %", "41.00 %", "hashpw", "bcrypt/__init__.py", "1,640")
    assert table.rows[2].cells[3] == ""  # no file known
    assert top_functions_table(profile.model_copy(update={"top": []})) is None
