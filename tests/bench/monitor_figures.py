"""Benchmark: container samplers side by side on the same containers: coverage and CPU cost.

    python -m tests.bench.monitor_figures [--containers 8] [--seconds 60] [--no-loop]

Starts N labelled containers (each a light, steady load), then runs, one after the other,
each right after an idle window (nothing sampled: dockerd's own CPU meanwhile, its baseline):
  cgroup    harness.monitor.CgroupSampler (one thread reading cgroup files), driving the
            HostSampler on its clock, as Monitors runs them, in a child process
  streams   harness.monitor.ContainerSampler (one Docker stats stream per container)
  loop      `docker stats --no-stream` over the same containers, back to back
Printed per variant: coverage (harness.monitor.coverage over the sampling window: samples
per container / expected at 1 Hz, median and min over the containers), its own CPU (the
child process from just before start() to after stop(), or the docker CLI processes),
dockerd+containerd's CPU over the same window, as % of one core, and for the cgroup
variant the host sampler's part of its own CPU. The machine may be shared: dockerd's CPU
in the idle window just before a variant tells what other users of the daemon cost then,
and `dockerd - idle` is the difference.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker
import psutil

from harness.images import build_images
from harness.monitor import coverage

REPO = Path(__file__).resolve().parents[2]
LOAD = "import time\nwhile True:\n    sum(range(20000))\n    time.sleep(0.05)"
SAMPLER = """
import json, sys, time
from pathlib import Path
from harness.monitor import CgroupSampler, ContainerSampler, CpuLedger, HostSampler
kind, label, run_dir, seconds = sys.argv[1], sys.argv[2], Path(sys.argv[3]), float(sys.argv[4])
out = run_dir / "monitor"
ledger, host_cpu = CpuLedger(), [0.0]
host = HostSampler(out / "host.jsonl", ledger)
def tick():
    began = time.thread_time()
    host.tick()
    host_cpu[0] += time.thread_time() - began
if kind == "cgroup":
    sampler = CgroupSampler(label, out / "containers.jsonl", ledger=ledger, on_tick=tick)
else:
    sampler = ContainerSampler(label, out / "containers.jsonl", ledger=ledger)
cpu, wall, began = time.process_time(), time.monotonic(), time.time()
if kind == "cgroup":
    started = time.thread_time()
    host.start(clock=False)
    host_cpu[0] += time.thread_time() - started
