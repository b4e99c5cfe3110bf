"""Whether a Docker daemon answers, and the policy when it does not: skip locally, fail in CI."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping

import pytest


def docker_answers() -> bool:
    try:
        done = subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def docker_required(environ: Mapping[str, str]) -> bool:
    """CI sets HARNESS_REQUIRE_DOCKER=1 (and CI=true): there, missing Docker is a failure."""
    return environ.get("HARNESS_REQUIRE_DOCKER") == "1" or environ.get("CI", "").lower() == "true"


def require_docker() -> None:
    if docker_answers():
        return
    if docker_required(os.environ):
        pytest.fail("Docker is required in CI (HARNESS_REQUIRE_DOCKER/CI set) but does not answer")
    pytest.skip("no Docker daemon answers (docker info failed)")
