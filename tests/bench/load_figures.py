"""Benchmark: the load phase's figures, on a throwaway Docker stack seeded with `small`.

    python -m tests.bench.load_figures [--rounds 2] [--skip-stress]

1. Requests per worker CPU-second, FastHttpUser vs stock HttpUser, on the mixed scenario with
   no think time (CV_WAIT_SCALE=0): one master and one worker process on this host against the
   stack's backend; the worker's CPU time is sampled with psutil until it exits. Printed raw
   and net of the worker's idle CPU (same run length, zero users: heartbeats, stats reports).
   Interleaved fast/stock for `rounds` rounds.
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

import psutil

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


def client_efficiency(
    url: str, usernames: Path, client: str, out: Path, users: int, seconds: int
) -> tuple[float, float]:
    """Requests per worker CPU-second, and the worker's mean CPU % (of one core)."""
    env = {
        **os.environ,
        "CV_HTTP_CLIENT": client,
        "CV_USERNAMES_FILE": str(usernames),
        "CV_SHAPE_STAGES": json.dumps(
            [{"until": seconds, "users": users, "spawn_rate": max(users, 1)}]
        ),
        "CV_WARMUP_S": "0",
    }
    files = f"{SCENARIOS}/contravento.py,{SCENARIOS}/staged_shape.py"
    master = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            files,
            "--master",
            "--headless",
            "--expect-workers",
            "1",
            "--host",
            url,
            "--csv",
            str(out / client),
            "--only-summary",
            "--master-bind-port",
            "5599",
            "ContraVentoUser",
            "FeedBrowsingUser",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            files,
            "--worker",
            "--master-port",
            "5599",
            "ContraVentoUser",
            "FeedBrowsingUser",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    proc = psutil.Process(worker.pid)
    cpu = 0.0
    began = time.monotonic()
    while worker.poll() is None:
        try:
            t = proc.cpu_times()
            cpu = t.user + t.system
        except psutil.NoSuchProcess:
            break
        time.sleep(0.2)
    wall = time.monotonic() - began
    master.wait(timeout=60)
    with (out / f"{client}_stats.csv").open() as f:
        agg = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
    return int(agg["Request Count"]), cpu, 100 * cpu / wall


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
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip-stress", action="store_true")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-load-"))
    reports = home / "reports"
    harness(home, "up", "--provider", "docker")
    try:
        harness(home, "seed", "--profile", "small")
        info = json.loads(harness(home, "status", "--json").stdout)
        usernames = Path(info["folder"]) / "seed-usernames.txt"
        out = Path(tempfile.mkdtemp(prefix="bench-eff-"))
        eff: dict[str, list[tuple[int, float, float]]] = {"fast": [], "stock": []}
        idle: list[float] = []
        for _ in range(args.rounds):
            for client in ("fast", "stock"):
                eff[client].append(
                    client_efficiency(info["backend_url"], usernames, client, out, 20, 30)
                )
            idle.append(client_efficiency(info["backend_url"], usernames, "fast", out, 0, 30)[1])
        stress = None
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
            stress = sustainable_rps((reports / "latest").resolve())
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
    finally:
        harness(home, "down", check=False)
    base = statistics.median(idle)
    print(
        "\n1. requests per worker CPU-second (mixed scenario, 20 users, no think time, 30 s, 1 worker)"
    )
    print(f"   idle worker CPU over 30 s (0 users): {base:.2f} s")
    raw, net = {}, {}
    for client, runs in eff.items():
        raw[client] = statistics.median(n / cpu for n, cpu, _ in runs)
        net[client] = statistics.median(n / max(cpu - base, 1e-6) for n, cpu, _ in runs)
        print(
            f"   {client:<6} raw {raw[client]:8.1f}   net of idle {net[client]:8.1f}   runs "
            f"{' '.join(f'{n} req/{cpu:.1f}s' for n, cpu, _ in runs)}   "
            f"worker CPU {' '.join(f'{p:.0f}%' for _, _, p in runs)}"
        )
    print(
        f"   FastHttpUser / HttpUser: raw {raw['fast'] / raw['stock']:.2f}x, "
        f"net of idle {net['fast'] / net['stock']:.2f}x (target >= 3x)"
    )
    if stress:
        print(
            f"\n2. highest sustainable rps under stress (p95 <= 500 ms, failures < 1 %): "
            f"{stress[0]:.1f} rps at {stress[1]} users"
        )
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
