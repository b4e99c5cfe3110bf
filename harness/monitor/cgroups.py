"""Per-container samples at 1 Hz read straight from cgroup files by one thread, as JSONL.

The rows are those of the stats-stream sampler (harness.monitor.containers), so the report
reads both alike, but nothing is asked of the Docker daemon per sample: it is asked once
for the labelled containers, then follows its event stream (start, die) for containers that
start mid-run (Locust workers) or restart, plus a plain list every few seconds in case an
event was missed. Each new container is inspected once for its main process, whose
/proc/<pid>/cgroup names its cgroup. When that cannot be read from here (Docker Desktop, a
remote daemon, permissions), the sampler falls back to the stats streams and says so
(`method`). The sampling thread is also the monitors' clock: `on_tick` runs after each
round, so the host sampler sees the same second as the containers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests.exceptions

from harness.docker_api import docker_client
from harness.labels import ROLE
from harness.monitor.cgroupfs import PROC, CgroupFiles, Counters, Mounts, Unreadable
from harness.monitor.containers import ContainerSampler, JsonlWriter
from harness.monitor.ledger import CpuLedger

DISCOVER_EVERY_S = 10.0  # the safety net behind the event stream; a list costs the daemon little
DOCKER_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException)


@dataclass
class Watched:
    """A running container being sampled, and its previous reading."""

    id: str
    name: str
    role: str
    files: CgroupFiles
    started: float  # time.time() of the first reading
    last: Counters
    last_at: float  # time.monotonic() of the last reading


def row_of(now: float, watched: Watched, counters: Counters, elapsed_s: float) -> dict[str, Any]:
    """One row of containers.jsonl; cpu_percent as `docker stats` gives it (100 = one core)."""
    used_ns = max(counters.cpu_ns - watched.last.cpu_ns, 0)  # a restart resets the counter
    cpu_percent = used_ns / 1e9 / elapsed_s * 100.0 if elapsed_s > 0 else 0.0
    return {
        "t": round(now, 3),
        "container": watched.name,
        "role": watched.role,
        "cpu_percent": round(cpu_percent, 2),
        "mem_bytes": counters.mem_bytes,
        "mem_limit_bytes": counters.mem_limit_bytes,
        "net_rx_bytes": counters.net_rx_bytes,
        "net_tx_bytes": counters.net_tx_bytes,
        "blk_read_bytes": counters.blk_read_bytes,
        "blk_write_bytes": counters.blk_write_bytes,
        "pids": counters.pids,
    }


def host_mounts(proc: Path = PROC) -> Mounts:
    try:
        return Mounts.parse((proc / "self" / "mounts").read_text())
    except OSError:
        return Mounts({}, None)


class CgroupSampler:
    """Samples every running container that carries `label` from its cgroup files."""

    def __init__(
        self,
        label: str,
        out: Path,
        client: docker.DockerClient | None = None,
        ledger: CpuLedger | None = None,
        on_tick: Callable[[], None] | None = None,
        interval_s: float = 1.0,
        proc: Path = PROC,
        discover_every_s: float = DISCOVER_EVERY_S,
    ) -> None:
        self.label = label
        self.out = out
        self.writer = JsonlWriter(out)
        self.client = client or docker_client()
        self.ledger = ledger or CpuLedger()
        self.on_tick = on_tick
        self.interval_s = interval_s
        self.proc = proc
        self.mounts = host_mounts(proc)
        self.discover_every_s = discover_every_s
        self.method = "cgroup"  # "stats-stream" once it has fallen back
        self.fallback_reason: str | None = None
        self.counts: dict[str, int] = {}
        # container name -> [start, end] of each stretch it was sampled, from its first reading
        # (the baseline, no row) to its `die` or its cgroup gone (end None: still sampled)
        self.lifetimes: dict[str, list[list[float | None]]] = {}
        self.began = time.time()
        self._watched: dict[str, Watched] = {}
        self._names: dict[str, str] = {}  # container id -> name, for a late `die`
        self._fallback: ContainerSampler | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._events: Any = None
        self._threads = [
            threading.Thread(target=self._sample, name="monitor-cgroups", daemon=True),
            threading.Thread(target=self._follow_events, name="monitor-events", daemon=True),
            threading.Thread(target=self._rediscover, name="monitor-discover", daemon=True),
        ]

    def start(self) -> CgroupSampler:
        self.began = time.time()
        since = int(self.began) - 1  # replays what started between the list and the stream
        self._discover_once()
        try:
            self._events = self.client.events(
                since=since,
                filters={"type": "container", "label": self.label, "event": ["start", "die"]},
                decode=True,
            )
        except DOCKER_ERRORS:
            self._events = None  # the periodic list still finds them, a few seconds later
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> dict[str, int]:
        """Stop sampling; returns the number of samples written per container."""
        self._stop.set()
        if self._events is not None:
            self._events.close()  # unblocks the events thread
        for thread in self._threads:
            thread.join(timeout=10)
        if self._fallback is not None:
            for name, n in self._fallback.stop().items():
                self.counts[name] = self.counts.get(name, 0) + n
            for name, spans in self._fallback.lifetimes.items():
                self.lifetimes.setdefault(name, []).extend(spans)
        self.writer.close()
        ended = time.time()
        for spans in self.lifetimes.values():
            for span in spans:
                span[1] = ended if span[1] is None else span[1]
        return dict(self.counts)

    # -- the clock: one reading of every watched container a second

    def _sample(self) -> None:
        next_at = time.monotonic()
        while not self._stop.wait(max(next_at + self.interval_s - time.monotonic(), 0.0)):
            next_at += self.interval_s
            if time.monotonic() - next_at > self.interval_s:
                next_at = time.monotonic()  # fell behind (a stalled host): skip, no burst
            self._read_all()
            if self.on_tick is not None:
                self.on_tick()

    def _read_all(self) -> None:
        now, mono = time.time(), time.monotonic()
        with self._lock:
            watched = list(self._watched.values())
        for entry in watched:
            if mono <= entry.last_at:
                continue  # watched since this round began: its first row comes with the next
            try:
                counters = entry.files.read()
            except (OSError, ValueError):  # its cgroup is gone: the container stopped
                self._lost(entry.id, now, entry)
                continue
            self.writer.write(row_of(now, entry, counters, mono - entry.last_at))
            self.counts[entry.name] += 1
            self.ledger.record(entry.id, entry.role, counters.cpu_ns / 1e9)
            entry.last, entry.last_at = counters, mono

    # -- discovery: a list at the start, the event stream, a list every few seconds

    def _discover_once(self) -> None:
        try:
            found = self.client.api.containers(filters={"label": self.label})
        except DOCKER_ERRORS:
            return  # the daemon is busy; the next round retries
        with self._lock:
            new = [c["Id"] for c in found if c["Id"] not in self._watched]
        for container_id in new:
            self._watch(container_id)

    def _rediscover(self) -> None:
        while not self._stop.wait(self.discover_every_s):
            self._discover_once()

    def _follow_events(self) -> None:
        if self._events is None:
            return
        try:
            for event in self._events:
                if self._stop.is_set():
                    return
                container_id = event.get("id") or (event.get("Actor") or {}).get("ID")
                at = int(event.get("timeNano") or time.time_ns()) / 1e9
                action = event.get("Action") or event.get("status")
                if not container_id:
                    continue
                if action == "start":
                    self._watch(container_id)
                elif action == "die":
                    self._lost(container_id, at, None)
        except (*DOCKER_ERRORS, ValueError):
            pass  # stream closed by stop(), or the daemon went away: the list goes on
        except AttributeError:
            pass  # docker-py's stream raises this when closed while a read is pending

    def _watch(self, container_id: str) -> None:
        """Start sampling a running container (once per run of it: a restart is a new run)."""
        if self._fallback is not None:
            return
        try:
            info = self.client.api.inspect_container(container_id)
        except DOCKER_ERRORS:
            return  # removed already, or the daemon is busy: the next list retries
        state = info.get("State") or {}
        pid = int(state.get("Pid") or 0)
        if not state.get("Running") or pid <= 0:
            return
        with self._lock:
            known = self._watched.get(container_id)
            if known is not None and known.files.pid == pid:
                return
        try:
            files = CgroupFiles(container_id, pid, self.mounts, self.proc)
        except Unreadable as exc:
            if self._still_running(container_id, pid):
                self._fall_back(str(exc))
            return
        name = str(info.get("Name") or container_id[:12]).lstrip("/")
        role = ((info.get("Config") or {}).get("Labels") or {}).get(ROLE, "container")
        try:
            baseline = files.read()
        except (OSError, ValueError):
            return  # stopped in the meantime
        # its stretch starts with this first reading: every round after it has a row for it
        now = time.time()
        entry = Watched(container_id, name, role, files, now, baseline, time.monotonic())
        with self._lock:
            current = self._watched.get(container_id)
            if current is not None and current.files.pid == pid:
                return  # the event and the periodic list found it at the same moment
            if current is not None:
                self._close(current, now)  # a restart whose `die` we did not see
            self._watched[container_id] = entry
            self._names[container_id] = name
            self.counts.setdefault(name, 0)
            self.lifetimes.setdefault(name, []).append([now, None])
        self.ledger.record(container_id, role, baseline.cpu_ns / 1e9)

    def _lost(self, container_id: str, at: float, entry: Watched | None) -> None:
        """A container stopped (its `die` event, or its cgroup gone at a reading)."""
        with self._lock:
            current = self._watched.get(container_id)
            if current is None and entry is None:
                self._ended_earlier(container_id, at)
                return
            if current is None or (entry is not None and current is not entry):
                return
            if at < current.started:
                return  # a `die` replayed from before this run of the container
            del self._watched[container_id]
            self._close(current, at)

    def _ended_earlier(self, container_id: str, at: float) -> None:
        """A `die` that comes after a failed reading has closed the stretch: its exact end."""
        spans = self.lifetimes.get(self._names.get(container_id, ""), [])
        if spans and spans[-1][1] is not None and spans[-1][0] is not None:
            start, end = spans[-1][0], spans[-1][1]
            if start <= at < end:
                spans[-1][1] = at

    def _close(self, entry: Watched, at: float) -> None:
        for span in reversed(self.lifetimes.get(entry.name, [])):
            if span[1] is None:
                span[1] = max(at, entry.started)
                return

    def _still_running(self, container_id: str, pid: int) -> bool:
        try:
            state = self.client.api.inspect_container(container_id).get("State") or {}
        except DOCKER_ERRORS:
            return False
        return bool(state.get("Running")) and int(state.get("Pid") or 0) == pid

    def _fall_back(self, reason: str) -> None:
        """Cgroup files are not readable from here: the daemon's stats streams instead."""
        with self._lock:
            if self._fallback is not None or self._stop.is_set():
                return
            self.method, self.fallback_reason = "stats-stream", reason
            now = time.time()
            for entry in self._watched.values():
                self._close(entry, now)
            self._watched.clear()
            self._fallback = ContainerSampler(
                self.label, self.out, self.client, ledger=self.ledger, writer=self.writer
            )
        self._fallback.start()
