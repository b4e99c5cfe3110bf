"""The profiler's sidecar against real containers: a non-root Python backend, and no Python."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from harness.images import build_images
from harness.labels import ROLE
from harness.profile import PROFILER_ROLE, DockerTarget, Profiler
from tests.stack.cli import REPO

pytestmark = [pytest.mark.docker, pytest.mark.slow]

BURNER = """
def burn_here():
    total = 0
    for i in range(20000):
        total += i * i
    return total

while True:
    burn_here()
"""
BURN_LINE = BURNER.splitlines().index("def burn_here():") + 1
KEY = "org.contravento.harness.test"


@pytest.fixture
def label() -> Iterator[dict[str, str]]:
    labels = {KEY: uuid.uuid4().hex[:12]}
    yield labels
    client = docker.from_env()
    for container in client.containers.list(all=True, filters={"label": f"{KEY}={labels[KEY]}"}):
        container.remove(force=True)


def ours(client: Any, labels: dict[str, str]) -> list[Any]:
    return list(client.containers.list(all=True, filters={"label": f"{KEY}={labels[KEY]}"}))


def test_a_non_root_python_backend_behind_a_shell_is_profiled(
    label: dict[str, str], tmp_path: Path
) -> None:
    client = docker.from_env()
    image = build_images(REPO).locust
    # PID 1 is a shell (`; :` keeps it from exec'ing python), python its child, user 4242.
    backend = client.containers.run(
        image,
        ["-c", 'python -c "$0"; :', BURNER],
        entrypoint="sh",
        user="4242:4242",
        labels={**label, ROLE: "backend"},
        detach=True,
    )
    time.sleep(1)
    sidecar_labels = {**label, ROLE: PROFILER_ROLE}
    profiler = Profiler(DockerTarget(backend.id, image, sidecar_labels), tmp_path).start()
    running = [c for c in ours(client, label) if c.labels.get(ROLE) == PROFILER_ROLE]
    assert len(running) == 1 and running[0].status == "running"  # labelled for the reaper
    time.sleep(3)  # the measured window
    summary = profiler.stop()
    assert summary.status == "ok", summary.reason
    assert summary.target is not None and "(uid 4242)" in summary.target
    assert summary.target.startswith("pid ") and "pid 1 " not in summary.target  # not the shell
    assert summary.samples >= 30 and summary.processes == 1
    top = summary.top[0]
    assert (top.function, top.line, top.own_share > 0.8) == ("burn_here", BURN_LINE, True)
    assert f"burn_here (<string>:{BURN_LINE})" in (tmp_path / "backend.txt").read_text()
    assert json.loads((tmp_path / "summary.json").read_text())["samples"] == summary.samples
    assert [c.id for c in ours(client, label)] == [backend.id]  # the sidecar is removed


def test_a_container_that_is_not_python_is_skipped(label: dict[str, str], tmp_path: Path) -> None:
    client = docker.from_env()
    image = build_images(REPO).locust
    backend = client.containers.run(image, ["600"], entrypoint="sleep", labels=label, detach=True)
    summary = Profiler(DockerTarget(backend.id, image, label), tmp_path).start().stop()
    assert summary.status == "skipped"
    assert summary.reason == (
        "the backend is not a Python process; it runs pid 1 `sleep 600` (uid 10002)"
    )
    assert [c.id for c in ours(client, label)] == [backend.id]


def test_a_missing_image_is_a_skip_and_a_gone_backend_a_failure(
    label: dict[str, str], tmp_path: Path
) -> None:
    client = docker.from_env()
    image = build_images(REPO).locust
    backend = client.containers.run(image, ["600"], entrypoint="sleep", labels=label, detach=True)
    missing = f"{image.rsplit(':', 1)[0]}:no-such-tag"
    summary = Profiler(DockerTarget(backend.id, missing, label), tmp_path).start().stop()
    assert (summary.status, summary.hint) == ("skipped", "build the images (`harness images`)")
    backend.remove(force=True)
    summary = Profiler(DockerTarget(backend.id, image, label), tmp_path).start().stop()
    assert summary.status == "failed"
    assert summary.reason.startswith(
        f"the sidecar could not join the backend container {backend.id[:12]}"
    )
    assert ours(client, label) == []  # the sidecar that could not start is removed
