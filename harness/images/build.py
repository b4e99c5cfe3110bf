"""Building the harness's three images (backend, locust, postgres), skipping any already built."""

from __future__ import annotations

import fcntl
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from harness.console import Prefixed, folded_details
from harness.images.base import (
    POSTGRES_BASE,
    PYTHON_BASE,
    BaseImage,
    BaseMode,
    resolve_base,
)
from harness.images.docker_cli import DockerCli
from harness.images.labels import IMAGE_PREFIX, image_labels
from harness.images.tags import content_hash
from harness.images.wheelhouse import TARGET_PYTHON, ensure_wheelhouse

Progress = Callable[[str], None]


@dataclass(frozen=True)
class PythonImageSpec:
    """A Python image: its Dockerfile, the repo paths it copies and the lock it installs."""

    name: str
    dockerfile: str
    sources: tuple[str, ...]
    lock: str


BACKEND = PythonImageSpec(
    name="backend",
    dockerfile="Dockerfile.backend",
    sources=("backend",),
    lock="requirements/backend.lock",
)
LOCUST = PythonImageSpec(
    name="locust",
    dockerfile="Dockerfile.locust",
    sources=("harness/load/scenarios",),
    lock="requirements/locust.lock",
)
# The offline PostgreSQL image's own build context (Dockerfile + entrypoint).
POSTGRES_CONTEXT = "compose/postgres"
# With a registry the official image is used as is; this only adds the harness's labels.
_REGISTRY_POSTGRES_DOCKERFILE = "FROM {base}\n"


@dataclass(frozen=True)
class BuiltImages:
    """Tags of the three images, and which of them this call had to build (vs. cache hits)."""

    backend: str
    locust: str
    postgres: str
    built: frozenset[str] = frozenset()

    @property
    def tags(self) -> tuple[str, str, str]:
        return (self.backend, self.locust, self.postgres)


def _silent(_: str) -> None:
    """The default progress sink."""


def build_images(
    repo_root: Path,
    *,
    base: BaseMode = "auto",
    progress: Progress = _silent,
    docker: DockerCli | None = None,
    etc_apt: Path = Path("/etc/apt"),
) -> BuiltImages:
    """Build (or find in the cache) the backend, locust and postgres images.

    `base` chooses where base images come from: "registry" (python:3.11-slim, postgres:16),
    "offline" (debootstrapped Debian bookworm) or "auto" (registry, else offline).
    Progress lines are prefixed with the seconds elapsed since the call started.
    """
    started = time.monotonic()
    # Tasks (a bar per image build) stay the sink's own; their plain lines get the prefix too.
    report = Prefixed(progress, lambda: f"[{time.monotonic() - started:6.1f}s] ")
    docker = docker or DockerCli()
    arch = docker.ensure_available()
    root = repo_root.resolve()
    with _exclusive_build(report):
        return _build_all(docker, root, base, arch, etc_apt, report)


