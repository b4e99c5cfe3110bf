"""Figures are written at a precision that fits their size, and "-" for anything unusable."""

from __future__ import annotations

from typing import Any

import pytest

from harness.report.figures import delta, duration, mebibytes, ms, number, per_call, percent


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0.0123, "0.012"),
        (2.345, "2.35"),
        (48.04, "48.0"),
        (640.0, "640"),
        (1250.4, "1,250"),
        (0, "0"),
    ],
)
def test_milliseconds(value: float, shown: str) -> None:
    assert ms(value) == shown


@pytest.mark.parametrize("bad", [None, "12", True, float("nan"), float("inf"), [1]])
def test_unusable_values_are_a_dash(bad: Any) -> None:
    for formatter in (ms, percent, delta, mebibytes, duration, number):
        assert formatter(bad) == "-"


def test_rates_changes_sizes_and_durations() -> None:
    assert percent(0.0196) == "1.96 %"
    assert delta(1.4195) == "+41.9 %" and delta(0.8055) == "-19.4 %"
    assert mebibytes(125_000_000) == "119.2 MiB" and mebibytes(8 * 1024**3) == "8.00 GiB"
    assert duration(45) == "45 s" and duration(66) == "1 min 06 s"
    assert duration(1800) == "30 min 00 s" and duration(3725) == "1 h 02 min"
    assert number(48210) == "48,210" and number(142.04, 1) == "142.0"


def test_counts_per_call_are_whole_where_they_can_be() -> None:
    assert [per_call(v) for v in (4.0, 2.5, 1234.0, 0.333, None, "x")] == [
        "4",
        "2.50",
        "1,234",
        "0.33",
        "-",
        "-",
    ]
