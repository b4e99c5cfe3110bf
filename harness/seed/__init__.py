"""Production-like seed data, loaded fast and deterministically into a stack's database."""

from __future__ import annotations

from harness.seed.profiles import PROFILES, Profile, resolve_profile
from harness.seed.seeder import DEFAULT_PASSWORD, MANIFEST, USERNAMES, SeedRequest, seed

__all__ = [
    "DEFAULT_PASSWORD",
    "MANIFEST",
    "PROFILES",
    "USERNAMES",
    "Profile",
    "SeedRequest",
    "resolve_profile",
    "seed",
]
