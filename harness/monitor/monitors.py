"""The run's monitors together: started before the bench, stopped after the load."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.monitor.cgroups import CgroupSampler
from harness.monitor.host import HostSampler
from harness.monitor.ledger import CpuLedger
from harness.monitor.postgres import PostgresSampler
from harness.monitor.processes import ProcessSampler

FOLDER = "monitor"


@dataclass(frozen=True)
class MonitorRequest:
    run_dir: Path
    container_label: str | None = None  # Docker: every container with this label
    backend_pid: int | None = None  # local provider: the backend's process tree
    db_dsn: str | None = None  # PostgreSQL only (SQLite has no activity views)
    # Load-generator processes this process did not start (Locust processes it starts itself
    # are recognised by their command line); Locust containers are known by their role label.
    generator_pids: tuple[int, ...] = ()
    host: bool = True  # the host's CPU split by who used it (host.jsonl)


class Monitors:
    def __init__(self, request: MonitorRequest) -> None:
        self.out = request.run_dir / FOLDER
        self.out.mkdir(parents=True, exist_ok=True)
        ledger = CpuLedger()  # containers' CPU, from the container sampler to the host's
        label = request.container_label
        self.host = (
            HostSampler(
                self.out / "host.jsonl",
                ledger,
                stack_pid=None if label else request.backend_pid,
                generator_pids=request.generator_pids,
            )
            if request.host
            else None
        )
        self.containers = (
            CgroupSampler(
                label,
                self.out / "containers.jsonl",
                ledger=ledger,
                on_tick=self.host.tick if self.host is not None else None,
            )
            if label
            else None
        )
        self.process = (
            ProcessSampler(request.backend_pid, "backend", self.out / "containers.jsonl")
            if request.backend_pid and not label
            else None
        )
        dsn = request.db_dsn
        self.postgres = (
            PostgresSampler(dsn, self.out) if dsn and dsn.startswith("postgres") else None
        )
        self.began = time.time()

    def start(self) -> Monitors:
        self.began = time.time()
        if self.host is not None:  # the container sampler's thread is its clock, if there is one
            self.host.start(clock=self.containers is None)
        for sampler in (self.containers, self.process, self.postgres):
            if sampler is not None:
                sampler.start()
        return self

    def stop(self) -> dict[str, Any]:
        """Stop every sampler; writes and returns monitor/summary.json.

        Keys: containers (samples per container), method (how containers were sampled:
        cgroup, stats-stream or process; None: not sampled), lifetimes (container -> [start,
        end] stretches it ran while sampled), window ([start, end] of the monitoring),
        host_samples, postgres_samples, notes.
        """
        summary: dict[str, Any] = {
            "containers": {},
            "method": None,
            "lifetimes": {},
            "window": [round(self.began, 3), None],
            "host_samples": 0,
            "postgres_samples": 0,
            "notes": [],
        }
        if self.containers is not None:
            summary["containers"] = self.containers.stop()
            summary["method"] = self.containers.method
            summary["lifetimes"] = {
                name: [[round(a or 0.0, 3), round(b or 0.0, 3)] for a, b in spans]
                for name, spans in self.containers.lifetimes.items()
            }
            if self.containers.fallback_reason:
                summary["notes"].append(
                    "container samples came from Docker's stats streams, as cgroup files "
                    f"could not be read ({self.containers.fallback_reason})"
                )
        if self.process is not None:
            summary["containers"] = {"backend": self.process.stop()}
            summary["method"] = "process"
        if self.host is not None:
            summary["host_samples"] = self.host.stop()
        if self.postgres is not None:
            summary["postgres_samples"] = self.postgres.stop()
            summary["notes"] += self.postgres.notes
        summary["window"][1] = round(time.time(), 3)
        (self.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
        return summary
