"""The user's backend image: their Dockerfile built as is, with offline stand-ins for its bases.

Where a registry answers, `docker build` pulls the Dockerfile's bases as usual. Where none
does, a `FROM python:3.X[-variant]` base is substituted by a Debian image built with
debootstrap that behaves like the official one for the usual steps (python and pip on the
PATH, pip installs into /usr/local/lib/python3.X/site-packages, apt-get working) and that
trusts this host's CA certificates, so RUN steps reach package indexes through a
TLS-intercepting proxy. Other bases cannot be substituted: the error says so.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.console import folded_details
from harness.errors import ImageBuildError
from harness.images.base import BaseMode
from harness.images.debootstrap import RootfsRecipe, build_offline_base
from harness.images.docker_cli import DockerCli
from harness.images.labels import HARNESS_LABEL, HARNESS_LABEL_VALUE, IMAGE_PREFIX, image_labels
from harness.images.tags import text_hash
from harness.project import Project

Progress = Callable[[str], None]
SUBSTITUTE_LABEL = f"{HARNESS_LABEL}.substitutes"
RECIPE_LABEL = f"{HARNESS_LABEL}.substitute-recipe"
HOST_CA_FOLDER = Path("/usr/local/share/ca-certificates")
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
_FROM = re.compile(r"^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", re.IGNORECASE)
_ARG = re.compile(r"^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(\S*))?", re.IGNORECASE)
_PYTHON = re.compile(r"^(?:docker\.io/)?(?:library/)?python:(3\.(\d+))(?:\.\d+)?(?:-(\S+))?$")
# Which Debian carries which CPython: the nearest release whose python3 is at least as new.
_PYTHON_SUITES = {11: "bookworm", 12: "trixie", 13: "trixie"}
_SUITE_PYTHON = {"bookworm": "3.11", "trixie": "3.13"}


def external_bases(dockerfile: str, build_args: Mapping[str, str]) -> list[str]:
    """The images a Dockerfile's FROM lines name, other than its own stages, ARGs resolved."""
    args: dict[str, str] = {}
    stages: set[str] = set()
    bases: list[str] = []
    for line in dockerfile.splitlines():
        arg = _ARG.match(line)
        if arg and not bases:  # ARGs before the first FROM are the ones FROM may use
            args[arg.group(1)] = build_args.get(arg.group(1), arg.group(2) or "")
            continue
        found = _FROM.match(line)
        if not found:
            continue
        ref = re.sub(
            r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: args.get(m.group(1), ""), found[1]
        )
        if ref.lower() not in stages and ref != "scratch" and ref not in bases:
            bases.append(ref)
        if found[2]:
            stages.add(found[2].lower())
    return bases


@dataclass(frozen=True)
class Substitute:
    """The offline stand-in for an official python base."""

    ref: str  # what the Dockerfile names, e.g. python:3.12-slim
    minor: int  # the CPython minor version it asks for
    suite: str  # the Debian release standing in

    @property
    def python(self) -> str:
        return _SUITE_PYTHON[self.suite]

    @property
    def recipe_key(self) -> str:
        return text_hash(self.dockerfile(self.recipe().tag))

    def recipe(self) -> RootfsRecipe:
        return RootfsRecipe(
            name="python-substitute",
            # python3-dev: the official images carry CPython's headers, so sdists compile
            packages=(
                "python3",
                "python3-dev",
                "python3-pip",
                "python3-venv",
                "ca-certificates",
                "passwd",
            ),
            suite=self.suite,
        )

    def dockerfile(self, rootfs_tag: str) -> str:
        """On the debootstrapped rootfs: the official image's layout, and this host's CAs."""
        wanted, actual = f"3.{self.minor}", self.python
        lines = [
            f"FROM {rootfs_tag}",
            f"# stands in for {self.ref}: Debian {self.suite}, Python {actual}",
            "COPY ca/ /usr/local/share/ca-certificates/",
            "RUN update-ca-certificates >/dev/null",
            # python, pip on the PATH as in the official image; pip's installs land where the
            # official image keeps them, so `COPY --from=build /usr/local/lib/python3.X/...`
            # finds them (a link to the folder Debian's python reads /usr/local from).
            "RUN ln -s /usr/bin/python3 /usr/local/bin/python"
            " && ln -s /usr/bin/pip3 /usr/local/bin/pip"
            f" && mkdir -p /usr/local/lib/python{wanted}/site-packages"
            f" && rm -rf /usr/local/lib/python{actual}/dist-packages"
            f" && ln -s /usr/local/lib/python{wanted}/site-packages"
            f" /usr/local/lib/python{actual}/dist-packages"
            " && rm -f /usr/lib/python3*/EXTERNALLY-MANAGED",
            "ENV LANG=C.UTF-8 PYTHONUNBUFFERED=1"
            f" PIP_CERT={HOST_CA_BUNDLE} REQUESTS_CA_BUNDLE={HOST_CA_BUNDLE}"
            f" SSL_CERT_FILE={HOST_CA_BUNDLE}",
            f'LABEL {SUBSTITUTE_LABEL}="{self.ref}"',
            'CMD ["python3"]',
        ]
        return "\n".join(lines) + "\n"