sampler.start()
time.sleep(seconds)
sampler.stop()
host.stop()
ended = time.time()
lifetimes = {n: [[a, b] for a, b in spans] for n, spans in sampler.lifetimes.items()}
summary = {"lifetimes": lifetimes, "window": [began, ended]}
(out / "summary.json").write_text(json.dumps(summary))
print(json.dumps({
    "cpu": time.process_time() - cpu, "wall": time.monotonic() - wall, "host_cpu": host_cpu[0],
    "began": began, "ended": ended, "method": getattr(sampler, "method", "stats-stream"),
}))
"""


@dataclass
class Figures:
    coverage: list[float]  # per container
    own_cpu_s: float
    dockerd_cpu_s: float
    wall_s: float
    host_cpu_s: float | None = None
    note: str = ""
    idle_dockerd: float = 0.0  # dockerd's CPU share in the idle window before this variant


def dockerd_cpu() -> float:
    total = 0.0
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] in ("dockerd", "containerd"):
            try:
                t = proc.cpu_times()
            except psutil.Error:
                continue
            total += t.user + t.system
    return total


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_idle(seconds: float) -> Figures:
    d0, began = dockerd_cpu(), time.monotonic()
    time.sleep(seconds)
    return Figures([], 0.0, dockerd_cpu() - d0, time.monotonic() - began)


def run_sampler(kind: str, label: str, names: list[str], seconds: float) -> Figures:
    run_dir = Path(tempfile.mkdtemp(prefix=f"bench-monitor-{kind}-"))
    d0, began = dockerd_cpu(), time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", SAMPLER, kind, label, str(run_dir), str(seconds)],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    daemon, wall = dockerd_cpu() - d0, time.monotonic() - began
    child = json.loads(done.stdout.strip().splitlines()[-1])
    found = coverage(run_dir, child["began"], child["ended"])
    return Figures(
        coverage=[found.get(n, 0.0) for n in names],
        own_cpu_s=child["cpu"],
        dockerd_cpu_s=daemon * child["wall"] / wall,  # the child's start-up is not the sampler's
        wall_s=child["wall"],
        host_cpu_s=child["host_cpu"] if kind == "cgroup" else None,
        note=child["method"],
    )


def run_loop(names: list[str], seconds: float) -> Figures:
    counts = dict.fromkeys(names, 0)
    d0, c0, began = dockerd_cpu(), children_cpu(), time.monotonic()
    while time.monotonic() - began < seconds:
        done = subprocess.run(
            ["docker", "stats", "--no-stream", "--format", "{{.Name}}", *names],
            capture_output=True,
            text=True,
            check=False,
        )
        for name in done.stdout.split():
            if name in counts:
                counts[name] += 1
    wall = time.monotonic() - began
    cover = [min(counts[n] / int(wall), 1.0) for n in names]
    return Figures(cover, children_cpu() - c0, dockerd_cpu() - d0, wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--containers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--idle-seconds", type=float, default=15)
    parser.add_argument("--no-loop", action="store_true", help="leave out the docker stats loop")
    args = parser.parse_args()
    client = docker.from_env()
    image = build_images(REPO).locust
    tag = uuid.uuid4().hex[:10]
    label = f"org.contravento.harness.bench={tag}"
    containers = [
        client.containers.run(
            image,
            ["-c", LOAD],
            entrypoint="python",
            name=f"bench-monitor-{tag}-{i}",
            labels={"org.contravento.harness.bench": tag},
            detach=True,
        )
        for i in range(args.containers)
    ]
    names = [c.name for c in containers]
    results: dict[str, Figures] = {}
    try:
        time.sleep(2)  # past the containers' start-up
        variants: dict[str, Callable[[], Figures]] = {
            "cgroup sampler (+ host)": lambda: run_sampler("cgroup", label, names, args.seconds),
            "stats-stream sampler": lambda: run_sampler("streams", label, names, args.seconds),
        }
        if not args.no_loop:
            variants["docker stats --no-stream loop"] = lambda: run_loop(names, args.seconds)
        for variant, run in variants.items():
            idle = run_idle(args.idle_seconds)
            results[variant] = run()
            results[variant].idle_dockerd = idle.dockerd_cpu_s / idle.wall_s
    finally:
        for c in containers:
            c.remove(force=True)
    print(
        f"\n{args.containers} containers, {args.seconds:.0f} s each variant "
        f"(coverage: samples per container / expected at 1 Hz), {os.cpu_count()} cores; "
        "CPU as % of one core"
    )
    print(
        f"{'variant':<30} {'coverage median':>15} {'min':>7} {'own CPU':>8} "
        f"{'dockerd CPU':>12} {'idle before':>12} {'dockerd - idle':>15} {'method':>13}"
    )
    for variant, fig in results.items():
        daemon = fig.dockerd_cpu_s / fig.wall_s
        cover = (
            f"{statistics.median(fig.coverage):>15.1%} {min(fig.coverage):>7.1%}"
            if fig.coverage
            else f"{'-':>15} {'-':>7}"
        )
        print(
            f"{variant:<30} {cover} {fig.own_cpu_s / fig.wall_s:>8.2%} {daemon:>12.2%} "
            f"{fig.idle_dockerd:>12.2%} {daemon - fig.idle_dockerd:>15.2%} {fig.note:>13}"
        )
        if fig.host_cpu_s is not None:
            print(
                f"{'  of which the host sampler':<30} {'':>23} {fig.host_cpu_s / fig.wall_s:>8.2%}"
            )


if __name__ == "__main__":
    main()
