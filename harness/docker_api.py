"""Reaching the Docker daemon through docker-py: one client factory, one error when none answers."""

from __future__ import annotations

import docker
import docker.errors

from harness.errors import DockerUnavailable


def docker_client(timeout: int = 30) -> docker.DockerClient:
    """A client whose daemon has answered; DockerUnavailable (message and hint) when none does."""
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except docker.errors.DockerException as exc:
        raise DockerUnavailable(
            f"no Docker daemon answers ({exc.__class__.__name__})",
            "start Docker (e.g. `sudo dockerd &` or Docker Desktop), or use --provider local",
        ) from None
    return client


def docker_answers(timeout: int = 10) -> bool:
    """Whether a Docker daemon answers (choosing a provider, not requiring one)."""
    try:
        docker_client(timeout).close()
    except DockerUnavailable:
        return False
    return True


def docker_client_or_none(timeout: int = 30) -> docker.DockerClient | None:
    """A client, or None where no daemon answers (clean-ups that also work without Docker)."""
    try:
        return docker_client(timeout)
    except DockerUnavailable:
        return None
