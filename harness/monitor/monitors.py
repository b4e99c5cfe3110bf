"""The run's monitors together: started before the bench, stopped after the load."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.monitor.containers import ContainerSampler
from harness.monitor.postgres import PostgresSampler
from harness.monitor.processes import ProcessSampler

FOLDER = "monitor"


@dataclass(frozen=True)
class MonitorRequest:
    run_dir: Path
    container_label: str | None = None  # Docker: every container with this label
    backend_pid: int | None = None  # local provider: the backend's process tree
    db_dsn: str | None = None  # PostgreSQL only (SQLite has no activity views)


class Monitors:
    def __init__(self, request: MonitorRequest) -> None:
        self.out = request.run_dir / FOLDER
        self.out.mkdir(parents=True, exist_ok=True)
        self.containers = (
            ContainerSampler(request.container_label, self.out / "containers.jsonl")
            if request.container_label
            else None
        )
        self.process = (
            ProcessSampler(request.backend_pid, "backend", self.out / "containers.jsonl")
            if request.backend_pid and not request.container_label
            else None
        )
        dsn = request.db_dsn
        self.postgres = (
            PostgresSampler(dsn, self.out) if dsn and dsn.startswith("postgres") else None
        )

    def start(self) -> Monitors:
        for sampler in (self.containers, self.process, self.postgres):
            if sampler is not None:
                sampler.start()
        return self

    def stop(self) -> dict[str, Any]:
        """Stop every sampler; writes and returns monitor/summary.json (samples, notes)."""
        summary: dict[str, Any] = {"containers": {}, "postgres_samples": 0, "notes": []}
        if self.containers is not None:
            summary["containers"] = self.containers.stop()
        if self.process is not None:
            summary["containers"] = {"backend": self.process.stop()}
        if self.postgres is not None:
            summary["postgres_samples"] = self.postgres.stop()
            summary["notes"] += self.postgres.notes
        (self.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
        return summary
