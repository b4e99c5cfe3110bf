"""Named load shapes (the guide's strategies): a warm-up to a steady load, then measured stages.

The steady shapes (baseline, load, soak) warm up at their full user count and wait for every
user's start (the logins and their password hashing) before the measured window begins, so
the window sees the system's steady state. Stress and spike warm up at a few users and measure
their ramp: it is their purpose.

Those are closed models: a user waits for its response before its next request, so a stalled
backend is sent less. The open shapes (rate, rate-ramp, capacity) schedule iterations at a rate
instead, taken by a pool of users (the shape's users), and time each request from its
scheduled start (harness/load/scenarios/open_model.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from harness.errors import ConfigError

# How much longer than its own length plus the spawning a warm-up may wait for the users' starts.
WARMUP_EXTRA_S = 120
# The open model's default pool: enough users for this many seconds of iterations in flight.
POOL_SECONDS = 2.0
POOL_MIN, POOL_MAX = 10, 400
OPEN_KINDS = ("rate", "rate-ramp", "capacity")
CAPACITY_STEPS = 8  # the capacity search's steps, each `rate` more than the one before

SCENARIOS: dict[str, tuple[str, ...]] = {
    "mixed": ("ContraVentoUser", "FeedBrowsingUser"),
    "contravento": ("ContraVentoUser",),
    "registration": ("RegistrationLoadTest",),
    "authentication": ("AuthenticationLoadTest",),
    "feed": ("FeedBrowsingUser",),
}


@dataclass(frozen=True)
class Shape:
    name: str
    users: int
    spawn_rate: float
    duration_s: int  # measured part, after the warm-up
    warmup_s: int
    kind: str = "steady"  # steady | ramp | spike (closed) | rate | rate-ramp | capacity (open)
    rate: float = 0.0  # open model: iterations per second (rate-ramp: at the end; capacity: step)
    steps: int = CAPACITY_STEPS  # capacity: how many steps of `rate` each

    @property
    def model(self) -> str:
        return "open" if self.kind in OPEN_KINDS else "closed"

    @property
    def peak_rate(self) -> float:
        return self.rate * self.steps if self.kind == "capacity" else self.rate

    @property
    def ramp_measured(self) -> bool:
        """Stress, spike and the rising rates measure their ramp on purpose; the others only
        their steady state."""
        return self.kind in ("ramp", "spike", "rate-ramp", "capacity")

    @property
    def warmup_users(self) -> int:
        """Users during the warm-up: the full load, except where a closed ramp is what is
        measured (an open shape's pool starts in full: its users log in there)."""
        closed_ramp = self.ramp_measured and self.model == "closed"
        return max(1, min(self.users, 10)) if closed_ramp else self.users

    @property
    def warmup_max_s(self) -> int:
        """The longest the warm-up may wait for its users to start before the window begins."""
        if self.warmup_s == 0:
            return 0
        spawn_s = math.ceil(self.warmup_users / max(self.spawn_rate, 1))
        return self.warmup_s + spawn_s + WARMUP_EXTRA_S

    @property
    def max_total_s(self) -> int:
        """The longest the load can run: the longest warm-up, then the measured window."""
        return self.warmup_max_s + self.window_s

    def plan(self) -> dict[str, Any]:
        """The staged shape's CV_SHAPE: its warm-up, and stages timed from the window's start."""
        warmup = (
            {
                "users": self.warmup_users,
                "spawn_rate": max(self.spawn_rate, 1),
                "min_s": self.warmup_s,
                "max_s": self.warmup_max_s,
                "wait_for_starts": True,
            }
            if self.warmup_s > 0
            else None
        )
        stages = self.stages()
        if self.model == "open" and warmup is not None:
            warmup["rate"] = stages[0]["rate"]  # the warm-up runs at the first stage's rate
        return {"model": self.model, "warmup": warmup, "stages": stages}

    def stages(self) -> list[dict[str, Any]]:
        """The measured window's stages, `for_s` seconds each."""
        if self.model == "open":
            return self._open_stages()
        if self.kind == "ramp":  # ten equal steps up to the peak: where does it break?
            step_s = max(self.duration_s // 10, 1)
            stages, used = [], 0
            for i in range(1, 11):
                length = step_s if i < 10 else max(self.duration_s - used, 1)
                used += length
                stages.append(
                    {"for_s": length, "users": self.users * i // 10, "spawn_rate": self.spawn_rate}
                )
            return stages
        return [{"for_s": self.duration_s, "users": self.users, "spawn_rate": self.spawn_rate}]

    def _open_stages(self) -> list[dict[str, Any]]:
        pool = {"users": self.users, "spawn_rate": self.spawn_rate}
        if self.kind == "rate-ramp":  # from a tenth of the rate up to it, linearly
            return [
                {"for_s": self.duration_s, **pool, "rate": self.rate / 10, "to_rate": self.rate}
            ]
        if self.kind == "capacity":  # `steps` steps of `duration_s` each: rate, 2 x rate, ...
            return [
                {"for_s": self.duration_s, **pool, "rate": self.rate * i}
                for i in range(1, self.steps + 1)
            ]
        return [{"for_s": self.duration_s, **pool, "rate": self.rate}]

    @property
    def window_s(self) -> int:
        """The measured window's length: the stages' seconds."""
        return sum(int(stage["for_s"]) for stage in self.stages())


SHAPES: dict[str, Shape] = {
    "baseline": Shape("baseline", users=10, spawn_rate=5, duration_s=120, warmup_s=10),
    "load": Shape("load", users=100, spawn_rate=10, duration_s=300, warmup_s=20),
    "stress": Shape("stress", users=500, spawn_rate=50, duration_s=300, warmup_s=20, kind="ramp"),
    "soak": Shape("soak", users=100, spawn_rate=10, duration_s=1800, warmup_s=30),
    "spike": Shape("spike", users=200, spawn_rate=100, duration_s=120, warmup_s=15, kind="spike"),
    # open models: `users` is the pool, sized from the rate unless given (default_pool)
    "rate": Shape(
        "rate", users=0, spawn_rate=20, duration_s=120, warmup_s=10, kind="rate", rate=20
    ),
    "rate-ramp": Shape(
        "rate-ramp", users=0, spawn_rate=20, duration_s=300, warmup_s=10, kind="rate-ramp", rate=100
    ),
    "capacity": Shape(
        "capacity", users=0, spawn_rate=20, duration_s=20, warmup_s=10, kind="capacity", rate=10
    ),
}


def default_pool(peak_rate: float) -> int:
    """Users enough for POOL_SECONDS of the peak rate's iterations in flight."""
    return int(min(max(math.ceil(peak_rate * POOL_SECONDS), POOL_MIN), POOL_MAX))


def resolve_shape(
    name: str,
    users: int | None = None,
    duration_s: int | None = None,
    spawn_rate: float | None = None,
    warmup_s: int | None = None,
    rate: float | None = None,
    steps: int | None = None,
) -> Shape:
    """The named shape with the user's numbers. `users` is the pool of an open shape."""
    if name not in SHAPES:
        raise ConfigError(f"unknown shape {name!r}", f"use one of {', '.join(SHAPES)}")
    shape = SHAPES[name]
    numbers = (
        ("users", users),
        ("duration", duration_s),
        ("spawn-rate", spawn_rate),
        ("rate", rate),
        ("steps", steps),
    )
    for label, value in numbers:
        if value is not None and value <= 0:
            raise ConfigError(f"--{label} must be positive, got {value}", "give a number above 0")
    if warmup_s is not None and warmup_s < 0:
        raise ConfigError(
            f"--warmup must be 0 or more, got {warmup_s}", "give seconds, e.g. --warmup 10"
        )
    if shape.model == "closed" and (rate is not None or steps is not None):
        raise ConfigError(
            f"--rate and --steps are for the open shapes, not {name!r} (a closed model: "
            "users wait for their responses)",
            f"use --shape {' or --shape '.join(OPEN_KINDS)} with --rate",
        )
    if steps is not None and shape.kind != "capacity":
        raise ConfigError(f"--steps is for the capacity search, not {name!r}", "drop --steps")
    if shape.warmup_s and warmup_s == 0 and shape.model == "open":
        raise ConfigError(
            "an open shape needs a warm-up: its pool of users logs in there",
            "give --warmup 5 or more",
        )
    resolved = replace(
        shape,
        users=users or shape.users,
        duration_s=duration_s or shape.duration_s,
        spawn_rate=spawn_rate or shape.spawn_rate,
        warmup_s=shape.warmup_s if warmup_s is None else warmup_s,
        rate=rate or shape.rate,
        steps=steps or shape.steps,
    )
    if resolved.model == "open" and not users:
        resolved = replace(resolved, users=default_pool(resolved.peak_rate))
    return resolved


def user_classes(scenario: str) -> tuple[str, ...]:
    if scenario not in SCENARIOS:
        raise ConfigError(f"unknown scenario {scenario!r}", f"use one of {', '.join(SCENARIOS)}")
    return SCENARIOS[scenario]
