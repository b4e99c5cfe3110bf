"""Offline base images: a Debian rootfs built with debootstrap and imported into Docker."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ImageBuildError
from harness.images.apt_sources import AptSource, host_mirror
from harness.images.docker_cli import DockerCli, stream
from harness.images.labels import HARNESS_LABEL, HARNESS_LABEL_VALUE, IMAGE_NAME_LABEL, IMAGE_PREFIX
from harness.images.tags import text_hash

SUITE = "bookworm"
# Bump when the way a rootfs is built changes, so cached bases are rebuilt.
RECIPE_VERSION = "1"
# `docker import` gives an image no environment at all, and a later `ENV PATH=/x:$PATH`
# would then expand to "/x:", so the usual default is baked in.
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_NO_ROOT_HINT = (
    "run as root (debootstrap needs it), or pull python:3.11-slim and postgres:16 on a machine "
    "with a registry and move them here with `docker save` | `docker load`"
)
# What the official slim images drop too; dpkg is told to keep it that way for later installs.
_DPKG_NODOC = """\
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
"""
_APT_CLEAN = 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb || true"; };\n'
# Per-package debootstrap lines: only the first of each run is shown as progress.
_PER_PACKAGE_VERBS = ("Retrieving", "Validating", "Extracting", "Unpacking", "Configuring")


@dataclass(frozen=True)
class RootfsRecipe:
    """What goes into one offline base: extra packages, and paths to drop afterwards."""

    name: str
    packages: tuple[str, ...]
    remove: tuple[str, ...] = ()
    suite: str = SUITE

    @property
    def tag(self) -> str:
        recipe = text_hash(RECIPE_VERSION, self.suite, *self.packages, "--", *self.remove)
        return f"{IMAGE_PREFIX}/base-{self.name}:{self.suite}-{recipe}"


def find_debootstrap() -> str:
    """The debootstrap executable, also looked up in the sbin folders a user's PATH may lack."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    found = shutil.which("debootstrap", path=search)
    if found is None:
        raise ImageBuildError(
            "debootstrap is not installed, so no offline base image can be built",
            "apt-get install debootstrap, or pull python:3.11-slim and postgres:16 where a "
            "registry works and `docker save` | `docker load` them here",
        )
    return found


def check_mirror(source: AptSource, suite: str, timeout: float = 20) -> None:
    """Fail early, with a hint, when the mirror's Release file cannot be fetched."""
    url = f"{source.uri.rstrip('/')}/dists/{suite}/Release"
    if not url.startswith(("http://", "https://", "file:/")):
        raise ImageBuildError(
            f"the APT mirror {source.uri} uses a scheme debootstrap cannot fetch from",
            "configure an http(s) Debian mirror in /etc/apt/sources.list.d/",
        )
    # The scheme was checked above, and this is the mirror the host's own APT uses.
    request = urllib.request.Request(url, method="HEAD")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout):  # noqa: S310
            return
    except (urllib.error.URLError, OSError) as exc:
        raise ImageBuildError(
            f"the Debian mirror {source.uri} (from the host's APT sources) is not reachable: {exc}",
            "check the network or proxy, or pull python:3.11-slim and postgres:16 where a "
            "registry works and `docker save` | `docker load` them here",
        ) from exc


def build_offline_base(
    docker: DockerCli,
    recipe: RootfsRecipe,
    *,
    progress: Callable[[str], None],
    etc_apt: Path = Path("/etc/apt"),
    cache_dir: Path | None = None,
) -> str:
    """Debootstrap `recipe` into a scratch folder, import it as `recipe.tag`; returns the id."""
    if os.geteuid() != 0:
        raise ImageBuildError("building an offline base image needs root", _NO_ROOT_HINT)
    debootstrap = find_debootstrap()
    suite = recipe.suite
    mirror = host_mirror(suite, etc_apt, like=SUITE)
    check_mirror(mirror, suite)
    # Under /var/tmp rather than /tmp: a rootfs is a few hundred MB and /tmp may be RAM.
    rootfs = Path(tempfile.mkdtemp(prefix=f"contravento-rootfs-{recipe.name}-", dir="/var/tmp"))
    try:
        progress(f"base {recipe.tag}: debootstrap {suite} from {mirror.uri} into {rootfs}")
        _debootstrap(debootstrap, recipe, rootfs, mirror, cache_dir, progress)
        _slim(rootfs, recipe)
        progress(f"base {recipe.tag}: importing the rootfs into Docker")
        changes = [
            f"ENV PATH={DEFAULT_PATH}",
            "ENV LANG=C.UTF-8",
            f"LABEL {HARNESS_LABEL}={HARNESS_LABEL_VALUE}",
            f"LABEL {IMAGE_NAME_LABEL}=base-{recipe.name}",
            'CMD ["bash"]',
        ]
        return docker.import_rootfs(rootfs, recipe.tag, changes=changes)
    finally:
        progress(f"base {recipe.tag}: removing {rootfs}")
        remove_rootfs(rootfs)


