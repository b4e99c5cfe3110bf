"""The host's CPU at 1 Hz, split by who used it: stack, load generator, harness, the rest.

A run is only worth its numbers when the host was not busy with something else, so every
second host.jsonl says how many cores were busy (/proc/stat, without steal: that is time
the hypervisor gave away) and how many of those the stack, the load generator and the
harness account for; `outside_cores` is the remainder. Every few seconds it names the
busiest processes outside the three (`top`).

Containers' CPU comes from the container sampler through a CpuLedger, so it is read once.
A local stack's backend, the load generator's processes and the harness's own process
tree are followed as process trees, rebuilt at the same few-second scan that names the top
processes; in between only their own /proc/<pid>/stat files are read. Locust processes the
harness started itself are the load generator, not the harness. On Linux the process
table is read from /proc directly (a quarter of psutil's cost); elsewhere through psutil.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from harness.monitor.cgroupfs import slurp
from harness.monitor.containers import JsonlWriter
from harness.monitor.ledger import GENERATOR, HARNESS, STACK, CpuLedger

PROC = Path("/proc")
TOP_EVERY = 5  # samples between two scans of the whole process table
TOP_N = 5
TOP_MIN_CORES = 0.01


@dataclass(frozen=True)
class ProcInfo:
    name: str
    ppid: int
    cpu_s: float  # user + system, this process only
    started: float  # with the pid, tells a process from a later one that reuses the pid


def host_row(
    now: float,
    cores: int,
    before: Any,
    after: Any,
    wall_s: float,
    used_s: dict[str, float],
) -> dict[str, Any]:
    """One row of host.jsonl from two psutil.cpu_times() and CPU seconds used per group."""

    def spent(field: str) -> float:
        return max(float(getattr(after, field, 0.0)) - float(getattr(before, field, 0.0)), 0.0)

    # guest time is already inside user and nice; steal is time this machine did not get
    busy = sum(spent(f) for f in ("user", "nice", "system", "irq", "softirq"))
    total = busy + sum(spent(f) for f in ("idle", "iowait", "steal"))
    share = cores / total if total > 0 else 0.0
    per_s = 1 / wall_s if wall_s > 0 else 0.0
    stack, generator, harness = (used_s.get(g, 0.0) * per_s for g in (STACK, GENERATOR, HARNESS))
    busy_cores = busy * share
    return {
        "t": round(now, 3),
        "cores": cores,
        "busy_cores": round(busy_cores, 3),
        "steal_cores": round(spent("steal") * share, 3),
        "iowait_cores": round(spent("iowait") * share, 3),
        "stack_cores": round(stack, 3),
        "generator_cores": round(generator, 3),
        "harness_cores": round(harness, 3),
        "outside_cores": round(max(busy_cores - stack - generator - harness, 0.0), 3),
    }


def descendants(children: dict[int, list[int]], roots: Iterable[int]) -> set[int]:
    """The roots and everything below them."""
    found: set[int] = set()
    todo = [r for r in roots if r]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, ()))
    return found


def classify(
    parents: dict[int, int],
    own_pid: int,
    stack_pid: int | None,
    generator_pids: Iterable[int],
    is_locust: Callable[[int], bool],
) -> dict[str, set[int]]:
    """The processes of the stack, the load generator and the harness (in that precedence)."""
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    stack = descendants(children, [stack_pid] if stack_pid else [])
    generator = descendants(children, generator_pids) - stack
    harness = descendants(children, [own_pid]) - stack - generator
    started_locust = [pid for pid in harness if pid != own_pid and is_locust(pid)]
    generator |= descendants(children, started_locust) - stack
    return {STACK: stack, GENERATOR: generator, HARNESS: harness - generator}


def is_locust_command(cmdline: list[str]) -> bool:
    """`python -m locust ...` or the `locust` script (what the local load runner starts)."""
    return any(Path(arg).name == "locust" for arg in cmdline[:4])


def names_container(cgroup_text: str, container_ids: Iterable[str]) -> bool:
    return any(cid in cgroup_text for cid in container_ids)


def top_outside(
    used_s: dict[int, float],
    names: dict[int, str],
    wall_s: float,
    excluded: set[int],
    in_our_container: Callable[[int], bool],
    n: int = TOP_N,
) -> list[dict[str, Any]]:
    """The n busiest processes that are not the stack's, the generator's or the harness's."""
    found: list[dict[str, Any]] = []
    for pid, seconds in sorted(used_s.items(), key=lambda item: -item[1]):
        cores = seconds / wall_s if wall_s > 0 else 0.0
        if len(found) >= n or cores < TOP_MIN_CORES:
            break
        if pid in excluded or in_our_container(pid):
            continue
        found.append({"pid": pid, "name": names.get(pid, "?"), "cores": round(cores, 3)})
    return found


