"""Named load shapes (the guide's strategies): a warm-up to a steady load, then measured stages.

The steady shapes (baseline, load, soak) warm up at their full user count and wait for every
user's start (the logins and their password hashing) before the measured window begins, so
the window sees the system's steady state. Stress and spike warm up at a few users and measure
their ramp: it is their purpose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from harness.errors import ConfigError

# How much longer than its own length plus the spawning a warm-up may wait for the users' starts.
WARMUP_EXTRA_S = 120

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
    kind: str = "steady"  # steady | ramp | spike

    @property
    def ramp_measured(self) -> bool:
        """Stress and spike measure their ramp on purpose; the others only their steady state."""
        return self.kind in ("ramp", "spike")

    @property
    def warmup_users(self) -> int:
        """Users during the warm-up: the full load, except where the ramp is what is measured."""
        return max(1, min(self.users, 10)) if self.ramp_measured else self.users

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
        return self.warmup_max_s + self.duration_s

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
        return {"warmup": warmup, "stages": self.stages()}

    def stages(self) -> list[dict[str, Any]]:
        """The measured window's stages, `for_s` seconds each."""
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


SHAPES: dict[str, Shape] = {
    "baseline": Shape("baseline", users=10, spawn_rate=5, duration_s=120, warmup_s=10),
    "load": Shape("load", users=100, spawn_rate=10, duration_s=300, warmup_s=20),
    "stress": Shape("stress", users=500, spawn_rate=50, duration_s=300, warmup_s=20, kind="ramp"),
    "soak": Shape("soak", users=100, spawn_rate=10, duration_s=1800, warmup_s=30),
    "spike": Shape("spike", users=200, spawn_rate=100, duration_s=120, warmup_s=15, kind="spike"),
}


def resolve_shape(
    name: str,
    users: int | None = None,
    duration_s: int | None = None,
    spawn_rate: float | None = None,
    warmup_s: int | None = None,
) -> Shape:
    if name not in SHAPES:
        raise ConfigError(f"unknown shape {name!r}", f"use one of {', '.join(SHAPES)}")
    shape = SHAPES[name]
    for label, value in (("users", users), ("duration", duration_s), ("spawn-rate", spawn_rate)):
        if value is not None and value <= 0:
            raise ConfigError(f"--{label} must be positive, got {value}", "give a number above 0")
    if warmup_s is not None and warmup_s < 0:
        raise ConfigError(
            f"--warmup must be 0 or more, got {warmup_s}", "give seconds, e.g. --warmup 10"
        )
    return replace(
        shape,
        users=users or shape.users,
        duration_s=duration_s or shape.duration_s,
        spawn_rate=spawn_rate or shape.spawn_rate,
        warmup_s=shape.warmup_s if warmup_s is None else warmup_s,
    )


def user_classes(scenario: str) -> tuple[str, ...]:
    if scenario not in SCENARIOS:
        raise ConfigError(f"unknown scenario {scenario!r}", f"use one of {', '.join(SCENARIOS)}")
    return SCENARIOS[scenario]
