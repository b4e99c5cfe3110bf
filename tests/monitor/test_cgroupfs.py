"""Reading a container's counters from cgroup files: v1, v2 (systemd driver), hybrid, unreadable."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.monitor.cgroupfs import (
    CgroupFiles,
    Counters,
    Mounts,
    Unreadable,
    cgroup_paths,
    net_dev,
)

CID = "a236203ca514f088a80155aa3278c712a40581c575e11fd48df7a5709ac897f8"
PID = 4242
GIB = 1 << 30
NET_DEV = """Inter-|   Receive                            |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets
    lo:  999999     10    0    0    0     0          0         0   999999      10    0    0    0     0       0          0
  eth0:    1200      2    0    0    0     0          0         0      300       3    0    0    0     0       0          0
  eth1:      34      1    0    0    0     0          0         0        5       1    0    0    0     0       0          0
"""


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def proc_tree(tmp_path: Path, mounts: str, cgroup: str) -> Path:
    proc = tmp_path / "proc"
    write(proc / "self" / "mounts", mounts)
    write(proc / "meminfo", "MemTotal:        4194304 kB\nMemFree:   1 kB\n")  # 4 GiB
    write(proc / str(PID) / "cgroup", cgroup)
    write(proc / str(PID) / "net" / "dev", NET_DEV)
    return proc


def v1_tree(tmp_path: Path, limit: int = 9223372036854771712) -> Path:
    cg = tmp_path / "cg"
    mounts = "".join(
        f"cgroup {cg / c} cgroup rw,nosuid,relatime,{c} 0 0\n"
        for c in ("cpuacct", "memory", "blkio", "pids")
    )
    mounts += f"cgroup2 {cg / 'unified'} cgroup2 rw,relatime 0 0\n"
    lines = [f"{n}:{c}:/docker/{CID}" for n, c in enumerate(("cpuacct", "memory", "blkio", "pids"))]
    proc = proc_tree(tmp_path, mounts, "\n".join([*lines, f"0::/docker/{CID}"]) + "\n")
    folder = f"docker/{CID}"
    write(cg / "cpuacct" / folder / "cpuacct.usage", "2500000000\n")
    write(cg / "memory" / folder / "memory.usage_in_bytes", "300000\n")
    write(cg / "memory" / folder / "memory.limit_in_bytes", f"{limit}\n")
    write(cg / "memory" / folder / "memory.stat", "cache 5\ntotal_inactive_file 100000\n")
    write(
        cg / "blkio" / folder / "blkio.throttle.io_service_bytes_recursive",
        "8:0 Read 4096\n8:0 Write 8192\n8:0 Total 12288\n8:16 Read 1\nTotal 12289\n",
    )
    write(cg / "pids" / folder / "pids.current", "7\n")
    # the hybrid layout also has the container in the unified tree, with CPU accounting only
    write(cg / "unified" / folder / "cpu.stat", "usage_usec 1\n")
    return proc


def v2_tree(tmp_path: Path, memory_max: str = "max") -> Path:
    cg = tmp_path / "cg"
    proc = proc_tree(
        tmp_path,
        f"cgroup2 {cg} cgroup2 rw,nosuid,nodev,noexec,relatime 0 0\n",
        f"0::/system.slice/docker-{CID}.scope\n",
    )
    folder = cg / "system.slice" / f"docker-{CID}.scope"
    write(folder / "cpu.stat", "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n")
    write(folder / "memory.current", "500000\n")
    write(folder / "memory.max", f"{memory_max}\n")
    write(folder / "memory.stat", "anon 1\ninactive_file 200000\nactive_file 3\n")
    write(folder / "io.stat", "8:0 rbytes=100 wbytes=200 rios=1 wios=2\n8:16 rbytes=1 wbytes=2\n")
    write(folder / "pids.current", "3\n")
    return proc


def files(proc: Path) -> CgroupFiles:
    return CgroupFiles(CID, PID, Mounts.parse((proc / "self" / "mounts").read_text()), proc)


def test_cgroup_v1_counters_read_like_docker_stats(tmp_path: Path) -> None:
    assert files(v1_tree(tmp_path)).read() == Counters(
        cpu_ns=2_500_000_000,  # from cpuacct, not the hybrid unified tree
        mem_bytes=200_000,  # usage without the inactive page cache
        mem_limit_bytes=4 * GIB,  # "unlimited" is the host's memory, as Docker shows it
        net_rx_bytes=1234,  # every interface but lo
        net_tx_bytes=305,
        blk_read_bytes=4097,
        blk_write_bytes=8192,
        pids=7,
    )


def test_a_v1_memory_limit_below_the_hosts_is_kept(tmp_path: Path) -> None:
    assert files(v1_tree(tmp_path, limit=GIB)).read().mem_limit_bytes == GIB


def test_cgroup_v2_with_the_systemd_driver(tmp_path: Path) -> None:
    assert files(v2_tree(tmp_path)).read() == Counters(
        cpu_ns=1_500_000_000,
        mem_bytes=300_000,
        mem_limit_bytes=4 * GIB,
        net_rx_bytes=1234,
        net_tx_bytes=305,
        blk_read_bytes=101,
        blk_write_bytes=202,
        pids=3,
    )
    limited = files(v2_tree(tmp_path / "limited", memory_max=str(GIB // 2))).read()
    assert limited.mem_limit_bytes == GIB // 2


def test_a_container_gone_is_an_os_error_at_the_next_reading(tmp_path: Path) -> None:
    proc = v2_tree(tmp_path)
    reader = files(proc)
    (tmp_path / "cg" / "system.slice" / f"docker-{CID}.scope" / "cpu.stat").unlink()
    with pytest.raises(OSError):
        reader.read()


def test_a_pid_that_is_not_the_containers_is_unreadable(tmp_path: Path) -> None:
    # a remote daemon's pid, or Docker Desktop's VM: here it is some other process
    proc = v1_tree(tmp_path)
    (proc / str(PID) / "cgroup").write_text("4:memory:/user.slice\n0::/user.slice\n")
    with pytest.raises(Unreadable, match="does not name"):
        files(proc)
    with pytest.raises(Unreadable, match="/proc/1/cgroup"):
        CgroupFiles(CID, 1, Mounts.parse((proc / "self" / "mounts").read_text()), proc)


def test_no_cgroup_hierarchy_mounted_is_unreadable(tmp_path: Path) -> None:
    proc = v1_tree(tmp_path)
    (proc / "self" / "mounts").write_text("proc /proc proc rw 0 0\n")
    with pytest.raises(Unreadable):
        files(proc)


def test_proc_cgroup_lines_and_mounts_parse() -> None:
    paths = cgroup_paths("12:cpu,cpuacct:/docker/x\n1:name=systemd:/docker/x\n0::/docker/x\n")
    assert paths == {
        "cpu": "/docker/x",
        "cpuacct": "/docker/x",
        "name=systemd": "/docker/x",
        "": "/docker/x",
    }
    mounts = Mounts.parse(
        "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,cpu,cpuacct 0 0\n"
        "cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n"
    )
    assert mounts.v1["cpuacct"] == Path("/sys/fs/cgroup/cpu,cpuacct")
    assert mounts.unified == Path("/sys/fs/cgroup/unified")
    assert net_dev(NET_DEV) == (1234, 305)
