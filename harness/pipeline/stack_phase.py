"""The stack phase: images and a stack (started or reused), and seeding its database."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import StackError, TargetRefused
from harness.images import build_images
from harness.pipeline.context import RunContext
from harness.pipeline.specs import SeedSpec, UpSpec
from harness.seed import MANIFEST, USERNAMES, SeedRequest, seed
from harness.stack import Stack, UpRequest, current, kind_of, reusable, stack_of, up


def bring_up(ctx: RunContext, spec: UpSpec) -> tuple[Stack, bool]:
    """The kept stack if one runs, else images (for Docker) and a new stack: kept if
    spec.persistent, a throwaway otherwise. Returns the stack and whether it was reused."""
    kept = reusable(ctx.home, spec.provider)
    if kept is not None:
        return stack_of(kept), True
    if not spec.persistent:
        ctx.progress("== stack: starting a throwaway stack")
    images: dict[str, str] = {}
    if kind_of(spec.provider).runs_images:
        began = time.monotonic()
        built = build_images(ctx.repo_root, base=spec.options.base, progress=ctx.progress)
        images = {"backend": built.backend, "postgres": built.postgres, "locust": built.locust}
        ctx.progress(f"images ready in {time.monotonic() - began:.1f}s")
    ctx.progress(f"starting the {spec.provider} stack ...")
    options = spec.options
    state = up(
        UpRequest(
            provider=spec.provider,
            home=ctx.home,
            repo_root=ctx.repo_root,
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
    """Seed this stack's database; the manifest goes into the stack's folder."""
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
    request = SeedRequest(
        dsn=stack.db_dsn,
        folder=stack.folder,
        profile=spec.profile,
        seed=spec.seed,
        reset=spec.reset,
        bcrypt_rounds=spec.bcrypt_rounds or stack.bcrypt_rounds,
        password=spec.password,
    )
    return seed(request, ctx.progress)


@dataclass(frozen=True)
class SeededUsers:
    """Who the load logs in as: the stack's seeded users, or nobody (users register)."""

    usernames: Path | None
    password: str
    summary: dict[str, Any] | None  # profile, seed, checksum and rows, for results.json


def seeded_users(stack: Stack, default_password: str) -> SeededUsers:
    try:
        manifest = json.loads((stack.folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return SeededUsers(None, default_password, None)
    usernames = stack.folder / USERNAMES
    summary = {k: manifest.get(k) for k in ("seed", "checksum", "total_rows")}
    summary["profile"] = (manifest.get("profile") or {}).get("name")
    return SeededUsers(
        usernames if usernames.exists() else None, str(manifest.get("password")), summary
    )


def is_seeded(stack: Stack) -> bool:
    return (stack.folder / MANIFEST).exists()
