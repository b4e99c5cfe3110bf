"""One container's counters read straight from its cgroup files and its network namespace.

Works with cgroup v1 (one hierarchy per controller), v2 (the unified hierarchy) and the
hybrid of both, with Docker's cgroupfs or systemd driver alike: a container's cgroup is
found from /proc/<pid>/cgroup of its main process, never guessed from the driver's naming.
Each resource is read from its v1 controller when that is mounted, else from the unified
hierarchy. The values match what `docker stats` shows: memory without the reclaimable page
cache, the limit capped at the host's memory, network bytes of every interface but `lo`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
NO_LIMIT = 1 << 62  # v1's "unlimited" is a huge page-aligned number near 2**63


class Unreadable(Exception):
    """This container's cgroup cannot be read from here (remote daemon, VM, permissions)."""


@dataclass(frozen=True)
class Counters:
    """One reading. CPU and I/O are cumulative since the cgroup was created."""

    cpu_ns: int
    mem_bytes: int
    mem_limit_bytes: int | None
    net_rx_bytes: int
    net_tx_bytes: int
    blk_read_bytes: int
    blk_write_bytes: int
    pids: int


@dataclass(frozen=True)
class Mounts:
    """Where the cgroup hierarchies are mounted: v1 controller -> folder; the unified one."""

    v1: dict[str, Path]
    unified: Path | None

    @classmethod
    def parse(cls, text: str) -> Mounts:
        """From /proc/self/mounts (device, mount point, type, options, ...)."""
        v1: dict[str, Path] = {}
        unified: Path | None = None
        for line in text.splitlines():
            fields = line.split()
            if len(fields) < 4:
                continue
            point = Path(fields[1].replace("\\040", " "))
            if fields[2] == "cgroup2":
                unified = unified or point
            elif fields[2] == "cgroup":
                for option in fields[3].split(","):
                    v1.setdefault(option, point)  # controllers and `name=systemd`
        return cls(v1, unified)


def cgroup_paths(text: str) -> dict[str, str]:
    """From /proc/<pid>/cgroup: v1 controller -> path, and "" -> the unified path."""
    paths: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def blkio_v1(text: str) -> tuple[int, int]:
    """Read and written bytes from a v1 `blkio.*io_service_bytes_recursive` file."""
    read = written = 0
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[2].isdigit():
            if fields[1] == "Read":
                read += int(fields[2])
            elif fields[1] == "Write":
                written += int(fields[2])
    return read, written


def io_v2(text: str) -> tuple[int, int]:
    """Read and written bytes from v2 io.stat (`8:0 rbytes=.. wbytes=.. ...` per device)."""
    read = written = 0
    for line in text.splitlines():
        for pair in line.split()[1:]:
            key, _, value = pair.partition("=")
            if key == "rbytes" and value.isdigit():
                read += int(value)
            elif key == "wbytes" and value.isdigit():
                written += int(value)
    return read, written


def net_dev(text: str) -> tuple[int, int]:
    """Received and sent bytes of every interface but `lo`, from /proc/<pid>/net/dev."""
    rx = tx = 0
    for line in text.splitlines()[2:]:
        name, _, values = line.partition(":")
        fields = values.split()
        if name.strip() == "lo" or len(fields) < 9:
            continue
        rx, tx = rx + int(fields[0]), tx + int(fields[8])
    return rx, tx


