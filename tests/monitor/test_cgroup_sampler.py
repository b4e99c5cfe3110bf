"""The cgroup sampler against real containers: 1 Hz each, late starters, restarts, CPU, fallback."""

from __future__ import annotations

import json
import statistics
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import docker
import pytest

from harness.images import build_images
from harness.labels import ROLE
from harness.monitor import CgroupSampler, MonitorRequest, Monitors, coverage
from tests.stack.cli import REPO

pytestmark = [pytest.mark.docker, pytest.mark.slow]
BUSY = "import time\nend = time.time() + 60\nwhile time.time() < end: pass"
IDLE = "import time\ntime.sleep(60)"


def start(client: Any, label: str, role: str, script: str) -> Any:
    key, value = label.split("=")
    return client.containers.run(
        build_images(REPO).locust,
        ["-c", script],
        entrypoint="python",
        name=f"{value}-{role}",
        labels={key: value, ROLE: role},
        detach=True,
    )


def cpu_used(container: Any) -> tuple[float, float]:
    """Docker's own count of a container's CPU seconds, and when it was read."""
    stats = container.stats(stream=False)
    read = datetime.fromisoformat(stats["read"]).timestamp()
    return stats["cpu_stats"]["cpu_usage"]["total_usage"] / 1e9, read


def rows_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def by_container(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row["container"], []).append(row)
    return found


def test_containers_are_sampled_each_second_through_late_starts_and_restarts(
    label: str, tmp_path: Path
) -> None:
    client = docker.from_env()
    busy, idle = start(client, label, "backend", BUSY), start(client, label, "postgres", IDLE)
    docker_before = cpu_used(busy)
    monitors = Monitors(MonitorRequest(run_dir=tmp_path, container_label=label)).start()
    began = time.time()
    time.sleep(3)  # the sampling period itself is what is measured here
    late = start(client, label, "locust-worker", IDLE)
    late_at = time.time()
    busy.reload()
    busy_pid = busy.attrs["State"]["Pid"]
    time.sleep(3)
    idle.restart(timeout=0)  # killed and started again: the same container, a new process
    time.sleep(5)
    ended = time.time()
    summary = monitors.stop()
    docker_after = cpu_used(busy)
    out = tmp_path / "monitor"
    rows = by_container(rows_of(out / "containers.jsonl"))
    assert summary["method"] == "cgroup"
    assert set(rows) == {busy.name, idle.name, late.name}
    assert summary["containers"] == {name: len(found) for name, found in rows.items()}
    # ~1 Hz over the whole period, every container, each on its own lifetime
    assert len(rows[busy.name]) >= 0.95 * (ended - began) - 1
    found = coverage(tmp_path, began, ended)
    assert min(found.values()) >= 0.95, found
    assert rows[late.name][0]["t"] <= late_at + 1.5  # picked up at once, not at a later list
    assert len(summary["lifetimes"][idle.name]) == 2  # the restart: two stretches
    restarted = summary["lifetimes"][idle.name][1][0]
    assert sum(1 for r in rows[idle.name] if r["t"] > restarted) >= 3  # followed after it
    # % of one core, as docker stats shows it (a busy loop is 100 % on an idle machine; the
    # machine is shared, so compared with Docker's own count over the same seconds)
    docker_percent = (docker_after[0] - docker_before[0]) / (docker_after[1] - docker_before[1])
    cpu = statistics.mean(r["cpu_percent"] for r in rows[busy.name])
    assert docker_percent * 100 > 30 and abs(cpu - docker_percent * 100) < 20
    assert max(r["cpu_percent"] for r in rows[busy.name]) <= 105
    assert all(
        r["mem_bytes"] > 0 and r["pids"] >= 1 and r["mem_limit_bytes"] for r in rows[busy.name]
    )
    assert max(r["net_rx_bytes"] for r in rows[late.name]) >= 0
    assert all(b["t"] > a["t"] for a, b in zip(rows[busy.name], rows[busy.name][1:], strict=False))
    # the host sampler, on the same clock, sees the busy container as the stack's CPU
    host = rows_of(out / "host.jsonl")
    assert summary["host_samples"] == len(host) >= 9
    stack = statistics.mean(r["stack_cores"] for r in host)
    assert abs(stack - cpu / 100) < 0.2
    assert all(r["generator_cores"] < 0.3 for r in host)  # the idle Locust worker
    # the busy container's process is the stack's, never named among the processes outside
    tops = [p["pid"] for r in host if "top" in r for p in r["top"]]
    assert len([r for r in host if "top" in r]) >= 2 and busy_pid not in tops


def test_unreadable_cgroup_files_fall_back_to_the_stats_streams(label: str, tmp_path: Path) -> None:
    client = docker.from_env()
    container = start(client, label, "backend", IDLE)
    # a /proc that does not show the container's process: as with a remote daemon
    fake_proc = tmp_path / "proc"
    (fake_proc / "self").mkdir(parents=True)
    (fake_proc / "self" / "mounts").write_text("proc /proc proc rw 0 0\n")
    sampler = CgroupSampler(label, tmp_path / "containers.jsonl", proc=fake_proc).start()
    time.sleep(4)  # the sampling period itself is what is measured here
    counts = sampler.stop()
    rows = rows_of(tmp_path / "containers.jsonl")
    assert sampler.method == "stats-stream"
    assert sampler.fallback_reason and "cgroup" in sampler.fallback_reason
    assert counts == {container.name: len(rows)} and len(rows) >= 2
    assert sampler.lifetimes[container.name]