@contextmanager
def _exclusive_build(report: Progress) -> Iterator[None]:
    """Hold the host-wide image-build lock, waiting for another builder if need be.

    Base images are shared by every checkout using this daemon; two builders racing would
    each import a base, and one set of images would end up on an orphaned base.
    """
    path = Path(tempfile.gettempdir()) / "contravento-harness-images.lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except PermissionError:
        # e.g. another user's lock file under a protected sticky /tmp: build unserialised.
        report(f"cannot open {path}; building without the host-wide lock")
        yield
        return
    with suppress(PermissionError):
        # Whoever creates it lets other users lock it too (umask would narrow the mode).
        os.fchmod(fd, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            report(f"waiting for another image build to finish (lock {path})")
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _build_all(
    docker: DockerCli, root: Path, base: BaseMode, arch: str, etc_apt: Path, report: Progress
) -> BuiltImages:
    apt_cache = root / ".cache" / "debootstrap"
    with folded_details(report, "base python") as lines:
        python_base = resolve_base(
            docker, PYTHON_BASE, base, progress=lines, etc_apt=etc_apt, cache_dir=apt_cache
        )
    with folded_details(report, "base postgres") as lines:
        postgres_base = resolve_base(
            docker, POSTGRES_BASE, base, progress=lines, etc_apt=etc_apt, cache_dir=apt_cache
        )
    built: set[str] = set()
    tags: dict[str, str] = {}
    for spec in (BACKEND, LOCUST):
        tag, fresh = _build_python_image(docker, root, spec, python_base, arch, report)
        tags[spec.name] = tag
        if fresh:
            built.add(tag)
    postgres, fresh = _build_postgres_image(docker, root, postgres_base, report)
    if fresh:
        built.add(postgres)
    report(f"done: {len(built)} built, {3 - len(built)} cached")
    return BuiltImages(
        backend=tags[BACKEND.name],
        locust=tags[LOCUST.name],
        postgres=postgres,
        built=frozenset(built),
    )


LATEST = "latest"


def tag_latest(built: BuiltImages, docker: DockerCli | None = None) -> tuple[str, str, str]:
    """Also tag the three images `:latest`: the names compose/ and the Kubernetes files use."""
    docker = docker or DockerCli()
    aliases = []
    for tag in built.tags:
        alias = f"{tag.rsplit(':', 1)[0]}:{LATEST}"
        docker.tag(tag, alias)
        aliases.append(alias)
    return (aliases[0], aliases[1], aliases[2])


def python_image_tag(root: Path, spec: PythonImageSpec, base: BaseImage, arch: str) -> str:
    """The content-addressed tag of a Python image, from everything that goes into it."""
    inputs = _paths(spec.dockerfile, ".dockerignore", *spec.sources, spec.lock)
    digest = content_hash(root, inputs, extra=(base.image_id, TARGET_PYTHON, arch))
    return f"{IMAGE_PREFIX}/{spec.name}:{digest}"


def postgres_image_tag(root: Path, base: BaseImage) -> str:
    """The content-addressed tag of the postgres image (offline recipe or registry wrapper)."""
    if base.offline:
        digest = content_hash(root, _paths(POSTGRES_CONTEXT), extra=(base.image_id,))
    else:
        wrapper = _REGISTRY_POSTGRES_DOCKERFILE.format(base=base.ref)
        digest = content_hash(root, (), extra=(wrapper, base.image_id))
    return f"{IMAGE_PREFIX}/postgres:{digest}"


def _paths(*relative: str) -> Sequence[Path]:
    return [Path(p) for p in relative]


def _build_python_image(
    docker: DockerCli,
    root: Path,
    spec: PythonImageSpec,
    base: BaseImage,
    arch: str,
    report: Progress,
) -> tuple[str, bool]:
    tag = python_image_tag(root, spec, base, arch)
    if docker.image_id(tag) is not None:
        report(f"{spec.name}: cached {tag}")
        return tag, False
    wheelhouse = ensure_wheelhouse(root, Path(spec.lock), arch=arch, progress=report)
    report(f"{spec.name}: building {tag} from {spec.dockerfile} on {base.ref}")
    digest = tag.rsplit(":", 1)[1]
    docker.build(
        tag=tag,
        context=root,
        dockerfile=root / spec.dockerfile,
        build_args={"BASE_IMAGE": base.ref, "WHEELHOUSE": wheelhouse.as_posix()},
        labels=image_labels(spec.name, digest, base.ref),
        progress=report,
    )
    report(f"{spec.name}: built {tag}")
    return tag, True


def _build_postgres_image(
    docker: DockerCli, root: Path, base: BaseImage, report: Progress
) -> tuple[str, bool]:
    tag = postgres_image_tag(root, base)
    if docker.image_id(tag) is not None:
        report(f"postgres: cached {tag}")
        return tag, False
    digest = tag.rsplit(":", 1)[1]
    labels = image_labels("postgres", digest, base.ref)
    report(f"postgres: building {tag} on {base.ref}")
    if base.offline:
        docker.build(
            tag=tag,
            context=root / POSTGRES_CONTEXT,
            build_args={"BASE_IMAGE": base.ref},
            labels=labels,
            progress=report,
        )
    else:
        docker.build(
            tag=tag,
            context=None,
            dockerfile_text=_REGISTRY_POSTGRES_DOCKERFILE.format(base=base.ref),
            labels=labels,
            progress=report,
        )
    report(f"postgres: built {tag}")
    return tag, True
