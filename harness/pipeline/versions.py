"""The two versions `harness compare` measures: what the user named, checked, then built.

A version is named in one of three ways:
  image:NAME     an image on this machine, run as the project file describes the backend
  PATH.toml      a project file (harness.toml) of its own
  REV            a git revision of the repository holding the project's backend: its tree at
                 that commit is exported (git archive) and built from the same project
                 description, into its own image
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from harness.errors import ConfigError
from harness.images import BaseMode, backend_image, build_images
from harness.project import Project, load_project

Kind = Literal["git", "image", "project"]
IMAGE_PREFIX = "image:"


@dataclass(frozen=True)
class VersionSpec:
    """A version as checked before anything starts."""

    label: Literal["A", "B"]
    name: str
    kind: Kind
    project: Project
    revision: str | None = None  # the full commit, for a git revision
    repository: Path | None = None  # the git top level it comes from


@dataclass(frozen=True)
class Version:
    """A version ready to run: its project (paths rebased for a git revision) and image."""

    spec: VersionSpec
    project: Project
    image: str


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )


def check_version(
    label: Literal["A", "B"], name: str, config: Path | None, cwd: Path
) -> VersionSpec:
    """Resolve what the user named; a bad name fails here, before any image is built."""
    if not name.strip():
        raise ConfigError(
            f"version {label} is empty",
            "name a git revision (main, HEAD~1, a commit), image:NAME, or a project file",
        )
    if name.startswith(IMAGE_PREFIX):
        image = name[len(IMAGE_PREFIX) :]
        if not image:
            raise ConfigError(f"{name!r} names no image", "write image:NAME, e.g. image:myapp:1.2")
        project = load_project(config, cwd)
        backend = project.backend.model_copy(update={"image": image, "build": None})
        return VersionSpec(label, name, "image", _with_backend(project, backend))
    path = (cwd / name).resolve()
    if name.endswith(".toml") or path.is_file():
        if not path.is_file():
            raise ConfigError(
                f"version {label}: no project file {path}",
                "give the path of a harness.toml (see README, Your own backend)",
            )
        return VersionSpec(label, name, "project", load_project(path, cwd))
    project = load_project(config, cwd)
    top = _git(project.root, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise ConfigError(
            f"version {label}: {name!r} is no file, and {project.root} is not in a git checkout"
            " to find it as a revision",
            "name a project file, image:NAME, or run from the backend's git checkout",
        )
    repository = Path(top.stdout.strip())
    found = _git(repository, "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}")
    if found.returncode != 0:
        raise ConfigError(
            f"version {label}: {name!r} is not a revision of {repository}",
            "name a branch, tag or commit (git log --oneline shows them), image:NAME,"
            " or a project file",
        )
    return VersionSpec(label, name, "git", project, found.stdout.strip(), repository)


def _with_backend(project: Project, backend: object) -> Project:
    copy = project.model_copy(update={"backend": backend})
    copy._source = project.source
    return copy


def export_revision(spec: VersionSpec, into: Path) -> Project:
    """The repository's tree at the revision, under `into`; the project rebased onto it."""
    assert spec.repository is not None and spec.revision is not None
    archive = subprocess.run(
        ["git", "-C", str(spec.repository), "archive", "--format=tar", spec.revision],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise ConfigError(
            f"cannot export {spec.name} from {spec.repository}:"
            f" {archive.stderr.decode(errors='replace').strip()}",
            "check that the revision exists (git log) and the checkout is readable",
        )
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    rebased = spec.project.model_copy(deep=True)
    rebased._source = into / spec.project.source.relative_to(spec.repository)
    return rebased


def build_version(
    spec: VersionSpec,
    folder: Path,
    repo_root: Path,
    base: BaseMode,
    progress: Callable[[str], None],
) -> Version:
    """The version's backend image, built (or found) the way `harness up` would."""
    project = spec.project
    if spec.kind == "git":
        project = export_revision(spec, folder / f"source-{spec.label}")
        progress(f"version {spec.label}: {spec.name} = {spec.revision} exported to {project.root}")
    if project.backend.is_reference:
        root = repo_root if spec.kind != "git" else project.root.parent
        image = build_images(root, base=base, progress=progress).backend
    else:
        image = backend_image(project, base, progress)
    return Version(spec, project, image)
