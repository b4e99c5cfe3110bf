"""Production-like seed data, loaded fast and deterministically into a stack's database."""

from __future__ import annotations

from harness.seed.files import MANIFEST, USERNAMES, SeedManifest, read_manifest, seed_files_for
from harness.seed.profiles import PROFILES, Profile, resolve_profile
from harness.seed.reset import REFERENCE_TABLES
from harness.seed.seeder import DEFAULT_PASSWORD, SeedRequest, seed

__all__ = [
    "DEFAULT_PASSWORD",
    "MANIFEST",
    "PROFILES",
    "REFERENCE_TABLES",
    "USERNAMES",
    "Profile",
    "SeedManifest",
    "SeedRequest",
    "read_manifest",
    "resolve_profile",
    "seed",
    "seed_files_for",
]
