"""The versions `harness compare` accepts: image:NAME, a project file, a git revision."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.pipeline.compare_phase import sequence
from harness.pipeline.versions import check_version, export_revision
from harness.project import REFERENCE_FILE

PROJECT = """
[backend]
name = "mine"
[backend.build]
context = "app"
"""


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "harness.toml").write_text(PROJECT)
    (repo / "app" / "Dockerfile").write_text("FROM scratch\n")
    (repo / "app" / "main.py").write_text("VERSION = 1\n")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "one")
    (repo / "app" / "main.py").write_text("VERSION = 2\n")
    git(repo, "commit", "-qam", "two")
    return repo


def test_a_git_revision_is_exported_and_the_project_rebased_onto_it(
    checkout: Path, tmp_path: Path
) -> None:
    spec = check_version("A", "HEAD~1", None, checkout)
    assert spec.kind == "git" and spec.revision == git(checkout, "rev-parse", "HEAD~1")
    project = export_revision(spec, tmp_path / "out")
    assert project.source == tmp_path / "out" / "harness.toml"
    assert (project.path("app") / "main.py").read_text() == "VERSION = 1\n"
    assert (checkout / "app" / "main.py").read_text() == "VERSION = 2\n"  # the checkout as it was


def test_a_bad_revision_a_missing_file_and_an_empty_image_are_refused(checkout: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        check_version("B", "no-such-branch", None, checkout)
    assert "not a revision" in caught.value.message and "image:NAME" in caught.value.hint
    with pytest.raises(ConfigError) as caught:
        check_version("B", "other.toml", None, checkout)
    assert "no project file" in caught.value.message
    with pytest.raises(ConfigError):
        check_version("A", "image:", None, checkout)
    with pytest.raises(ConfigError):
        check_version("A", "  ", None, checkout)


def test_an_image_replaces_the_projects_build_and_a_file_is_read_as_is(checkout: Path) -> None:
    spec = check_version("B", "image:mine:2", None, checkout)
    assert spec.kind == "image" and spec.project.backend.image == "mine:2"
    assert spec.project.backend.build is None and spec.project.source == checkout / "harness.toml"
    spec = check_version("A", str(REFERENCE_FILE), None, checkout)
    assert spec.kind == "project" and spec.project.backend.is_reference


def test_pairs_alternate_their_order() -> None:
    assert sequence(3) == [("A", 1), ("B", 1), ("B", 2), ("A", 2), ("A", 3), ("B", 3)]
