"""Content-addressed tags: stable for unchanged inputs, different when any input changes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.images.base import BaseImage
from harness.images.build import BACKEND, python_image_tag
from harness.images.tags import TAG_LENGTH, content_hash
from harness.images.wheelhouse import platform_tags


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "backend" / "routes").mkdir(parents=True)
    (tmp_path / "backend" / "__init__.py").write_text('"""App."""\n')
    (tmp_path / "backend" / "routes" / "users.py").write_text("ROUTES = []\n")
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "backend.lock").write_text("fastapi==1.0\n")
    (tmp_path / "Dockerfile.backend").write_text("FROM scratch\n")
    (tmp_path / ".dockerignore").write_text(".git\n")
    return tmp_path


BASE = BaseImage(ref="python:3.11-slim", image_id="sha256:aaa", offline=False)


def test_tag_is_stable_and_short(repo: Path) -> None:
    first = python_image_tag(repo, BACKEND, BASE, "x86_64")
    second = python_image_tag(repo, BACKEND, BASE, "x86_64")

    assert first == second
    name, digest = first.split(":")
    assert name == "contravento-harness/backend"
    assert len(digest) == TAG_LENGTH
    int(digest, 16)


@pytest.mark.parametrize(
    "change",
    [
        lambda r: (r / "backend" / "routes" / "users.py").write_text("ROUTES = [1]\n"),
        lambda r: (r / "backend" / "routes" / "new.py").write_text(""),
        lambda r: (r / "backend" / "routes" / "users.py").rename(r / "backend" / "u.py"),
        lambda r: (r / "requirements" / "backend.lock").write_text("fastapi==1.1\n"),
        lambda r: (r / "Dockerfile.backend").write_text("FROM scratch\nUSER 1\n"),
        lambda r: (r / ".dockerignore").write_text(".git\nbackend/routes\n"),
        lambda r: (r / "backend" / "__init__.py").chmod(0o755),
    ],
    ids=["edit", "add", "rename", "lock", "dockerfile", "dockerignore", "mode"],
)
def test_tag_changes_with_any_input(repo: Path, change: Callable[[Path], object]) -> None:
    before = python_image_tag(repo, BACKEND, BASE, "x86_64")

    change(repo)

    assert python_image_tag(repo, BACKEND, BASE, "x86_64") != before


def test_tag_changes_with_the_base_image_id(repo: Path) -> None:
    rebuilt_base = BaseImage(ref=BASE.ref, image_id="sha256:bbb", offline=False)

    assert python_image_tag(repo, BACKEND, BASE, "x86_64") != python_image_tag(
        repo, BACKEND, rebuilt_base, "x86_64"
    )


def test_bytecode_and_caches_do_not_change_the_tag(repo: Path) -> None:
    before = python_image_tag(repo, BACKEND, BASE, "x86_64")

    cache = repo / "backend" / "__pycache__"
    cache.mkdir()
    (cache / "users.cpython-311.pyc").write_bytes(b"\0")
    (repo / "backend" / "stray.pyc").write_bytes(b"\0")
    (repo / "unrelated.txt").write_text("not an input\n")

    assert python_image_tag(repo, BACKEND, BASE, "x86_64") == before


def test_hash_is_independent_of_where_the_checkout_lives(tmp_path: Path) -> None:
    for folder in ("one", "two"):
        (tmp_path / folder / "src").mkdir(parents=True)
        (tmp_path / folder / "src" / "a.py").write_text("A = 1\n")

    assert content_hash(tmp_path / "one", [Path("src")]) == content_hash(
        tmp_path / "two", [Path("src")]
    )


def test_missing_input_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        content_hash(tmp_path, [Path("nope")])


def test_platform_tags_cover_every_older_manylinux() -> None:
    tags = platform_tags("amd64", glibc_minor=36)

    assert tags[0] == "manylinux_2_36_x86_64"
    assert "manylinux_2_17_x86_64" in tags
    assert "manylinux2014_x86_64" in tags
    assert "manylinux1_x86_64" in tags
    assert "manylinux_2_37_x86_64" not in tags
    assert "manylinux1_aarch64" not in platform_tags("aarch64")


def test_image_label_is_the_stack_label() -> None:
    from harness.images.labels import HARNESS_LABEL, HARNESS_LABEL_VALUE
    from harness.labels import HARNESS

    assert (HARNESS_LABEL, HARNESS_LABEL_VALUE) == (HARNESS, "1")
