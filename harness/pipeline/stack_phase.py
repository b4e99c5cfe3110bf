"""The stack phase: images and a stack (started or reused), and seeding its database."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.errors import StackError, TargetRefused
from harness.images import backend_image, build_images
from harness.pipeline.context import RunContext
from harness.pipeline.specs import SeedSpec, UpSpec
from harness.project import load_project
from harness.seed import (
    MANIFEST,
    USERNAMES,
    SeedRequest,
    cache_key,
    copy_seed_files,
    has_template,
    read_manifest,
    recall,
    remember,
    restore_template,
    save_template,
    schema_hash,
    seed,
    seed_files_for,
    seed_inputs,
    template_name,
)
from harness.stack import Stack, UpRequest, current, kind_of, reusable, stack_of, up


def bring_up(ctx: RunContext, spec: UpSpec) -> tuple[Stack, bool]:
    """The kept stack if one runs, else images (for Docker) and a new stack: kept if
    spec.persistent, a throwaway otherwise. Returns the stack and whether it was reused."""
    kept = reusable(ctx.home, spec.provider)
    if kept is not None:
        stack = stack_of(kept)
        if stack.project_file not in (None, spec.project.source):
            raise StackError(
                f"the running {stack.describe()} runs the backend of {stack.project_file},"
                f" not of {spec.project.source}",
                "run `make harness-down` first, or use that stack (same --config)",
            )
        return stack, True
    if not spec.persistent:
        ctx.progress("== stack: starting a throwaway stack")
    images: dict[str, str] = {}
    backend = spec.project.backend
    if kind_of(spec.provider).runs_images:
        began = time.monotonic()
        built = build_images(ctx.repo_root, base=spec.options.base, progress=ctx.progress)
        images = {"backend": built.backend, "postgres": built.postgres, "locust": built.locust}
        if not backend.is_reference:
            images["backend"] = backend_image(spec.project, spec.options.base, ctx.progress)
        ctx.progress(f"images ready in {time.monotonic() - began:.1f}s")
    ctx.progress(f"starting the {spec.provider} stack ...")
    options = spec.options
    state = up(
        UpRequest(
            provider=spec.provider,
            home=ctx.home,
            project=spec.project,
            persistent=spec.persistent,
            images=images,
            target=options.target,
            db_dsn=options.db_dsn,
            allow_remote=options.allow_remote,
            bcrypt_rounds=options.bcrypt_rounds,
            backend_workers=options.backend_workers,
            port=options.port,
        )
    )
    return stack_of(state), False


def running_stack(ctx: RunContext) -> Stack:
    state = current(ctx.home)
    stack = stack_of(state) if state is not None else None
    if stack is None or not stack.alive():
        raise StackError(
            "no stack is up", "start one with `make harness-up` (or use make full-load)"
        )
    return stack


def seed_stack(ctx: RunContext, stack: Stack, spec: SeedSpec) -> dict[str, Any]:
    """Seed this stack's database; the manifest goes into the stack's folder and, keyed by the
    database, under the harness home (where it outlives an external stack's folder)."""
    if stack.db_dsn is None:
        raise StackError(
            "the current stack has no database DSN",
            "attach it with `harness up --target URL --db-dsn DSN`",
        )
    if stack.writes_need_permission and not spec.allow_remote:
        raise TargetRefused(
            f"seeding writes to the database of an {stack.kind} stack",
            "add --allow-remote-target if that database is a test database you may overwrite",
        )
    request = _seed_request(ctx, stack, spec)
    return seed(request, ctx.progress)


def _seed_request(ctx: RunContext, stack: Stack, spec: SeedSpec) -> SeedRequest:
    assert stack.db_dsn is not None
    # what the seeder must know of the backend's schema: from the file the stack started from
    project = load_project(stack.project_file or spec.config, ctx.cwd)
    return SeedRequest(
        dsn=stack.db_dsn,
        folder=stack.folder,
        profile=spec.profile,
        seed=spec.seed,
        reset=spec.reset,
        bcrypt_rounds=spec.bcrypt_rounds or stack.bcrypt_rounds,
        password=spec.password,
        home=ctx.home,  # the seed files are also kept there, keyed by the database
        column_fills=project.seed.columns,
        keep_tables=list(project.seed.keep_tables),
    )


@dataclass(frozen=True)
class SeededUsers:
    """Who the load logs in as: the stack's seeded users, or nobody (users register)."""

    usernames: Path | None
    password: str
    summary: dict[str, Any] | None  # profile, seed, checksum and rows, for results.json


def seeded_users(stack: Stack, default_password: str, home: Path | None = None) -> SeededUsers:
    """The users seeded into the stack's database, from its folder's seed files or else from
    those kept for the database under the harness home (an external stack's folder goes with
    `harness down`, its data stays). home: by default the one the stack's folder is in."""
    found = _seed_files(stack, home)
    manifest = read_manifest(found[0]) if found is not None else None
    if found is None or manifest is None:
        return SeededUsers(None, default_password, None)
    usernames = found[1]
    summary = {
        "seed": manifest.seed,
        "checksum": manifest.checksum,
        "total_rows": manifest.total_rows,
        "profile": manifest.profile.get("name"),
    }
    return SeededUsers(usernames if usernames.exists() else None, manifest.password, summary)


def _seed_files(stack: Stack, home: Path | None) -> tuple[Path, Path] | None:
    """(manifest, usernames) of the stack's folder, else those kept for its database if it
    still holds their users."""
    if (stack.folder / MANIFEST).exists():
        return stack.folder / MANIFEST, stack.folder / USERNAMES
    if stack.db_dsn is None:
        return None
    # A stack's folder is <home>/stacks/<stack id> (harness.stack.state.stack_folder).
    return seed_files_for(stack.db_dsn, home or stack.folder.parents[1])


def is_seeded(stack: Stack, home: Path | None = None) -> bool:
    return _seed_files(stack, home) is not None


@dataclass
class SeedCache:
    """A stack's seeded database kept as a template in its own cluster, restored on demand."""

    stack: Stack
    key: str  # schema hash, profile, seed and whatever else shapes the rows
    schema: str  # the hash of the schema the backend's migrations made
    template: str  # the template database's name
    seeded_s: float | None  # None: the template was there already
    saved_s: float | None

    def restore(self, ctx: RunContext) -> float:
        """The database back to its seeded state (the backend stopped meanwhile); seconds the
        restore itself took."""
        assert self.stack.db_dsn is not None
        with self.stack.backend_stopped():
            took = restore_template(self.stack.db_dsn, self.template)
        ctx.progress(f"database restored from template {self.template} in {took:.1f}s")
        return took


def _cache_key(ctx: RunContext, stack: Stack, spec: SeedSpec) -> tuple[str, str, str]:
    """(key, schema hash, template name) of the data this spec would seed into this stack."""
    dsn = stack.db_dsn
    if dsn is None or not stack.restarts_backend:
        raise StackError(
            f"the seeded-data cache needs a stack whose backend the harness can restart"
            f" (this is a {stack.kind} stack)",
            "use the Docker provider",
        )
    schema = schema_hash(dsn)
    key = cache_key(schema, seed_inputs(_seed_request(ctx, stack, spec)))
    return key, schema, template_name(key)


def cached_seed(ctx: RunContext, stack: Stack, spec: SeedSpec) -> SeedCache | None:
    """The stack's template of this data, restored into its database; None when it has none."""
    key, schema, name = _cache_key(ctx, stack, spec)
    kept = recall(ctx.home, key)
    assert stack.db_dsn is not None
    if kept is None or not has_template(stack.db_dsn, name):
        return None
    ctx.progress(f"seed: template {name} holds this data; restoring it")
    cache = SeedCache(stack, key, schema, name, None, None)
    cache.restore(ctx)
    copy_seed_files(kept, stack.folder)
    return cache


def seed_cached(ctx: RunContext, stack: Stack, spec: SeedSpec) -> SeedCache:
    """The stack's database seeded, or restored from its template when the cluster keeps one
    for this schema, profile and seed; a template saved after a fresh seed."""
    found = cached_seed(ctx, stack, spec)
    if found is not None:
        return found
    key, schema, name = _cache_key(ctx, stack, spec)
    assert stack.db_dsn is not None
    began = time.monotonic()
    seed_stack(ctx, stack, replace(spec, reset=True))
    seeded = time.monotonic() - began
    with stack.backend_stopped():
        saved = save_template(stack.db_dsn, name)
    remember(ctx.home, key, stack.folder)
    ctx.progress(f"seed: kept as template {name} ({saved:.1f}s); seeded in {seeded:.1f}s")
    return SeedCache(stack, key, schema, name, round(seeded, 2), round(saved, 2))
