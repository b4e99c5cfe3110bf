"""Benchmark: the container sampler vs a `docker stats --no-stream` loop, same containers.

    python -m tests.bench.monitor_figures [--containers 8] [--seconds 60]

Starts N labelled containers (each a light, steady load), then for `seconds` each:
  sampler  harness.monitor.ContainerSampler in a child process (one stats stream each)
  loop     `docker stats --no-stream` over the same containers, back to back
Printed per variant: coverage (samples per container / expected at 1 Hz, median and min
over the containers), the variant's own CPU (the child process(es), user+sys) and dockerd's
CPU over the same window, as % of one core.
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
from pathlib import Path

import docker
import psutil

from harness.images import build_images

REPO = Path(__file__).resolve().parents[2]
LOAD = "import time\nwhile True:\n    sum(range(20000))\n    time.sleep(0.05)"
SAMPLER = """
import sys, time
from pathlib import Path
from harness.monitor import ContainerSampler
s = ContainerSampler(sys.argv[1], Path(sys.argv[2])).start()
time.sleep(float(sys.argv[3]))
s.stop()
t = time.process_time()
print(t)
"""


def dockerd_cpu() -> float:
    total = 0.0
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] in ("dockerd", "containerd"):
            t = proc.cpu_times()
            total += t.user + t.system
    return total


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_sampler(label: str, seconds: float) -> tuple[dict[str, int], float, float, float]:
    out = Path(tempfile.mkdtemp(prefix="bench-monitor-")) / "containers.jsonl"
    d0, c0, began = dockerd_cpu(), children_cpu(), time.monotonic()
    subprocess.run(
        [sys.executable, "-c", SAMPLER, label, str(out), str(seconds)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    wall = time.monotonic() - began
    counts: dict[str, int] = {}
    for line in out.read_text().splitlines():
        name = json.loads(line)["container"]
        counts[name] = counts.get(name, 0) + 1
    return counts, children_cpu() - c0, dockerd_cpu() - d0, wall


def run_loop(names: list[str], seconds: float) -> tuple[dict[str, int], float, float, float]:
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
    return counts, children_cpu() - c0, dockerd_cpu() - d0, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--containers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
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
    try:
        results = {
            "sampler (streams)": run_sampler(label, args.seconds),
            "docker stats --no-stream loop": run_loop(names, args.seconds),
        }
    finally:
        for c in containers:
            c.remove(force=True)
    print(
        f"\n{args.containers} containers, {args.seconds:.0f} s each variant "
        f"(expected {args.seconds:.0f} samples per container at 1 Hz), {os.cpu_count()} cores"
    )
    print(f"{'variant':<32} {'coverage median':>16} {'min':>6} {'own CPU':>9} {'dockerd CPU':>12}")
    for variant, (counts, own, daemon, wall) in results.items():
        cover = [counts.get(n, 0) / args.seconds for n in names]
        print(
            f"{variant:<32} {statistics.median(cover):>15.0%} {min(cover):>6.0%} "
            f"{own / wall:>9.1%} {daemon / wall:>12.1%}"
        )


if __name__ == "__main__":
    main()
