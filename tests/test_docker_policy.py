"""The Docker policy: a test marked `docker` skips without a daemon, and fails in CI. It is
applied at the test's setup, before any of its fixtures (module-scoped ones included)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.stack.cli import REPO

MODULE = """
import pytest

pytestmark = [pytest.mark.docker]
MADE = []


@pytest.fixture(scope="module")
def stack():
    MADE.append(1)
    raise AssertionError("a module fixture ran before the Docker policy")


def test_needs_a_stack(stack):
    pass
"""


def run_module(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A docker-marked test module with a module-scoped fixture, under the project's pytest
    settings and conftest, with `docker` made to find no daemon (PATH holds no docker client)."""
    (tmp_path / "test_module.py").write_text(MODULE)
    args = ["-q", "-p", "tests.conftest", "-p", "no:cacheprovider", "-c", "pyproject.toml"]
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args, str(tmp_path / "test_module.py")],
        cwd=REPO,
        env={"PATH": str(tmp_path), "HOME": str(tmp_path), "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, "1 skipped"), ({"CI": "true"}, "Docker is required in CI")],
)
def test_a_module_fixture_never_runs_before_the_docker_policy(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    done = run_module(tmp_path, env)
    assert expected in done.stdout, done.stdout[-2000:]
    assert "a module fixture ran" not in done.stdout
