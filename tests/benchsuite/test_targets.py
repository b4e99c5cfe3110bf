"""The targets file: the defaults cover every benchmark; bad files are clear errors."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.bench import load_targets, tolerance_of
from harness.bench.runner import DEFAULT_TARGETS, benchmark_names
from harness.errors import ConfigError

HEALTH = "benchmarks.test_health_endpoint_latency"
HASHING = "benchmarks.test_password_hashing_latency"


def test_the_default_targets_are_the_guides() -> None:
    targets = load_targets(None)
    p95 = {name: table.p95_ms for name, table in targets.benchmarks.items()}
    assert set(p95) == set(benchmark_names()) and len(p95) == 12
    assert p95["test_health_endpoint_latency"] == 200
    assert p95["test_login_endpoint_latency"] == 500
    assert p95["test_create_trip_latency"] == 1000
    assert p95["test_user_lookup_by_username"] == 50
    assert p95["test_trip_query_with_relationships"] == 100
    assert tolerance_of(targets, "test_password_hashing_latency") == 0.25
    assert tolerance_of(targets, "test_health_endpoint_latency") == 0.15
    assert targets.target_of("test_login_endpoint_latency") == 500
    assert targets.target_of("test_not_in_the_file") is None


def test_the_default_query_limits_are_the_reference_backends_exact_counts() -> None:
    """Measured on the reference backend (PostgreSQL, pg_stat_statements), no slack."""
    targets = load_targets(None)
    limits = {name: targets.max_queries_of(name) for name in benchmark_names()}
    assert limits == {
        "test_health_endpoint_latency": 0,
        "test_login_endpoint_latency": 7,
        "test_token_refresh_latency": 5,
        "test_public_feed_latency_empty": 4,
        "test_public_feed_latency_with_data": 4,
        "test_create_trip_latency": 19,
        "test_publish_trip_latency": 14,
        "test_user_trips_latency_with_data": 5,
        "test_user_lookup_by_username": 1,
        "test_trip_query_with_relationships": 4,
        "test_password_hashing_latency": None,  # no database in these two
        "test_password_verification_latency": None,
    }


def test_the_default_tolerance_applies_where_a_benchmark_gives_none(tmp_path: Path) -> None:
    path = tmp_path / "targets.toml"
    path.write_text(DEFAULT_TARGETS.read_text().replace("tolerance = 0.15", "tolerance = 0.05"))
    targets = load_targets(path)
    assert targets.tolerance_of("test_health_endpoint_latency") == 0.05
    assert targets.tolerance_of("test_password_hashing_latency") == 0.25


Edit = Callable[[str], str]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        # an unknown key, a misspelt table, a benchmark the suite does not have
        (
            lambda t: t.replace("p95_ms = 200", "p59_ms = 200", 1),
            f'unknown key "p59_ms" in {HEALTH}',
        ),
        (
            lambda t: t.replace("tolerance = 0.15", "tolerence = 0.15"),
            'unknown key "tolerence" in defaults',
        ),
        (lambda t: t.replace("[defaults]", "[default]"), 'unknown key "default"'),
        (
            lambda t: t.replace("test_health_endpoint_latency]", "test_helth_endpoint_latency]"),
            'unknown benchmark "test_helth_endpoint_latency" in benchmarks',
        ),
        # a wrong type: no silent conversion of a string to a number
        (
            lambda t: t.replace("p95_ms = 200", 'p95_ms = "fast"', 1),
            f"{HEALTH}.p95_ms must be a number greater than 0",
        ),
        (
            lambda t: t.replace("p95_ms = 200", 'p95_ms = "200"', 1),
            f"{HEALTH}.p95_ms must be a number greater than 0",
        ),
        (
            lambda t: (
                t.replace(
                    "[benchmarks.test_health_endpoint_latency]\np95_ms = 200\nmax_queries = 0", ""
                )
                + "\n[benchmarks]\ntest_health_endpoint_latency = 200\n"
            ),
            f"{HEALTH} must be a table",
        ),
        # a value out of range
        (
            lambda t: t.replace("p95_ms = 200", "p95_ms = -1", 1),
            f"{HEALTH}.p95_ms must be a number greater than 0",
        ),
        (
            lambda t: t.replace("tolerance = 0.15", "tolerance = 2"),
            "defaults.tolerance must be a number greater than 0 and less than 1",
        ),
        (
            lambda t: t.replace("tolerance = 0.25", "tolerance = 0", 1),
            f"{HASHING}.tolerance must be a number greater than 0 and less than 1",
        ),
        # max_queries: a whole number, 0 or more (a count, so no fraction and no string)
        (
            lambda t: t.replace("max_queries = 0", "max_queries = 1.5", 1),
            f"{HEALTH}.max_queries must be a whole number at least 0",
        ),
        (
            lambda t: t.replace("max_queries = 0", 'max_queries = "4"', 1),
            f"{HEALTH}.max_queries must be a whole number at least 0",
        ),
        (
            lambda t: t.replace("max_queries = 0", "max_queries = -1", 1),
            f"{HEALTH}.max_queries must be a whole number at least 0",
        ),
        (
            lambda t: t.replace("max_queries = 0", "max_query = 0", 1),
            f'unknown key "max_query" in {HEALTH}',
        ),
        # a required key or table missing
        (lambda t: t.replace("p95_ms = 200", "", 1), f'missing key "p95_ms" in {HEALTH}'),
        (
            lambda t: t.replace(
                "[benchmarks.test_login_endpoint_latency]\np95_ms = 500\nmax_queries = 7", ""
            ),
            "gives no target for test_login_endpoint_latency",
        ),
        (lambda t: "[defaults]\ntolerance = 0.1\n", "has no [benchmarks.<name>] tables"),
    ],
)
def test_a_bad_targets_file_names_the_key(tmp_path: Path, edit: Edit, message: str) -> None:
    path = tmp_path / "targets.toml"
    path.write_text(edit(DEFAULT_TARGETS.read_text()))
    with pytest.raises(ConfigError) as caught:
        load_targets(path)
    assert caught.value.message in (f"{path}: {message}", f"{path} {message}")
    assert caught.value.exit_code == 2
    assert re.fullmatch(r"error: [^\n]+\nhint: [^\n]+", caught.value.render())


def test_an_unknown_key_is_answered_with_where_to_look(tmp_path: Path) -> None:
    path = tmp_path / "targets.toml"
    path.write_text(DEFAULT_TARGETS.read_text().replace("p95_ms = 200", "p59_ms = 200", 1))
    with pytest.raises(ConfigError) as caught:
        load_targets(path)
    assert "spelling" in caught.value.hint and "harness/bench/targets.toml" in caught.value.hint


def test_a_file_that_is_not_toml(tmp_path: Path) -> None:
    path = tmp_path / "targets.toml"
    path.write_text(DEFAULT_TARGETS.read_text() + "\n[[broken")
    with pytest.raises(ConfigError, match="not valid TOML") as caught:
        load_targets(path)
    assert caught.value.hint


def test_a_missing_targets_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no targets file at"):
        load_targets(tmp_path / "nope.toml")