class ProcTable:
    """Names, parents and CPU times of processes: /proc read directly on Linux, else psutil."""

    def __init__(self, proc: Path = PROC) -> None:
        self.proc = proc
        self.root = str(proc)
        self.linux = (proc / "stat").exists()
        self.tick = os.sysconf("SC_CLK_TCK") if self.linux else 100

    def one(self, pid: int) -> ProcInfo | None:
        if not self.linux:
            return self._psutil(pid)
        try:
            raw = slurp(f"{self.root}/{pid}/stat")
        except OSError:
            return None
        end = raw.rfind(b")")  # the name may hold spaces and parentheses
        fields = raw[end + 2 :].split()
        if end < 0 or len(fields) < 20:
            return None
        return ProcInfo(
            name=raw[raw.find(b"(") + 1 : end].decode(errors="replace"),
            ppid=int(fields[1]),
            cpu_s=(int(fields[11]) + int(fields[12])) / self.tick,
            started=int(fields[19]) / self.tick,
        )

    def all(self) -> dict[int, ProcInfo]:
        found: dict[int, ProcInfo] = {}
        if not self.linux:
            for pid in psutil.pids():
                info = self._psutil(pid)
                if info is not None:
                    found[pid] = info
            return found
        with os.scandir(self.root) as entries:
            for entry in entries:
                if entry.name.isdigit():
                    info = self.one(int(entry.name))
                    if info is not None:
                        found[int(entry.name)] = info
        return found

    def cmdline(self, pid: int) -> list[str]:
        try:
            if self.linux:
                raw = (self.proc / str(pid) / "cmdline").read_bytes()
                return [a.decode(errors="replace") for a in raw.split(b"\0") if a]
            return list(psutil.Process(pid).cmdline())
        except (OSError, psutil.Error):
            return []

    def cgroup(self, pid: int) -> str:
        try:
            return (self.proc / str(pid) / "cgroup").read_text() if self.linux else ""
        except OSError:
            return ""

    @staticmethod
    def _psutil(pid: int) -> ProcInfo | None:
        try:
            proc = psutil.Process(pid)
            with proc.oneshot():
                times = proc.cpu_times()
                cpu_s = times.user + times.system
                return ProcInfo(proc.name(), proc.ppid(), cpu_s, proc.create_time())
        except psutil.Error:
            return None


