"""Content-addressed image tags: a short sha256 over everything that goes into an image."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

# Build droppings that never reach an image (.dockerignore drops them too) and so must not
# change a tag.
_IGNORED_DIRS = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"})
_IGNORED_SUFFIXES = frozenset({".pyc", ".pyo"})
TAG_LENGTH = 12


def _files_under(root: Path, entry: Path) -> Iterator[Path]:
    path = entry if entry.is_absolute() else root / entry
    if path.is_file():
        yield path
        return
    if not path.is_dir():
        raise FileNotFoundError(f"image input {path} does not exist")
    for folder, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in _IGNORED_DIRS)
        for name in sorted(names):
            candidate = Path(folder) / name
            if candidate.suffix not in _IGNORED_SUFFIXES:
                yield candidate


def content_hash(root: Path, inputs: Iterable[Path], *, extra: Iterable[str] = ()) -> str:
    """Hash of the files (or folders, recursively) in `inputs`, their paths and `extra` strings.

    Paths are hashed relative to `root`, so moving the checkout does not change a tag, but
    renaming a file does. The executable bit is included because COPY preserves it.
    """
    files = sorted({p for entry in inputs for p in _files_under(root, entry)})
    digest = hashlib.sha256()
    for path in files:
        relative = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        executable = os.access(path, os.X_OK)
        data = path.read_bytes()
        digest.update(f"file\0{relative}\0{int(executable)}\0{len(data)}\0".encode())
        digest.update(data)
    for item in extra:
        digest.update(f"extra\0{len(item)}\0{item}".encode())
    return digest.hexdigest()[:TAG_LENGTH]


def text_hash(*parts: str) -> str:
    """A short hash of some strings, e.g. a base recipe or a lock file's target platform."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(f"{len(part)}\0{part}".encode())
    return digest.hexdigest()[:TAG_LENGTH]