def substitute_for(ref: str) -> Substitute | None:
    """The stand-in for an official python:3.X base, None for any other image."""
    found = _PYTHON.match(ref)
    if found is None or int(found[2]) not in _PYTHON_SUITES:
        return None
    return Substitute(ref=ref, minor=int(found[2]), suite=_PYTHON_SUITES[int(found[2])])


def backend_image(project: Project, base: BaseMode, progress: Progress) -> str:
    """The backend image the project describes: an existing one, or its Dockerfile built."""
    docker = DockerCli()
    docker.ensure_available()
    spec = project.backend
    if spec.build is None:
        assert spec.image is not None
        if docker.image_id(spec.image) is None and not docker.pull(spec.image).ok:
            raise ImageBuildError(
                f"the backend image {spec.image} is not on this machine and cannot be pulled",
                "build it first (`docker build -t ... .`), or describe its Dockerfile in"
                " [backend.build] instead of backend.image",
            )
        return spec.image
    build = spec.build
    context = project.path(build.context)
    dockerfile = context / build.dockerfile
    bases = external_bases(dockerfile.read_text(errors="replace"), build.args)
    for ref in bases:
        ensure_base(docker, ref, base, progress)
    # One tag per Dockerfile and stage; Docker's layer cache makes an unchanged rebuild quick.
    key = text_hash(str(dockerfile), str(build.target))
    tag = f"{IMAGE_PREFIX}/backend-{spec.name}:{key}"
    progress(f"backend {spec.name}: building {dockerfile} (context {context})")
    docker.build(
        tag=tag,
        context=context,
        dockerfile=dockerfile,
        build_args=build.args,
        target=build.target,
        labels=image_labels(f"backend-{spec.name}", key, " ".join(bases)),
        progress=progress,
    )
    progress(f"backend {spec.name}: built {tag}")
    return tag


def ensure_base(docker: DockerCli, ref: str, mode: BaseMode, progress: Progress) -> None:
    """The base is here, or pulled, or (no registry, or --base offline) substituted."""
    substitute = substitute_for(ref)
    if docker.image_id(ref) is not None:
        made_by_us = docker.label(ref, RECIPE_LABEL)
        if made_by_us is None or substitute is None or made_by_us == substitute.recipe_key:
            return  # the official image, or a stand-in of the current recipe
        progress(f"base {ref}: rebuilding the stand-in (its recipe changed)")
        build_substitute(docker, substitute, progress)
        return
    if mode != "offline":
        progress(f"base {ref}: pulling")
        pulled = docker.pull(ref)
        if pulled.ok:
            return
        reason = pulled.tail[-1] if pulled.tail else f"exit {pulled.returncode}"
        if mode == "registry":
            raise ImageBuildError(f"could not pull {ref}: {reason}", "check registry access")
        progress(f"base {ref}: pull failed ({reason[:120]})")
    if substitute is None:
        raise ImageBuildError(
            f"{ref} cannot be pulled and has no offline stand-in (only official python:3.11,"
            " 3.12 and 3.13 images can be substituted here)",
            f"`docker load` a saved {ref} on this machine, or build where a registry answers",
        )
    build_substitute(docker, substitute, progress)


def build_substitute(docker: DockerCli, substitute: Substitute, progress: Progress) -> str:
    """Build the stand-in and tag it as the name the Dockerfile uses; returns its id."""
    recipe = substitute.recipe()
    rootfs_tag = recipe.tag
    if docker.image_id(rootfs_tag) is None:
        with folded_details(progress, f"{substitute.ref} stand-in") as lines:
            build_offline_base(docker, recipe, progress=lines)
    progress(
        f"base {substitute.ref}: not reachable; standing in: Debian {substitute.suite} with"
        f" Python {substitute.python} (asked for 3.{substitute.minor}), this host's CAs trusted"
    )
    with tempfile.TemporaryDirectory(prefix="harness-substitute-") as tmp:
        ca = Path(tmp) / "ca"
        ca.mkdir()
        for cert in sorted(HOST_CA_FOLDER.glob("*.crt")):
            shutil.copy(cert, ca / cert.name)
        (Path(tmp) / "Dockerfile").write_text(substitute.dockerfile(rootfs_tag))
        return docker.build(
            tag=substitute.ref,
            context=Path(tmp),
            labels={HARNESS_LABEL: HARNESS_LABEL_VALUE, RECIPE_LABEL: substitute.recipe_key},
            progress=progress,
        )
