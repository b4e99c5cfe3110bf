"""A unique label per test for the containers it starts, and their removal afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import docker
import pytest


@pytest.fixture
def label() -> Iterator[str]:
    value = f"org.contravento.harness.test={uuid.uuid4().hex[:12]}"
    yield value
    client = docker.from_env()
    for container in client.containers.list(all=True, filters={"label": value}):
        container.remove(force=True)
