"""Shapes turn into a warm-up and measured stages; bad values are refused."""

from __future__ import annotations

import pytest

from harness.errors import ConfigError
from harness.load.shapes import (
    POOL_MAX,
    SHAPES,
    WARMUP_EXTRA_S,
    default_pool,
    resolve_shape,
    user_classes,
)


def test_steady_shape_warms_up_at_full_load_and_waits_for_every_start() -> None:
    shape = resolve_shape("load", users=100, duration_s=60, warmup_s=10)
    assert shape.plan() == {
        "model": "closed",
        "warmup": {
            "users": 100,  # the whole load: the ramp and its logins stay out of the window
            "spawn_rate": 10,
            "min_s": 10,
            "max_s": 10 + 10 + WARMUP_EXTRA_S,  # spawning 100 at 10/s takes 10 s
            "wait_for_starts": True,
        },
        "stages": [{"for_s": 60, "users": 100, "spawn_rate": 10}],
    }
    assert shape.max_total_s == 10 + 10 + WARMUP_EXTRA_S + 60
    assert not shape.ramp_measured


def test_no_warm_up_means_the_window_starts_at_once() -> None:
    shape = resolve_shape("baseline", warmup_s=0)
    assert shape.plan()["warmup"] is None and shape.max_total_s == shape.duration_s


def test_stress_measures_its_ramp_in_ten_steps_to_the_peak() -> None:
    shape = resolve_shape("stress", duration_s=100, warmup_s=10)
    stages = shape.stages()
    assert [s["users"] for s in stages] == [50 * i for i in range(1, 11)]
    assert sum(s["for_s"] for s in stages) == 100
    assert shape.ramp_measured and shape.plan()["warmup"]["users"] == 10


def test_spike_spawns_fast_inside_the_window() -> None:
    spike = SHAPES["spike"]
    assert spike.users == 200 and spike.spawn_rate == 100 and spike.ramp_measured
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
        ({"name": "load", "rate": 50}, "open shapes"),
        ({"name": "rate", "rate": 0}, "--rate"),
        ({"name": "rate", "steps": 3}, "capacity search"),
        ({"name": "capacity", "steps": 0}, "--steps"),
        ({"name": "rate", "warmup_s": 0}, "needs a warm-up"),
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


def test_a_constant_rate_warms_up_its_pool_at_that_rate() -> None:
    shape = resolve_shape("rate", rate=50, duration_s=60, warmup_s=5)
    plan = shape.plan()
    assert shape.model == "open" and shape.users == default_pool(50) == 100  # 2 s of arrivals
    assert plan["model"] == "open" and plan["warmup"]["rate"] == 50
    assert plan["warmup"]["users"] == 100  # the whole pool logs in before the window
    assert plan["stages"] == [{"for_s": 60, "users": 100, "spawn_rate": 20, "rate": 50}]
    assert not shape.ramp_measured


def test_a_rate_ramp_and_a_capacity_search_measure_their_rise() -> None:
    ramp = resolve_shape("rate-ramp", rate=80, users=30)
    assert ramp.users == 30 and ramp.ramp_measured
    assert ramp.stages()[0] | {"users": 0} == {
        "for_s": 300,
        "users": 0,
        "spawn_rate": 20,
        "rate": 8,
        "to_rate": 80,
    }
    search = resolve_shape("capacity", rate=15, steps=4, duration_s=30)
    assert [s["rate"] for s in search.stages()] == [15, 30, 45, 60]
    assert search.window_s == 120 and search.users == default_pool(60) == 120
    assert search.plan()["warmup"]["rate"] == 15 and search.plan()["warmup"]["users"] == 120
    assert default_pool(10_000) == POOL_MAX
