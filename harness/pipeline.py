"""The orchestrator: composes images, stack (and later seed, load, bench, monitor, report)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.images import BaseMode, build_images
from harness.stack import (
    StackState,
    UpRequest,
    ensure_port_free,
    harness_home,
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
