"""Named load shapes (the guide's strategies) as stages, each preceded by a short warm-up."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from harness.errors import ConfigError

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

    def stages(self) -> list[dict[str, Any]]:
        """Stages for the StagedShape: `until` is seconds since the start, warm-up included."""
        warm_users = max(1, min(self.users, 10))
        stages = [
            {"until": self.warmup_s, "users": warm_users, "spawn_rate": max(self.spawn_rate, 1)}
        ]
        end = self.warmup_s + self.duration_s
        if self.kind == "ramp":  # ten equal steps up to the peak: where does it break?
            step_s = max(self.duration_s // 10, 1)
            for i in range(1, 11):
                until = min(self.warmup_s + i * step_s, end) if i < 10 else end
                stages.append(
                    {"until": until, "users": self.users * i // 10, "spawn_rate": self.spawn_rate}
                )
        else:
            stages.append({"until": end, "users": self.users, "spawn_rate": self.spawn_rate})
        return [s for s in stages if s["until"] > 0]


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
