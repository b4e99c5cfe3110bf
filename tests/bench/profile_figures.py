"""Benchmark: what py-spy costs a CPU-bound Python process, and itself, at a few settings.

    python -m tests.bench.profile_figures [--seconds 15] [--rounds 2] [--depth 50]

Two identical containers (the locust image, a non-root user) run side by side, each a loop
that descends `depth` Python frames (a FastAPI request is some 40-60 deep; py-spy's cost
grows with depth) and burns CPU at the bottom, printing its iteration count four times a
second. In each window of `seconds` the profiler (harness.profile.Profiler, its sidecar)
samples one of them, the two taking turns; the other is the baseline of the same window, so
load from elsewhere on the machine hits both alike. Windows without a profiler show how
even the pair is. Printed per setting: the profiled target's throughput as a share of its
twin's (mean and worst window), the sidecar's CPU (py-spy's user+sys, read on the host) as %
of one core and as a share of the whole machine, and samples / (rate x seconds).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import psutil

from harness.images import build_images
from harness.profile import DockerTarget, Profiler, Sampling

REPO = Path(__file__).resolve().parents[2]
KEY = "org.contravento.harness.bench"
TARGET = """
import sys, time
depth = int(sys.argv[1])

def burn_here(n):
    total = 0
    for i in range(n):
        total += i * i
    return total

def descend(level):
    return burn_here(2000) if level == 0 else descend(level - 1)

count, last = 0, time.time()
while True:
    descend(depth)
    count += 1
    now = time.time()
    if now - last >= 0.25:
        print(f"{now:.3f} {count}", flush=True)
        last = now
"""
SETTINGS = {
    "50 Hz": Sampling(rate_hz=50),
    "100 Hz": Sampling(rate_hz=100),
    "50 Hz nonblocking": Sampling(rate_hz=50, nonblocking=True),
    "20 Hz": Sampling(rate_hz=20),
}


@dataclass
class Window:
    ratio: float  # the profiled target's throughput / its twin's
    sidecar_cpu: float = 0.0  # cores
    coverage: float | None = None  # samples / expected


def throughput(target: Any, began: float, ended: float) -> float:
    """Iterations per second between two wall-clock times, from the target's own count."""
    rows = []
    for line in target.logs().decode().splitlines():
        stamp, _, count = line.partition(" ")
        if count.isdigit() and began <= float(stamp) <= ended:
            rows.append((float(stamp), int(count)))
    (t0, c0), (t1, c1) = rows[0], rows[-1]
    return (c1 - c0) / (t1 - t0)


def plain_window(pair: tuple[Any, Any], seconds: float) -> Window:
    began = time.time()
    time.sleep(seconds)  # the window: the targets count on their own
    ended = time.time()
    return Window(throughput(pair[0], began, ended) / throughput(pair[1], began, ended))


def profiled_window(
    client: Any, pair: tuple[Any, Any], image: str, sampling: Sampling, seconds: float, tag: str
) -> Window:
    """py-spy on pair[0]; pair[1] is the baseline of the same window."""
    profiled, twin = pair
    labels = {KEY: f"{tag}-sidecar"}
    out = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    profiler = Profiler(DockerTarget(profiled.id, image, labels), out, sampling=sampling).start()
    sidecar = client.containers.list(filters={"label": f"{KEY}={labels[KEY]}"})[0]
    spy = psutil.Process(sidecar.attrs["State"]["Pid"])  # py-spy: its entry point exec'd it
    cpu0, began = sum(spy.cpu_times()[:2]), time.time()
    time.sleep(seconds)  # the window: py-spy samples one target
    cpu1, ended = sum(spy.cpu_times()[:2]), time.time()
    summary = profiler.stop()
    assert summary.status == "ok", summary.reason
    expected = sampling.rate_hz * (summary.duration_s or seconds)
    return Window(
        throughput(profiled, began, ended) / throughput(twin, began, ended),
        (cpu1 - cpu0) / (ended - began),
        summary.samples / expected,
    )


def start_target(client: Any, image: str, depth: int, tag: str) -> Any:
    return client.containers.run(
        image,
        ["-c", TARGET, str(depth)],
        entrypoint="python",
        user="4242:4242",
        labels={KEY: tag},
        detach=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--depth", type=int, default=50)
    args = parser.parse_args()
    client = docker.from_env()
    image = build_images(REPO).locust
    tag = uuid.uuid4().hex[:10]
    windows: dict[str, list[Window]] = {"off": []}
    try:
        first, second = (start_target(client, image, args.depth, tag) for _ in range(2))
        time.sleep(2)  # the interpreters are up and counting
        for _ in range(args.rounds):
            for pair in ((first, second), (second, first)):
                windows["off"].append(plain_window(pair, args.seconds))
                for name, sampling in SETTINGS.items():
                    window = profiled_window(client, pair, image, sampling, args.seconds, tag)
                    windows.setdefault(name, []).append(window)
    finally:
        for container in client.containers.list(all=True, filters={"label": KEY}):
            if container.labels.get(KEY, "").startswith(tag):
                container.remove(force=True)
    cores = os.cpu_count() or 1
    print(
        f"\ndepth {args.depth}, {len(windows['off'])} windows of {args.seconds:.0f} s per "
        f"setting (each target profiled in half), {cores} cores"
    )
    print(
        f"{'setting':<20} {'vs twin':>8} {'worst':>7} {'py-spy CPU':>11} {'of machine':>11} "
        f"{'samples':>8}"
    )
    for name, found in windows.items():
        ratios = [w.ratio for w in found]
        cpu = statistics.mean(w.sidecar_cpu for w in found)
        coverage = [w.coverage for w in found if w.coverage is not None]
        worst = min(ratios) if name != "off" else min(min(ratios), 1 / max(ratios))
        print(
            f"{name:<20} {statistics.mean(ratios):>8.1%} {worst:>7.1%} {cpu:>11.1%} "
            f"{cpu / cores:>11.1%} {(f'{statistics.mean(coverage):.0%}' if coverage else '-'):>8}"
        )


if __name__ == "__main__":
    main()
