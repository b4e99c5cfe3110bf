"""Benchmark: the load phase's figures, on a throwaway Docker stack seeded with `small`.

    python -m tests.bench.load_figures [--rounds 3] [--cores 0.03] [--skip-stress] [--skip-p95]

1. Requests/s per worker core, FastHttpUser vs stock HttpUser, on the mixed scenario with no
   think time (CV_WAIT_SCALE=0): a master and one worker container on the stack's network. The
   worker is held at a CPU quota small enough that it, not the backend sharing these two cores,
   is the bottleneck (the throttled share is printed to show it: at 0.05 core FastHttpUser
   outran the backend in some periods, so 0.04 is the default); its CPU is read from the
   Docker stats API over the measured window. Interleaved fast/stock for `rounds` rounds.
2. The backend's highest sustainable rps under the `stress` ramp: the largest per-interval
   rps in Locust's history while that interval's p95 stayed <= 500 ms and failures < 1 %.
3. p95 per endpoint at 100 users (`load` shape, 60 s measured).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import docker
import docker.errors

from harness.images import build_images
from harness.load.runner import IMAGE_SCENARIOS, SCENARIO_FILES

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "harness" / "load" / "scenarios"


def harness(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HARNESS_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-m", "harness", *args], cwd=REPO, env=env, capture_output=True, text=True
    )
    if check and done.returncode not in (0, 1):
        raise SystemExit(f"harness {' '.join(args)} failed:\n{done.stderr}")
    return done


def _cpu(container: Any) -> tuple[float, float, int, int]:
    """(monotonic time, CPU seconds, CFS periods, throttled periods) of a running container."""
    cpu = container.stats(stream=False, one_shot=True)["cpu_stats"]
    throttling = cpu.get("throttling_data") or {}
    return (
        time.monotonic(),
        cpu["cpu_usage"]["total_usage"] / 1e9,
        int(throttling.get("periods", 0)),
        int(throttling.get("throttled_periods", 0)),
    )


def _wait_for_log(master: Any, text: str) -> None:
    """Until the master logs `text`; fails if the master stops first."""
    while text not in master.logs().decode(errors="replace"):
        master.reload()
        if master.status != "running":
            tail = master.logs(tail=15).decode(errors="replace")
            raise SystemExit(f"the Locust master stopped before logging {text!r}:\n{tail}")
        time.sleep(0.2)


def client_efficiency(
    image: str,
    network: str,
    usernames: Path,
    client: str,
    *,
    cores: float,
    users: int,
    warmup: int,
    measure: int,
) -> tuple[float, float, float]:
    """Requests per worker CPU-second with the worker held at `cores` of one core.

    A master and one worker container on the stack's network, no think time. Once the worker
    has spawned its users (start-up and spawning run unthrottled), its CPU quota is
    set to `cores`, so the worker, not the backend, is the bottleneck. The worker's CPU is read
    from the Docker stats API from the end of the warm-up (the master's stats reset) until the
    master stops. Returns (requests per CPU-second, cores used, share of CFS periods throttled).
    """
    api = docker.from_env(timeout=120)
    out = Path(tempfile.mkdtemp(prefix=f"bench-eff-{client}-"))
    out.chmod(0o777)
    env = {
        "CV_HTTP_CLIENT": client,
        "CV_USERNAMES_FILE": "/seed/usernames.txt",
        "CV_WAIT_SCALE": "0",
        "CV_SHAPE": json.dumps(
            {
                "warmup": {
                    "users": users,
                    "spawn_rate": users,
                    "min_s": warmup,
                    "max_s": warmup,
                    "wait_for_starts": False,
                },
                "stages": [{"for_s": measure, "users": users, "spawn_rate": users}],
            }
        ),
    }
    files = ",".join(f"{IMAGE_SCENARIOS}/{name}" for name in SCENARIO_FILES)
    seed = {str(usernames): {"bind": "/seed/usernames.txt", "mode": "ro"}}
    name = f"bench-eff-{os.getpid()}"
    labels = {"org.contravento.harness": "bench-load"}
    classes = ["ContraVentoUser", "FeedBrowsingUser"]
    containers = []
    try:
        master = api.containers.run(
            image,
            [
                *("-f", files, "--master", "--headless", "--only-summary", "--expect-workers", "1"),
                *("--host", "http://backend:8000", "--csv", "/out/locust", *classes),
            ],
            name=f"{name}-master",
            network=network,
            environment=env,
            volumes={**seed, str(out): {"bind": "/out", "mode": "rw"}},
            labels=labels,
            detach=True,
        )
        containers.append(master)
        worker = api.containers.run(
            image,
            ["-f", files, "--worker", "--master-host", f"{name}-master", *classes],
            name=f"{name}-worker",
            network=network,
            environment=env,
            volumes=seed,
            labels=labels,
            detach=True,
        )
        containers.append(worker)
        _wait_for_log(master, "All users spawned")  # a starved worker would miss heartbeats
        worker.update(cpu_period=100_000, cpu_quota=int(cores * 100_000))
        _wait_for_log(master, "warm-up over")
        first = last = _cpu(worker)
        while True:
            master.reload()
            if master.status != "running":
                break
            try:
                sample = _cpu(worker)
            except (docker.errors.APIError, KeyError):
                break
            if sample[1] > 0:
                last = sample
            time.sleep(0.5)
    finally:
        for container in containers:
            container.remove(force=True)
    with (out / "locust_stats.csv").open() as f:
        agg = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
    used = (last[1] - first[1]) / (last[0] - first[0])
    throttled = (last[3] - first[3]) / max(last[2] - first[2], 1)
    return float(agg["Requests/s"]) / used, used, throttled


def sustainable_rps(run_dir: Path) -> tuple[float, int]:
    best, users = 0.0, 0
    with (run_dir / "locust_stats_history.csv").open() as f:
        for row in csv.DictReader(f):
            if row["Name"] != "Aggregated" or row["95%"] in ("N/A", ""):
                continue
            rps, fails = float(row["Requests/s"]), float(row["Failures/s"])
            if float(row["95%"]) <= 500 and fails < 0.01 * max(rps, 1e-9) and rps > best:
                best, users = rps, int(row["User Count"])
    return best, users


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-stress", action="store_true")
    parser.add_argument("--skip-p95", action="store_true")
    parser.add_argument(
        "--cores", type=float, default=0.04, help="CPU quota of the worker while measuring"
    )
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-load-"))
    reports = home / "reports"
    harness(home, "up", "--provider", "docker")
    try:
        harness(home, "seed", "--profile", "small")
        info = json.loads(harness(home, "status", "--json").stdout)
        usernames = Path(info["folder"]) / "seed-usernames.txt"
        image = build_images(REPO).locust
        eff: dict[str, list[tuple[float, float, float]]] = {"fast": [], "stock": []}
        for _ in range(args.rounds):
            for client in ("fast", "stock"):
                eff[client].append(
                    client_efficiency(
                        image,
                        info["network"],
                        usernames,
                        client,
                        cores=args.cores,
                        users=20,
                        warmup=15,
                        measure=40,
                    )
                )
        print_efficiency(args, eff)
        if not args.skip_stress:
            harness(
                home,
                "load",
                "--shape",
                "stress",
                "--duration",
                "150",
                "--warmup",
                "10",
                "--reports",
                str(reports),
            )
            print_stress(sustainable_rps((reports / "latest").resolve()))
        if args.skip_p95:
            return
        done = harness(
            home,
            "load",
            "--shape",
            "load",
            "--users",
            "100",
            "--duration",
            "60",
            "--reports",
            str(reports),
        )
        results = json.loads(((reports / "latest").resolve() / "results.json").read_text())
        print_p95(done, results)
    finally:
        harness(home, "down", check=False)


def print_efficiency(
    args: argparse.Namespace, eff: dict[str, list[tuple[float, float, float]]]
) -> None:
    print(
        f"\n1. requests/s per worker core (mixed scenario, 20 users, no think time, 1 worker "
        f"container held at {args.cores} core, 40 s after a 15 s warm-up)"
    )
    per_core = {}
    for client, runs in eff.items():
        # a run with no requests lost its worker (a throttled worker can miss the master's
        # heartbeat deadline): shown, left out of the median
        per_core[client] = statistics.median(r for r, _, _ in runs if r > 0)
        print(
            f"   {client:<6} median {per_core[client]:7.0f} req/s per core   runs "
            + "  ".join(f"{r:.0f} (cores {c:.3f}, throttled {t:.0%})" for r, c, t in runs)
        )
    print(
        f"   FastHttpUser / HttpUser: {per_core['fast'] / per_core['stock']:.2f}x (target >= 3x)",
        flush=True,
    )


def print_stress(stress: tuple[float, int]) -> None:
    print(
        f"\n2. highest sustainable rps under stress (p95 <= 500 ms, failures < 1 %): "
        f"{stress[0]:.1f} rps at {stress[1]} users",
        flush=True,
    )


def print_p95(done: subprocess.CompletedProcess[str], results: dict[str, Any]) -> None:
    print(
        f"\n3. 100 users, small profile, 60 s after warm-up: verdict {results['verdict']} "
        f"(exit {done.returncode}); saturated={results['load_generator_saturated']}"
    )
    print(f"   {'endpoint':<38} {'requests':>8} {'p50':>6} {'p95':>6} {'p99':>6} {'fail %':>7}")
    for e in results["endpoints"]:
        print(
            f"   {e['method'] + ' ' + e['name']:<38} {e['requests']:>8} {e['p50_ms']:>6.0f} "
            f"{e['p95_ms']:>6.0f} {e['p99_ms']:>6.0f} {e['failure_rate'] * 100:>6.2f}%"
        )
    agg = results["aggregate"]
    print(
        f"   {'aggregate':<38} {agg['requests']:>8} {agg['p50_ms']:>6.0f} {agg['p95_ms']:>6.0f} "
        f"{agg['p99_ms']:>6.0f} {agg['failure_rate'] * 100:>6.2f}%   {agg['rps']:.1f} rps"
    )


if __name__ == "__main__":
    main()
