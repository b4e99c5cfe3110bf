"""Local provider: the backend's process tree sampled at ~1 Hz with psutil, in containers.jsonl.

Same row schema as the container sampler (role "process"), so the report draws both alike.
Children that start later (uvicorn workers) are picked up each round; the CPU of processes
that ended is no longer counted, as with a container that stopped.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import psutil

from harness.monitor.containers import JsonlWriter


class ProcessSampler:
    def __init__(self, pid: int, name: str, out: Path, interval_s: float = 1.0) -> None:
        self.pid = pid
        self.name = name
        self.interval_s = interval_s
        self.writer = JsonlWriter(out)
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="monitor-process", daemon=True)
        self._procs: dict[int, psutil.Process] = {}

    def start(self) -> ProcessSampler:
        self._thread.start()
        return self

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(timeout=10)
        self.writer.close()
        return self.samples

    def _tree(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.pid)
            found = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []
        for proc in found:  # keep the same objects so cpu_percent measures since last call
            self._procs.setdefault(proc.pid, proc)
        return [self._procs[p.pid] for p in found]

    def _run(self) -> None:
        next_at = time.monotonic()
        for proc in self._tree():
            proc.cpu_percent(None)  # the first call only sets the reference point
        while not self._stop.wait(max(next_at + self.interval_s - time.monotonic(), 0.0)):
            next_at += self.interval_s
            row = self._sample()
            if row is None:
                return  # the backend is gone
            self.writer.write(row)
            self.samples += 1

    def _sample(self) -> dict[str, Any] | None:
        procs = self._tree()
        if not procs:
            return None
        cpu = mem = rd = wr = 0.0
        alive = 0
        for proc in procs:
            try:
                with proc.oneshot():
                    cpu += proc.cpu_percent(None)
                    mem += proc.memory_info().rss
                    io = proc.io_counters() if hasattr(proc, "io_counters") else None
                    if io is not None:
                        rd, wr = rd + io.read_bytes, wr + io.write_bytes
                alive += 1
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        net = psutil.net_io_counters(pernic=True).get("lo")  # the backend serves on loopback
        return {
            "t": round(time.time(), 3),
            "container": self.name,
            "role": "process",
            "cpu_percent": round(cpu, 2),
            "mem_bytes": int(mem),
            "mem_limit_bytes": psutil.virtual_memory().total,
            "net_rx_bytes": int(net.bytes_recv) if net else 0,
            "net_tx_bytes": int(net.bytes_sent) if net else 0,
            "blk_read_bytes": int(rd),
            "blk_write_bytes": int(wr),
            "pids": alive,
        }
