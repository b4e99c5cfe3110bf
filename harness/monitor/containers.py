"""Per-container resource samples at ~1 Hz from Docker's streaming stats, written as JSONL.

The fallback of the cgroup sampler (harness.monitor.cgroups), for a daemon whose cgroup
files cannot be read from here (Docker Desktop, a remote daemon). One stream per container
(the daemon pushes a sample a second; a one-shot stats call costs about a second each, so
polling N containers serially cannot keep 1 Hz). A discovery loop picks up containers that
start mid-run (Locust workers) by label, with the daemon's plain list (no inspect per
container); a stream ends by itself when its container stops. Every sample is appended and
flushed as it arrives, so a crash keeps what was measured.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import IO, Any

import docker
import docker.errors
import requests.exceptions

from harness.docker_api import docker_client
from harness.labels import ROLE
from harness.monitor.ledger import CpuLedger

DISCOVER_EVERY_S = 1.0


def sample_of(stats: dict[str, Any]) -> dict[str, Any] | None:
    """One row of containers.jsonl from a Docker stats document (cgroup v1 or v2)."""
    cpu, pre = stats.get("cpu_stats") or {}, stats.get("precpu_stats") or {}
    usage = (cpu.get("cpu_usage") or {}).get("total_usage")
    pre_usage = (pre.get("cpu_usage") or {}).get("total_usage")
    system, pre_system = cpu.get("system_cpu_usage"), pre.get("system_cpu_usage")
    if usage is None or system is None:
        return None  # the container has stopped: Docker sends an empty document
    cores = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or [1])
    cpu_percent = 0.0
    if pre_usage is not None and pre_system and system > pre_system:
        cpu_percent = (usage - pre_usage) / (system - pre_system) * cores * 100.0
    memory = stats.get("memory_stats") or {}
    mstats = memory.get("stats") or {}
    # what `docker stats` shows: usage minus the reclaimable page cache
    cache = mstats.get("total_inactive_file", mstats.get("inactive_file", 0))
    networks = (stats.get("networks") or {}).values()
    blkio = (stats.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []
    return {
        "cpu_percent": round(max(cpu_percent, 0.0), 2),
        "mem_bytes": max(int(memory.get("usage", 0)) - int(cache), 0),
        "mem_limit_bytes": memory.get("limit"),
        "net_rx_bytes": sum(int(n.get("rx_bytes", 0)) for n in networks),
        "net_tx_bytes": sum(int(n.get("tx_bytes", 0)) for n in networks),
        "blk_read_bytes": sum(int(e["value"]) for e in blkio if e.get("op") in ("Read", "read")),
        "blk_write_bytes": sum(int(e["value"]) for e in blkio if e.get("op") in ("Write", "write")),
        "pids": int((stats.get("pids_stats") or {}).get("current", 0)),
    }


class JsonlWriter:
    """Appends one JSON object per line from many threads; each line flushed as written."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()
        self.lines = 0

    def write(self, row: dict[str, Any]) -> None:
        line = json.dumps(row, separators=(",", ":")) + "\n"
        with self._lock:
            if not self._file.closed:
                self._file.write(line)
                self._file.flush()
                self.lines += 1

    def close(self) -> None:
        with self._lock:
            self._file.close()


class ContainerSampler:
    """Samples every running container that carries `label` (e.g. `org...stack=cv-1234`)."""

    method = "stats-stream"

    def __init__(
        self,
        label: str,
        out: Path,
        client: docker.DockerClient | None = None,
        ledger: CpuLedger | None = None,
        writer: JsonlWriter | None = None,
    ) -> None:
        self.label = label
        self.writer = writer or JsonlWriter(out)
        self.client = client or docker_client()
        self.ledger = ledger or CpuLedger()
        self._stop = threading.Event()
        self._streams: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self.counts: dict[str, int] = {}
        # container name -> [start, end] of each stretch it was followed (end None: still is)
        self.lifetimes: dict[str, list[list[float | None]]] = {}
        self._discovery = threading.Thread(target=self._discover, name="monitor-discover")

    def start(self) -> ContainerSampler:
        self._discover_once()
        self._discovery.start()
        return self

    def stop(self) -> dict[str, int]:
        """Stop every stream; returns the number of samples written per container."""
        self._stop.set()
        self._discovery.join(timeout=10)
        with self._lock:
            threads = list(self._streams.values())
        for thread in threads:  # each sees the stop flag at its next sample, within ~1 s
            thread.join(timeout=5)
        self.writer.close()
        ended = time.time()
        for spans in self.lifetimes.values():
            for span in spans:
                span[1] = ended if span[1] is None else span[1]
        return dict(self.counts)

    def _discover(self) -> None:
        while not self._stop.wait(DISCOVER_EVERY_S):
            self._discover_once()

    def _discover_once(self) -> None:
        try:
            found = self.client.api.containers(filters={"label": self.label})
        except (docker.errors.DockerException, requests.exceptions.RequestException):
            return  # the daemon is busy; the next round retries
        with self._lock:
            for container in found:
                thread = self._streams.get(container["Id"])
                if thread is not None and thread.is_alive():
                    continue  # a stream ends when its container stops; a restarted one reopens
                name = (container.get("Names") or [container["Id"][:12]])[0].lstrip("/")
                role = (container.get("Labels") or {}).get(ROLE, "container")
                thread = threading.Thread(
                    target=self._follow,
                    args=(container["Id"], name, role),
                    name=f"monitor-{name}",
                    daemon=True,  # a stream stuck in the daemon must not hold the exit
                )
                self._streams[container["Id"]] = thread
                thread.start()

    def _follow(self, container_id: str, name: str, role: str) -> None:
        self.counts.setdefault(name, 0)
        span: list[float | None] = [time.time(), None]
        self.lifetimes.setdefault(name, []).append(span)
        try:
            stream = self.client.api.stats(container_id, stream=True, decode=True)
            for stats in stream:
                if self._stop.is_set():
                    break
                row = sample_of(stats)
                if row is None:
                    break
                sample = {"t": round(time.time(), 3), "container": name, "role": role, **row}
                self.writer.write(sample)
                self.counts[name] += 1
                usage = stats["cpu_stats"]["cpu_usage"]["total_usage"]
                self.ledger.record(container_id, role, usage / 1e9)
        except (docker.errors.DockerException, requests.exceptions.RequestException, ValueError):
            pass  # the container went away mid-read
        finally:
            if not self._stop.is_set():
                span[1] = time.time()