def host_memory(proc: Path = PROC) -> int | None:
    try:
        for line in (proc / "meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def stat_value(raw: bytes, key: bytes) -> int:
    """One `key value` line's value in memory.stat or cpu.stat (0 when absent)."""
    line = key + b" "
    at = 0 if raw.startswith(line) else raw.find(b"\n" + line) + 1
    if at == 0 and not raw.startswith(line):
        return 0
    end = raw.find(b"\n", at)
    return int(raw[at + len(line) : end if end >= 0 else len(raw)])


def slurp(path: str) -> bytes:
    """A small kernel file in one read: several times cheaper than Path.read_bytes()."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 1 << 16)
    finally:
        os.close(fd)


def _limit(raw: bytes) -> int:
    text = raw.strip()
    return NO_LIMIT if text == b"max" else int(text)


def _netns(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino  # noqa: PTH116 - the namespace's inode, through the link
    except OSError:
        return None


class CgroupFiles:
    """The files of one container's cgroup, located once from its main process's pid."""

    def __init__(self, container_id: str, pid: int, mounts: Mounts, proc: Path = PROC) -> None:
        try:
            paths = cgroup_paths((proc / str(pid) / "cgroup").read_text())
        except OSError as exc:
            raise Unreadable(f"/proc/{pid}/cgroup: {exc.strerror or exc}") from None

        def folder(controller: str) -> Path | None:
            """The container's folder in a hierarchy, if mounted and naming the container."""
            root = mounts.unified if controller == "" else mounts.v1.get(controller)
            path = paths.get(controller)
            if root is None or path is None or container_id not in path:
                return None
            return root / path.lstrip("/")

        unified = folder("")
        if unified is None and not any(container_id in p for p in paths.values()):
            # another machine's pid (remote daemon, Docker Desktop's VM) or a namespaced view
            raise Unreadable(f"the cgroup of pid {pid} does not name container {container_id[:12]}")
        self.container_id, self.pid = container_id, pid
        self.host_memory = host_memory(proc)

        def first(*candidates: Path | None) -> str | None:
            return next((str(c) for c in candidates if c is not None and c.exists()), None)

        cpuacct, memory, blkio, pids = (folder(c) for c in ("cpuacct", "memory", "blkio", "pids"))
        # each resource from its v1 controller where mounted, else from the unified hierarchy
        self.cpu_v1 = first(cpuacct and cpuacct / "cpuacct.usage")
        self.cpu_v2 = None if self.cpu_v1 else first(unified and unified / "cpu.stat")
        if self.cpu_v1 is None and self.cpu_v2 is None:
            raise Unreadable(f"no CPU accounting file for container {container_id[:12]}")
        self.memory: tuple[str, str, str, bytes] | None = None  # usage, limit, stat, cache key
        if memory is not None and first(memory / "memory.usage_in_bytes"):
            self.memory = (
                str(memory / "memory.usage_in_bytes"),
                str(memory / "memory.limit_in_bytes"),
                str(memory / "memory.stat"),
                b"total_inactive_file",
            )
        elif unified is not None and first(unified / "memory.current"):
            self.memory = (
                str(unified / "memory.current"),
                str(unified / "memory.max"),
                str(unified / "memory.stat"),
                b"inactive_file",
            )
        self.blkio_v1 = first(
            *(
                blkio and blkio / name
                for name in (
                    "blkio.throttle.io_service_bytes_recursive",
                    "blkio.io_service_bytes_recursive",
                    "blkio.bfq.io_service_bytes_recursive",
                )
            )
        )
        self.io_v2 = None if self.blkio_v1 else first(unified and unified / "io.stat")
        self.pids = first(pids and pids / "pids.current", unified and unified / "pids.current")
        # a container on the host's network would report the host's traffic; Docker shows none
        own = _netns(proc / "self" / "ns" / "net")
        host_network = own is not None and own == _netns(proc / str(pid) / "ns" / "net")
        self.net = None if host_network else str(proc / str(pid) / "net" / "dev")
        try:
            self.read()
        except OSError as exc:  # not ours to read (permissions), or gone already
            raise Unreadable(f"container {container_id[:12]}: {exc.strerror or exc}") from None

    def read(self) -> Counters:
        """One reading; OSError when the container has gone (its cgroup was removed)."""
        if self.cpu_v1 is not None:
            cpu_ns = int(slurp(self.cpu_v1))
        else:
            assert self.cpu_v2 is not None
            cpu_ns = stat_value(slurp(self.cpu_v2), b"usage_usec") * 1000
        mem, limit = self._memory()
        if self.blkio_v1 is not None:
            read, written = blkio_v1(slurp(self.blkio_v1).decode())
        elif self.io_v2 is not None:
            read, written = io_v2(slurp(self.io_v2).decode())
        else:
            read = written = 0
        rx, tx = net_dev(slurp(self.net).decode()) if self.net is not None else (0, 0)
        return Counters(
            cpu_ns=cpu_ns,
            mem_bytes=mem,
            mem_limit_bytes=limit,
            net_rx_bytes=rx,
            net_tx_bytes=tx,
            blk_read_bytes=read,
            blk_write_bytes=written,
            pids=int(slurp(self.pids)) if self.pids is not None else 0,
        )

    def _memory(self) -> tuple[int, int | None]:
        if self.memory is None:
            return 0, self.host_memory
        usage_file, limit_file, stat_file, cache_key = self.memory
        usage = int(slurp(usage_file))
        limit = _limit(slurp(limit_file))
        cache = stat_value(slurp(stat_file), cache_key)
        if self.host_memory is not None:
            limit = min(limit, self.host_memory)
        return max(usage - cache, 0), None if limit >= NO_LIMIT else limit