def _debootstrap(
    executable: str,
    recipe: RootfsRecipe,
    rootfs: Path,
    mirror: AptSource,
    cache_dir: Path | None,
    progress: Callable[[str], None],
) -> None:
    argv = [executable, "--variant=minbase", f"--include={','.join(recipe.packages)}"]
    if mirror.signed_by and Path(mirror.signed_by).is_file():
        argv.append(f"--keyring={mirror.signed_by}")
    if cache_dir is not None:
        # Shared by the bases of one suite (and by rebuilds): common packages fetched once.
        cache = cache_dir if recipe.suite == SUITE else cache_dir / recipe.suite
        cache.mkdir(parents=True, exist_ok=True)
        argv.append(f"--cache-dir={cache.resolve()}")
    argv += [recipe.suite, str(rootfs), mirror.uri]
    shown: set[str] = set()

    def show(line: str) -> None:
        words = line.split()
        verb = words[1] if len(words) > 1 and words[0] in {"I:", "W:", "E:"} else ""
        if verb in _PER_PACKAGE_VERBS:
            # Retrieving/Validating alternate per package: show each only once per phase.
            if verb in shown:
                return
            shown.add(verb)
        else:
            shown.clear()
        progress(f"  debootstrap: {line[:150]}")

    done = stream(argv, on_line=show, timeout=3600)
    if not done.ok:
        log = rootfs / "debootstrap" / "debootstrap.log"
        detail = log.read_text(errors="replace").splitlines()[-20:] if log.is_file() else []
        raise ImageBuildError(
            f"debootstrap failed (exit {done.returncode}):\n"
            + "\n".join([*done.tail[-15:], *detail]),
            "check the mirror and free disk space; the full log was in debootstrap/debootstrap.log",
        )


def _slim(rootfs: Path, recipe: RootfsRecipe) -> None:
    """Drop package caches, docs and the recipe's own leftovers; keep it that way for apt."""
    patterns = [
        "var/cache/apt/archives/*.deb",
        "var/cache/apt/*.bin",
        "var/lib/apt/lists/*",
        "usr/share/man/*",
        "usr/share/info/*",
        "var/log/bootstrap.log",
        *recipe.remove,
    ]
    for pattern in patterns:
        for path in rootfs.glob(pattern):
            _remove_path(path)
    for locale in rootfs.glob("usr/share/locale/*"):
        if locale.name != "locale.alias":
            _remove_path(locale)
    for doc in rootfs.glob("usr/share/doc/*"):
        if doc.is_dir() and not doc.is_symlink():
            for item in doc.iterdir():
                if item.name != "copyright":
                    _remove_path(item)
        else:
            _remove_path(doc)
    (rootfs / "etc/dpkg/dpkg.cfg.d/01-harness-nodoc").write_text(_DPKG_NODOC, encoding="utf-8")
    (rootfs / "etc/apt/apt.conf.d/docker-clean").write_text(_APT_CLEAN, encoding="utf-8")


def _remove_path(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _mounts_under(folder: Path) -> list[str]:
    """Mount points inside `folder`, deepest first (debootstrap bind-mounts /dev in containers)."""
    root = str(folder.resolve())
    found: list[str] = []
    with Path("/proc/self/mountinfo").open(encoding="utf-8") as mountinfo:
        for line in mountinfo:
            fields = line.split()
            if len(fields) < 5:
                continue
            # mountinfo octal-escapes spaces and a few other characters in paths.
            point = fields[4].encode().decode("unicode_escape")
            if point == root or point.startswith(root + "/"):
                found.append(point)
    return sorted(found, key=len, reverse=True)


def remove_rootfs(rootfs: Path) -> None:
    """Delete a scratch rootfs, but never through a mount that still points into the host."""
    if not rootfs.exists():
        return
    for point in _mounts_under(rootfs):
        subprocess.run(["umount", "--lazy", point], check=False, capture_output=True)
    remaining = _mounts_under(rootfs)
    if remaining:
        raise ImageBuildError(
            f"{rootfs} still has mounts inside it ({', '.join(remaining)}); not deleting it",
            f"umount them by hand, then rm -rf {rootfs}",
        )
    shutil.rmtree(rootfs, ignore_errors=True)
