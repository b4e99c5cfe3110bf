"""Wheelhouses built on the host, so images install Python packages with `pip --no-index`.

pip inside a build container may have no usable index (no network, or TLS intercepted by
a CA only the host trusts), while the host's pip is configured to work. So the host
downloads the exact wheels for the image's interpreter and platform, and the Dockerfiles
only ever install from that folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from harness.errors import ImageBuildError
from harness.images.tags import text_hash

# Both base images (python:3.11-slim and the debootstrapped one) are Debian bookworm:
# CPython 3.11 on glibc 2.36.
TARGET_PYTHON = "3.11"
TARGET_ABI = "cp311"
TARGET_GLIBC_MINOR = 36
WHEELHOUSE_ROOT = Path(".cache") / "wheelhouse"
_COMPLETE = ".complete"

# docker reports the kernel's name for the machine; wheel tags use the compiler's.
_ARCH_ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}


def platform_tags(arch: str, glibc_minor: int = TARGET_GLIBC_MINOR) -> list[str]:
    """Every manylinux tag a glibc 2.`glibc_minor` system accepts, newest first.

    pip's `--platform` does not expand a PEP 600 tag to the older ones it implies, so the
    whole ladder is spelled out, with the legacy aliases of 2.17, 2.12 and 2.5.
    """
    machine = _ARCH_ALIASES.get(arch, arch)
    tags = [f"manylinux_2_{minor}_{machine}" for minor in range(glibc_minor, 4, -1)]
    legacy = {"manylinux2014": 17, "manylinux2010": 12, "manylinux1": 5}
    for alias, minor in legacy.items():
        if minor <= glibc_minor and (alias == "manylinux2014" or machine in {"x86_64", "i686"}):
            tags.append(f"{alias}_{machine}")
    return tags


def wheelhouse_key(lock: Path, arch: str) -> str:
    """Identifies a wheelhouse: the lock file's content and the target interpreter/platform."""
    return text_hash(lock.read_text(encoding="utf-8"), TARGET_PYTHON, TARGET_ABI, arch)


def ensure_wheelhouse(
    repo_root: Path,
    lock: Path,
    *,
    arch: str,
    progress: Callable[[str], None],
    python: str = sys.executable,
) -> Path:
    """The wheelhouse folder for `lock` (relative to `repo_root`), downloading it if needed."""
    name = f"{lock.name.removesuffix('.lock')}-{wheelhouse_key(repo_root / lock, arch)}"
    relative = WHEELHOUSE_ROOT / name
    target = repo_root / relative
    if (target / _COMPLETE).is_file():
        progress(f"wheelhouse {relative}: cached")
        return relative
    progress(f"wheelhouse {relative}: downloading the wheels pinned in {lock} (host pip)")
    # Download into a scratch folder and rename at the end, so an interrupted download never
    # passes for a complete wheelhouse.
    scratch = target.with_name(f"{name}.partial-{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    argv = [
        python,
        "-m",
        "pip",
        "download",
        "--disable-pip-version-check",
        "--quiet",
        "--requirement",
        str(repo_root / lock),
        "--dest",
        str(scratch),
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        TARGET_PYTHON,
        "--abi",
        TARGET_ABI,
        "--abi",
        "abi3",
        "--abi",
        "none",
    ]
    for tag in platform_tags(arch):
        argv += ["--platform", tag]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=1800)
    if done.returncode != 0:
        shutil.rmtree(scratch, ignore_errors=True)
        errors = [line for line in done.stderr.splitlines() if "is ignored" not in line]
        raise ImageBuildError(
            f"pip could not download the wheels for {lock}:\n" + "\n".join(errors[-15:]),
            "check the host's pip configuration (`pip config list`) and that every pinned "
            f"package has a CPython {TARGET_PYTHON} manylinux wheel for {arch}",
        )
    (scratch / _COMPLETE).write_text(f"{lock}\n", encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    scratch.rename(target)
    count = sum(1 for p in target.iterdir() if p.suffix == ".whl")
    progress(f"wheelhouse {relative}: {count} wheels")
    _prune_stale(target)
    return relative


def _prune_stale(current: Path) -> None:
    """Drop wheelhouses of older versions of the same lock: every one of them is build context."""
    prefix = current.name.rsplit("-", 1)[0] + "-"
    for sibling in current.parent.iterdir():
        stale = sibling != current and sibling.name.startswith(prefix)
        if stale and sibling.is_dir() and ".partial-" not in sibling.name:
            shutil.rmtree(sibling, ignore_errors=True)
