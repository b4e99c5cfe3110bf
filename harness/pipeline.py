"""The orchestrator: composes images, stack (and later seed, load, bench, monitor, report)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.errors import StackError, TargetRefused
from harness.images import BaseMode, build_images
from harness.seed import SeedRequest, resolve_profile, seed
from harness.stack import (
    StackState,
    UpRequest,
    current,
    ensure_port_free,
    harness_home,
    is_alive,
    resolve_provider,
    running,
    up,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class UpOptions:
    provider: str = "auto"
    target: str | None = None
    db_dsn: str | None = None
    allow_remote: bool = False
    base: BaseMode = "auto"
    bcrypt_rounds: int = 12
    backend_workers: int = 1
    persistent: bool = True
    port: int | None = None


def bring_up(
    options: UpOptions, environ: Mapping[str, str], progress: Progress
) -> tuple[StackState, bool]:
    """Images (for Docker) then the stack; returns the stack and whether it was reused."""
    home = harness_home(environ, REPO_ROOT)
    provider = resolve_provider(options.provider, options.target)
    if options.port is not None:
        ensure_port_free(options.port)
    if options.persistent and provider != "external":
        reusable = running(home, provider)
        if reusable is not None:
            return reusable, True
    backend_image = postgres_image = None
    if provider == "docker":
        began = time.monotonic()
        images = build_images(REPO_ROOT, base=options.base, progress=progress)
        backend_image, postgres_image = images.backend, images.postgres
        progress(f"images ready in {time.monotonic() - began:.1f}s")
    progress(f"starting the {provider} stack ...")
    request = UpRequest(
        provider=provider,
        home=home,
        repo_root=REPO_ROOT,
        persistent=options.persistent,
        backend_image=backend_image,
        postgres_image=postgres_image,
        target=options.target,
        db_dsn=options.db_dsn,
        allow_remote=options.allow_remote,
        bcrypt_rounds=options.bcrypt_rounds,
        backend_workers=options.backend_workers,
        port=options.port,
    )
    return up(request)


@dataclass(frozen=True)
class SeedOptions:
    profile: str = "small"
    seed: int = 1
    reset: bool = False
    users: int | None = None
    trips: int | None = None
    follows: int | None = None
    likes: int | None = None
    password: str | None = None
    bcrypt_rounds: int | None = None
    allow_remote: bool = False


def seed_current(
    options: SeedOptions, environ: Mapping[str, str], progress: Progress
) -> dict[str, object]:
    """Seed the current stack's database; a bad profile is refused before anything else."""
    resolve_profile(
        options.profile,
        {
            "users": options.users,
            "trips": options.trips,
            "follows": options.follows,
            "likes": options.likes,
        },
    )
    home = harness_home(environ, REPO_ROOT)
    state = current(home)
    if state is None or not is_alive(state):
        raise StackError("no stack is up to seed", "start one with `make harness-up`")
    return seed_stack(state, options, progress)


def seed_stack(state: StackState, options: SeedOptions, progress: Progress) -> dict[str, object]:
    """Seed this stack's database; the manifest goes into the stack's folder."""
    profile = resolve_profile(
        options.profile,
        {
            "users": options.users,
            "trips": options.trips,
            "follows": options.follows,
            "likes": options.likes,
        },
    )
    if state.db_dsn is None:
        raise StackError(
            "the current stack has no database DSN",
            "attach it with `harness up --target URL --db-dsn DSN`",
        )
    if state.provider == "external" and not options.allow_remote:
        raise TargetRefused(
            "seeding writes to an external stack's database",
            "add --allow-remote-target if that database is a test database you may overwrite",
        )
    request = SeedRequest(
        dsn=state.db_dsn,
        folder=Path(state.folder),
        profile=profile,
        seed=options.seed,
        reset=options.reset,
        bcrypt_rounds=options.bcrypt_rounds or state.bcrypt_rounds,
        **({"password": options.password} if options.password else {}),
    )
    return seed(request, progress)
