"""The container sampler against real containers: 1 Hz coverage, late starters, early stoppers."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import docker
import pytest

from harness.images import build_images
from harness.monitor import ContainerSampler
from tests.stack.cli import REPO

pytestmark = [pytest.mark.docker, pytest.mark.slow]
BUSY = "import time\nend = time.time() + 60\nwhile time.time() < end: sum(range(1000))"


def start(client: Any, image: str, label: str, name: str) -> Any:
    key, value = label.split("=")
    return client.containers.run(
        image,
        ["-c", BUSY],
        entrypoint="python",
        name=f"{value}-{name}",
        labels={key: value, "org.contravento.harness.role": name},
        detach=True,
    )


def test_samples_at_one_hertz_and_follows_containers_that_come_and_go(
    label: str, tmp_path: Path
) -> None:
    client = docker.from_env()
    image = build_images(REPO).locust
    first, second = start(client, image, label, "first"), start(client, image, label, "second")
    out = tmp_path / "containers.jsonl"
    sampler = ContainerSampler(label, out).start()
    began = time.time()
    time.sleep(3)  # the measured period: samples accumulate while the containers run
    late = start(client, image, label, "late")
    second.kill()
    stopped_at = time.time()
    time.sleep(5)
    counts = sampler.stop()
    ended = time.time()
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    by_name: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_name.setdefault(row["role"], []).append(row)
    assert set(by_name) == {"first", "second", "late"}
    assert counts[first.name] == len(by_name["first"])
    # ~1 Hz for the whole period (the first sample of a stream comes ~1-2 s after it opens)
    assert len(by_name["first"]) >= 0.7 * (ended - began)
    assert all(r["t"] <= stopped_at + 1.5 for r in by_name["second"])  # ended with it
    assert len(by_name["late"]) >= 2  # picked up mid-run
    busy = [r["cpu_percent"] for r in by_name["first"][1:]]
    assert busy and max(busy) > 50  # a busy loop shows as most of a core
    assert all(r["mem_bytes"] > 0 and r["pids"] >= 1 for r in rows)
    assert all(
        b["t"] > a["t"] for a, b in zip(by_name["first"], by_name["first"][1:], strict=False)
    )
    assert late.name in counts
