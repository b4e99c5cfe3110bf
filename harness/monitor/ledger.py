"""The CPU the stack's containers used, shared in memory from the container sampler to the host's.

The container sampler records each container's cumulative CPU as it reads it; the host
sampler takes differences between its own samples, so both agree without reading twice.
A container's CPU counts from when it was first seen (what it used before is not this
run's); a restart starts a new cgroup from zero, which adds to what came before.
"""

from __future__ import annotations

import threading

GENERATOR = "generator"
STACK = "stack"
HARNESS = "harness"


def group_of(role: str) -> str:
    """The load generator (Locust master and workers) and the harness's own profiler sidecar
    apart from the stack under test."""
    if role.startswith("locust"):
        return GENERATOR
    return HARNESS if role == "profiler" else STACK


class CpuLedger:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}  # container id -> its counter as last read
        self._used: dict[str, float] = {}  # container id -> CPU seconds since first seen
        self._group: dict[str, str] = {}

    def record(self, container_id: str, role: str, cpu_s: float) -> None:
        """A container's cumulative CPU seconds, as its cgroup (or Docker) counts them."""
        with self._lock:
            last = self._last.get(container_id)
            if last is None:
                self._used[container_id] = 0.0
                self._group[container_id] = group_of(role)
            else:
                # a counter that went back belongs to a new cgroup (a restart): all of it is new
                self._used[container_id] += cpu_s - last if cpu_s >= last else cpu_s
            self._last[container_id] = cpu_s

    def totals(self) -> dict[str, float]:
        """CPU seconds used since first seen, by group (stack, generator, harness)."""
        found = {STACK: 0.0, GENERATOR: 0.0, HARNESS: 0.0}
        with self._lock:
            for container_id, used in self._used.items():
                found[self._group[container_id]] += used
        return found

    def ids(self) -> frozenset[str]:
        """Every container recorded (stack and generator)."""
        with self._lock:
            return frozenset(self._last)