class HostSampler:
    """Samples the host's CPU into host.jsonl; on its own clock or driven by another sampler's."""

    def __init__(
        self,
        out: Path,
        ledger: CpuLedger | None = None,
        stack_pid: int | None = None,
        generator_pids: Iterable[int] = (),
        own_pid: int | None = None,
        interval_s: float = 1.0,
        top_every: int = TOP_EVERY,
        proc: Path = PROC,
    ) -> None:
        self.writer = JsonlWriter(out)
        self.ledger = ledger or CpuLedger()
        self.stack_pid = stack_pid
        self.generator_pids = tuple(generator_pids)
        self.own_pid = own_pid or os.getpid()
        self.interval_s = interval_s
        self.top_every = top_every
        self.table = ProcTable(proc)
        self.cores = psutil.cpu_count() or 1
        self.samples = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ticks = 0
        self._at = 0.0
        self._cpu: Any = None
        self._ledger: dict[str, float] = {}
        self._members: dict[int, tuple[str, ProcInfo]] = {}  # pid -> group, last reading
        self._scan: dict[int, ProcInfo] = {}
        self._scan_at = 0.0
        self._locust: dict[tuple[int, float], bool] = {}
        self._cgroups: dict[tuple[int, float], str] = {}  # /proc/<pid>/cgroup of top candidates

    def start(self, clock: bool = True) -> HostSampler:
        """Baseline now; clock=False when another sampler's thread calls tick() each second."""
        self._at, self._cpu = time.monotonic(), psutil.cpu_times()
        self._ledger = self.ledger.totals()
        self._rescan(self._at)
        if clock:
            self._thread = threading.Thread(target=self._run, name="monitor-host", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> int:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.writer.close()
        return self.samples

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.wait(max(next_at + self.interval_s - time.monotonic(), 0.0)):
            next_at += self.interval_s
            if time.monotonic() - next_at > self.interval_s:
                next_at = time.monotonic()
            self.tick()

    def tick(self) -> None:
        """One sample: the second since the previous one."""
        if self._stop.is_set() or self._cpu is None:
            return
        mono, now, cpu = time.monotonic(), time.time(), psutil.cpu_times()
        ledger = self.ledger.totals()
        used = {
            g: ledger.get(g, 0.0) - self._ledger.get(g, 0.0) for g in (STACK, GENERATOR, HARNESS)
        }
        for group, seconds in self._members_used().items():
            used[group] += seconds
        row = host_row(now, self.cores, self._cpu, cpu, mono - self._at, used)
        self._at, self._cpu, self._ledger = mono, cpu, ledger
        self._ticks += 1
        if self._ticks % self.top_every == 0:
            row["top"] = self._rescan(mono)
        self.writer.write(row)
        self.samples += 1

    def _members_used(self) -> dict[str, float]:
        """CPU seconds each group's processes used since the last reading."""
        used: dict[str, float] = {STACK: 0.0, GENERATOR: 0.0, HARNESS: 0.0}
        for pid, (group, last) in list(self._members.items()):
            info = self.table.one(pid)
            if info is None or info.started != last.started:
                del self._members[pid]  # ended; what it used in its last second is lost
                continue
            used[group] += max(info.cpu_s - last.cpu_s, 0.0)
            self._members[pid] = (group, info)
        return used

    def _rescan(self, mono: float) -> list[dict[str, Any]]:
        """The whole process table: the groups rebuilt, the busiest processes outside them."""
        table = self.table.all()
        groups = classify(
            {pid: info.ppid for pid, info in table.items()},
            self.own_pid,
            self.stack_pid,
            self.generator_pids,
            lambda pid: self._is_locust(pid, table[pid].started),
        )
        members: dict[int, tuple[str, ProcInfo]] = {}
        for group, pids in groups.items():
            for pid in pids & table.keys():
                known = self._members.get(pid)
                same = known is not None and known[1].started == table[pid].started
                members[pid] = (group, known[1]) if same and known else (group, table[pid])
        self._members = members
        used: dict[int, float] = {}
        for pid, info in table.items():
            before = self._scan.get(pid)
            since = before.cpu_s if before is not None and before.started == info.started else 0.0
            used[pid] = info.cpu_s - since
        wall = mono - self._scan_at
        top = (
            top_outside(
                used,
                {pid: info.name for pid, info in table.items()},
                wall,
                set().union(*groups.values()),
                lambda pid: self._in_our_container(pid, table[pid].started),
            )
            if self._scan
            else []
        )
        self._scan, self._scan_at = table, mono
        self._forget_gone(table)
        return top

    def _is_locust(self, pid: int, started: float) -> bool:
        key = (pid, started)
        if key not in self._locust:
            self._locust[key] = is_locust_command(self.table.cmdline(pid))
        return self._locust[key]

    def _in_our_container(self, pid: int, started: float) -> bool:
        """Whether its cgroup names one of the stack's containers (checked once per process)."""
        key = (pid, started)
        if key not in self._cgroups:  # a process never changes container; the ids do grow
            self._cgroups[key] = self.table.cgroup(pid)
        return names_container(self._cgroups[key], self.ledger.ids())

    def _forget_gone(self, table: dict[int, ProcInfo]) -> None:
        for cache in (self._locust, self._cgroups):
            for key in [k for k in cache if k[0] not in table]:
                del cache[key]
