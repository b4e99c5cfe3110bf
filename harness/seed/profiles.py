"""Seed profiles: how many rows of each kind, by name, with per-run overrides."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from harness.errors import ConfigError


@dataclass(frozen=True)
class Profile:
    name: str
    users: int
    trips: int
    follows: int
    likes: int
    tags: int = 150  # vocabulary size; usage is Zipf-skewed


PROFILES: dict[str, Profile] = {
    "tiny": Profile("tiny", users=200, trips=600, follows=1_500, likes=1_200, tags=60),
    "small": Profile("small", users=10_000, trips=50_000, follows=120_000, likes=150_000),
    "medium": Profile("medium", users=50_000, trips=500_000, follows=1_000_000, likes=1_000_000),
    "large": Profile("large", users=500_000, trips=5_000_000, follows=10_000_000, likes=10_000_000),
}
OVERRIDABLE = ("users", "trips", "follows", "likes")


def resolve_profile(name: str, overrides: dict[str, int | None]) -> Profile:
    if name not in PROFILES:
        raise ConfigError(f"unknown seed profile {name!r}", f"use one of {', '.join(PROFILES)}")
    profile = PROFILES[name]
    changes = {k: v for k, v in overrides.items() if v is not None}
    for key, value in changes.items():
        if key not in OVERRIDABLE:
            raise ConfigError(f"--{key} cannot be overridden", f"override {', '.join(OVERRIDABLE)}")
        if value < 0 or (key == "users" and value < 2):
            raise ConfigError(f"--{key} {value} is too small", "users needs 2 or more; others 0+")
    if changes:
        profile = replace(profile, name=f"{name}+custom", **changes)
    return profile


def describe(profile: Profile) -> dict[str, int | str]:
    return {f.name: getattr(profile, f.name) for f in fields(profile)}
