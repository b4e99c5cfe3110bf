"""The targets file: the defaults cover every benchmark; bad files are clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.bench import load_targets, tolerance_of
from harness.bench.runner import DEFAULT_TARGETS, benchmark_names
from harness.errors import ConfigError


def test_the_default_targets_are_the_guides() -> None:
    targets = load_targets(None)
    p95 = {name: table["p95_ms"] for name, table in targets["benchmarks"].items()}
    assert set(p95) == set(benchmark_names()) and len(p95) == 12
    assert p95["test_health_endpoint_latency"] == 200
    assert p95["test_login_endpoint_latency"] == 500
    assert p95["test_create_trip_latency"] == 1000
    assert p95["test_user_lookup_by_username"] == 50
    assert p95["test_trip_query_with_relationships"] == 100
    assert tolerance_of(targets, "test_password_hashing_latency") == 0.25
    assert tolerance_of(targets, "test_health_endpoint_latency") == 0.15


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("p95_ms = 200", "p95_ms = -1", 1), "positive number"),
        (lambda t: t.replace("p95_ms = 200", 'p95_ms = "fast"', 1), "positive number"),
        (lambda t: t.replace("tolerance = 0.15", "tolerance = 2"), "between 0 and 1"),
        (
            lambda t: t.replace("[benchmarks.test_login_endpoint_latency]\np95_ms = 500", ""),
            "no target for test_login",
        ),
        (lambda t: t + "\n[[broken", "not valid TOML"),
        (lambda t: "[defaults]\ntolerance = 0.1\n", "has no .benchmarks"),
    ],
)
def test_a_bad_targets_file_is_refused_with_a_hint(
    tmp_path: Path, edit: object, message: str
) -> None:
    path = tmp_path / "targets.toml"
    path.write_text(edit(DEFAULT_TARGETS.read_text()))  # type: ignore[operator]
    with pytest.raises(ConfigError, match=message) as caught:
        load_targets(path)
    assert caught.value.hint


def test_a_missing_targets_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_targets(tmp_path / "nope.toml")
