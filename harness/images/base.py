"""Base images: the official ones from a registry when possible, debootstrapped ones otherwise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from harness.errors import ImageBuildError
from harness.images.debootstrap import SUITE, RootfsRecipe, build_offline_base
from harness.images.docker_cli import DockerCli

BaseMode = Literal["auto", "registry", "offline"]
BASE_MODES: tuple[BaseMode, ...] = ("auto", "registry", "offline")


@dataclass(frozen=True)
class BaseSpec:
    """A base image: its official registry name and the offline recipe standing in for it."""

    registry_ref: str
    recipe: RootfsRecipe


@dataclass(frozen=True)
class BaseImage:
    """A base that is present locally: the name to put in FROM, and its image id."""

    ref: str
    image_id: str
    offline: bool


# python:3.11-slim is Debian bookworm with CPython 3.11, and so is bookworm's own python3;
# python3-venv brings ensurepip, so both bases make a venv the same way.
PYTHON_BASE = BaseSpec(
    registry_ref="python:3.11-slim",
    recipe=RootfsRecipe(
        name="python",
        packages=("python3", "python3-venv", "ca-certificates", "passwd"),
    ),
)

# bookworm ships PostgreSQL 15 (contrib, pg_stat_statements included, is part of
# postgresql-15); the package's postinst creates a "main" cluster we do not want, since the
# entrypoint runs initdb on first start like the official image does.
POSTGRES_BASE = BaseSpec(
    registry_ref="postgres:16",
    recipe=RootfsRecipe(
        name="postgres",
        packages=("postgresql-15", "postgresql-client-15", "passwd"),
        remove=("var/lib/postgresql/15/main", "etc/postgresql/15/main"),
    ),
)


def resolve_base(
    docker: DockerCli,
    spec: BaseSpec,
    mode: BaseMode,
    *,
    progress: Callable[[str], None],
    etc_apt: Path = Path("/etc/apt"),
    cache_dir: Path | None = None,
) -> BaseImage:
    """A usable base for `spec`: local or pulled official image, else the offline one.

    "auto" falls back to offline when the pull fails, "registry" fails instead, and
    "offline" never touches a registry. Offline bases are cached by their recipe tag.
    """
    if mode != "offline":
        found = _from_registry(docker, spec.registry_ref, mode, progress)
        if found is not None:
            return found
    tag = spec.recipe.tag
    cached = docker.image_id(tag)
    if cached is not None:
        progress(f"base {tag}: cached")
        return BaseImage(ref=tag, image_id=cached, offline=True)
    image_id = build_offline_base(
        docker, spec.recipe, progress=progress, etc_apt=etc_apt, cache_dir=cache_dir
    )
    progress(f"base {tag}: built")
    return BaseImage(ref=tag, image_id=image_id, offline=True)


def _from_registry(
    docker: DockerCli, ref: str, mode: BaseMode, progress: Callable[[str], None]
) -> BaseImage | None:
    local = docker.image_id(ref)
    if local is not None:
        progress(f"base {ref}: present locally")
        return BaseImage(ref=ref, image_id=local, offline=False)
    progress(f"base {ref}: pulling")
    pulled = docker.pull(ref)
    image_id = docker.image_id(ref) if pulled.ok else None
    if image_id is not None:
        progress(f"base {ref}: pulled")
        return BaseImage(ref=ref, image_id=image_id, offline=False)
    reason = pulled.tail[-1] if pulled.tail else f"exit {pulled.returncode}"
    if mode == "registry":
        raise ImageBuildError(
            f"could not pull {ref}: {reason}",
            f"check registry access, `docker load` a saved {ref}, or use --base offline "
            f"to build a Debian {SUITE} equivalent with debootstrap",
        )
    progress(f"base {ref}: pull failed ({reason[:120]}); using an offline Debian {SUITE} base")
    return None
