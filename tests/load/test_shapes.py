"""Shapes turn into stages with the warm-up first; bad values are refused."""

from __future__ import annotations

import itertools

import pytest

from harness.errors import ConfigError
from harness.load.shapes import SHAPES, resolve_shape, user_classes


def test_steady_shape_has_warmup_then_target() -> None:
    shape = resolve_shape("load", users=100, duration_s=60, warmup_s=10)
    assert shape.stages() == [
        {"until": 10, "users": 10, "spawn_rate": 10},
        {"until": 70, "users": 100, "spawn_rate": 10},
    ]


def test_stress_ramps_in_ten_steps_to_the_peak() -> None:
    stages = resolve_shape("stress", duration_s=100, warmup_s=10).stages()
    users = [s["users"] for s in stages[1:]]
    assert users == [50 * i for i in range(1, 11)]
    assert stages[-1]["until"] == 110 and all(
        a["until"] < b["until"] for a, b in itertools.pairwise(stages)
    )


def test_spike_spawns_fast() -> None:
    spike = SHAPES["spike"]
    assert spike.users == 200 and spike.spawn_rate == 100
    assert spike.stages()[-1]["spawn_rate"] == 100


def test_guide_defaults() -> None:
    assert (SHAPES["baseline"].users, SHAPES["baseline"].duration_s) == (10, 120)
    assert (SHAPES["soak"].users, SHAPES["soak"].duration_s) == (100, 1800)
    assert SHAPES["stress"].users == 500


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"name": "chaos"}, "unknown shape"),
        ({"name": "load", "users": 0}, "--users"),
        ({"name": "load", "users": -5}, "--users"),
        ({"name": "load", "duration_s": 0}, "--duration"),
        ({"name": "load", "warmup_s": -1}, "--warmup"),
    ],
)
def test_bad_shapes(kwargs: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_shape(**kwargs)  # type: ignore[arg-type]
    assert needle in caught.value.message and caught.value.hint


def test_scenarios() -> None:
    assert user_classes("mixed") == ("ContraVentoUser", "FeedBrowsingUser")
    with pytest.raises(ConfigError):
        user_classes("everything")
