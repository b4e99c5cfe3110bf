"""Production-like seed data, loaded fast and deterministically into a stack's database."""

from __future__ import annotations

from harness.seed.files import MANIFEST, USERNAMES, SeedManifest, read_manifest, seed_files_for
from harness.seed.profiles import PROFILES, Profile, resolve_profile
from harness.seed.reset import REFERENCE_TABLES
from harness.seed.seeder import DEFAULT_PASSWORD, SeedRequest, seed
from harness.seed.template import (
    TemplateBusy,
    cache_key,
    code_fingerprint,
    copy_seed_files,
    drop_template,
    has_template,
    list_templates,
    recall,
    remember,
    restore_template,
    save_template,
    schema_hash,
    seed_inputs,
    template_name,
)

__all__ = [
    "DEFAULT_PASSWORD",
    "MANIFEST",
    "PROFILES",
    "REFERENCE_TABLES",
    "USERNAMES",
    "Profile",
    "SeedManifest",
    "SeedRequest",
    "TemplateBusy",
    "cache_key",
    "code_fingerprint",
    "copy_seed_files",
    "drop_template",
    "has_template",
    "list_templates",
    "read_manifest",
    "recall",
    "remember",
    "resolve_profile",
    "restore_template",
    "save_template",
    "schema_hash",
    "seed",
    "seed_files_for",
    "seed_inputs",
    "template_name",
]
