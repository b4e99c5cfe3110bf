"""The host sampler: its arithmetic, who a process belongs to, and real busy processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import namedtuple
from pathlib import Path
from typing import Any

import psutil

from harness.monitor import CpuLedger, HostSampler
from harness.monitor.host import (
    classify,
    host_row,
    is_locust_command,
    names_container,
    top_outside,
)

Times = namedtuple("Times", "user nice system idle iowait irq softirq steal guest guest_nice")
BURN = "import time\nend = time.time() + 60\nwhile time.time() < end: pass"


def times(**spent: float) -> Times:
    fields = dict.fromkeys(Times._fields, 0.0)
    fields.update(spent)
    return Times(**fields)


def test_a_row_splits_the_busy_cores_by_who_used_them() -> None:
    # 4 cores over 1 s = 4 s of CPU time: 2.5 s busy (guest inside user), 0.2 s stolen
    before = times()
    busy = {"user": 1.5, "nice": 0.1, "system": 0.6, "irq": 0.1, "softirq": 0.2, "guest": 0.5}
    after = times(**busy, idle=1.0, iowait=0.3, steal=0.2)
    row = host_row(100.0, 4, before, after, 1.0, {"stack": 1.2, "generator": 0.5, "harness": 0.1})
    assert row == {
        "t": 100.0,
        "cores": 4,
        "busy_cores": 2.5,
        "steal_cores": 0.2,
        "iowait_cores": 0.3,
        "stack_cores": 1.2,
        "generator_cores": 0.5,
        "harness_cores": 0.1,
        "outside_cores": 0.7,
    }
    # a group measured over a slightly longer second than /proc/stat: outside never negative
    busy = host_row(1.0, 4, before, after, 0.5, {"stack": 1.5})
    assert busy["stack_cores"] == 3.0 and busy["outside_cores"] == 0.0


def test_processes_belong_to_the_stack_the_generator_or_the_harness() -> None:
    # 1 init; 10 harness -> 11 monitor helper, 12 backend (local stack) -> 13 uvicorn worker,
    # 14 locust master it started -> 15 locust worker; 20 an external generator; 30 other
    parents = {1: 0, 10: 1, 11: 10, 12: 10, 13: 12, 14: 10, 15: 14, 20: 1, 21: 20, 30: 1}
    groups = classify(parents, 10, 12, [20], lambda pid: pid == 14)
    assert groups == {"stack": {12, 13}, "generator": {14, 15, 20, 21}, "harness": {10, 11}}
    assert is_locust_command(["/venv/bin/python", "-m", "locust", "-f", "x.py"])
    assert is_locust_command(["/venv/bin/locust", "--worker"])
    assert not is_locust_command(["python", "-c", "print('locust')"])


def test_the_top_processes_leave_out_ours_and_those_in_our_containers() -> None:
    used = {1: 0.001, 2: 9.0, 3: 4.0, 4: 3.0, 5: 2.5, 6: 2.0, 7: 1.5, 8: 1.0, 9: 0.5}
    names = {pid: f"p{pid}" for pid in used}
    in_container = {3}  # e.g. postgres in the stack's container
    top = top_outside(used, names, 5.0, {2}, lambda pid: pid in in_container)
    assert [p["pid"] for p in top] == [4, 5, 6, 7, 8]
    assert top[0] == {"pid": 4, "name": "p4", "cores": 0.6}
    assert names_container(f"4:memory:/docker/{'ab' * 32}\n", ["ab" * 32])
    assert not names_container("0::/user.slice\n", ["ab" * 32])


def test_the_ledger_counts_from_first_sight_and_across_restarts() -> None:
    ledger = CpuLedger()
    ledger.record("pg", "postgres", 100.0)  # what it used before the run is not counted
    ledger.record("w1", "locust-worker", 5.0)
    ledger.record("pg", "postgres", 101.5)
    ledger.record("w1", "locust-worker", 5.25)
    ledger.record("pg", "postgres", 0.5)  # restarted: a new cgroup counting from zero
    assert ledger.totals() == {"stack": 2.0, "generator": 0.25, "harness": 0.0}
    assert ledger.ids() == {"pg", "w1"}


def rows_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def detached_burner() -> int:
    """A busy process that is not this one's child (its parent, a shell, has exited)."""
    shell = subprocess.run(
        ["sh", "-c", f'"{sys.executable}" -c "$0" >/dev/null 2>&1 & echo $!', BURN],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(shell.stdout.strip())


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


# The machine is shared: other processes may take CPU from the busy loops below, so each is
# compared with what it really used (its own CPU time), not with a whole core.


def test_a_busy_process_outside_the_run_is_outside_and_named_in_top(tmp_path: Path) -> None:
    pid = detached_burner()
    try:
        time.sleep(0.2)
        used, began = cpu_seconds(pid), time.monotonic()
        sampler = HostSampler(tmp_path / "host.jsonl", interval_s=0.5, top_every=4).start()
        time.sleep(4.2)  # the sampling period itself is what is measured here
        samples = sampler.stop()
        cores = (cpu_seconds(pid) - used) / (time.monotonic() - began)
    finally:
        os.kill(pid, signal.SIGKILL)
    rows = rows_of(tmp_path / "host.jsonl")
    assert samples == len(rows) >= 7
    assert cores > 0.3  # it did run
    assert mean([r["outside_cores"] for r in rows]) > 0.8 * cores  # other load only adds
    assert all(r["outside_cores"] <= r["busy_cores"] <= r["cores"] + 0.05 for r in rows)
    tops = [r["top"] for r in rows if "top" in r]
    assert len(tops) == 2
    for top in tops:
        [burner] = [p for p in top if p["pid"] == pid]
        assert burner["name"].startswith("python")
        assert 0.6 * cores < burner["cores"] < 1.4 * cores


def test_the_local_stack_and_the_harness_are_not_outside(tmp_path: Path) -> None:
    backend = subprocess.Popen([sys.executable, "-c", BURN])  # a child: under the harness too
    try:
        time.sleep(0.2)
        used = cpu_seconds(backend.pid), cpu_seconds(os.getpid())
        sampler = HostSampler(
            tmp_path / "host.jsonl", stack_pid=backend.pid, interval_s=0.5, top_every=4
        ).start()
        began = time.monotonic()
        while time.monotonic() < began + 4.2:  # the harness itself busy for the same seconds
            sum(range(10_000))
        sampler.stop()
        wall = time.monotonic() - began
        stack_cores = (cpu_seconds(backend.pid) - used[0]) / wall
        harness_cores = (cpu_seconds(os.getpid()) - used[1]) / wall
    finally:
        backend.kill()
        backend.wait()
    rows = rows_of(tmp_path / "host.jsonl")
    assert stack_cores > 0.3 and harness_cores > 0.3
    sampled = mean([r["stack_cores"] for r in rows]), mean([r["harness_cores"] for r in rows])
    assert 0.7 * stack_cores < sampled[0] < 1.3 * stack_cores, (sampled, stack_cores, rows)
    assert 0.7 * harness_cores < sampled[1] < 1.3 * harness_cores, (sampled, harness_cores, rows)
    assert all(r["generator_cores"] == 0 for r in rows)
    assert all(p["pid"] not in (backend.pid, os.getpid()) for r in rows for p in r.get("top", []))


def test_the_profiler_sidecar_counts_as_the_harness_not_the_stack() -> None:
    ledger = CpuLedger()
    ledger.record("p", "profiler", 1.0)
    ledger.record("p", "profiler", 1.5)
    ledger.record("b", "backend", 3.0)
    ledger.record("b", "backend", 4.0)
    assert ledger.totals() == {"stack": 1.0, "generator": 0.0, "harness": 0.5}
