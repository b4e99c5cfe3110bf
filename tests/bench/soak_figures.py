"""Benchmark: a soak run's failure rate and whether the backend's memory grows.

    python -m tests.bench.soak_figures [--users 100] [--minutes 30]   # runs the soak first
    python -m tests.bench.soak_figures --run reports/<run-id>           # an existing soak run

The run is `harness full-load --shape soak` (throwaway Docker stack, small profile, no
benchmark suite). Printed from its folder: requests, failure rate, rps and p95 in the first
and the last five minutes of the measured part, and the memory of the backend and PostgreSQL
containers (docker stats, page cache excluded) as the median of the first and of the last
minute after the warm-up, with the growth between them per hour.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
WINDOW_S = 60.0  # memory: median of the first and of the last minute
EDGE_S = 300.0  # rps / p95: the first and the last five minutes


def run_soak(users: int, minutes: int, reports: Path) -> Path:
    args = (
        f"full-load --shape soak --users {users} --duration {minutes * 60} --skip-bench "
        f"--reports {reports}"
    )
    done = subprocess.run([sys.executable, "-m", "harness", *args.split()], cwd=REPO, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"the soak run failed with exit {done.returncode}")
    return (reports / "latest").resolve()


def history(run_dir: Path) -> list[dict[str, Any]]:
    with (run_dir / "locust_stats_history.csv").open() as f:
        return [r for r in csv.DictReader(f) if r["Name"] == "Aggregated"]


def edge_figures(rows: list[dict[str, Any]], start: float, end: float) -> list[str]:
    def window(lo: float, hi: float) -> tuple[float, float]:
        picked = [r for r in rows if lo <= float(r["Timestamp"]) < hi]
        rps = statistics.median(float(r["Requests/s"]) for r in picked)
        p95 = statistics.median(float(r["95%"]) for r in picked if r["95%"] != "N/A")
        return rps, p95

    first, last = window(start, start + EDGE_S), window(end - EDGE_S, end)
    return [
        f"rps (median of 1 s samples)   first 5 min {first[0]:7.1f}   last 5 min {last[0]:7.1f}",
        f"p95 ms (Locust's current p95) first 5 min {first[1]:7.0f}   last 5 min {last[1]:7.0f}",
    ]


def memory_figures(run_dir: Path, start: float, end: float) -> list[str]:
    samples: dict[str, list[tuple[float, int]]] = {}
    for line in (run_dir / "monitor" / "containers.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["role"] in ("backend", "postgres") and start <= row["t"] <= end:
            samples.setdefault(row["role"], []).append((row["t"], row["mem_bytes"]))
    lines = []
    for role, points in sorted(samples.items()):
        first = statistics.median(m for t, m in points if t < start + WINDOW_S)
        last = statistics.median(m for t, m in points if t > end - WINDOW_S)
        hours = (end - start) / 3600
        growth = (last - first) / hours / 2**20
        lines.append(
            f"{role:<8} memory MiB   start {first / 2**20:7.1f}   end {last / 2**20:7.1f}   "
            f"change {100 * (last - first) / first:+5.1f} %   ({growth:+.1f} MiB/h, "
            f"{len(points)} samples)"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, help="an existing soak run folder")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--reports", type=Path, default=REPO / "reports")
    args = parser.parse_args()
    run_dir = args.run or run_soak(args.users, args.minutes, args.reports)
    results = json.loads((run_dir / "results.json").read_text())
    shape = results["run"]["shape"]
    rows = history(run_dir)
    began = float(rows[0]["Timestamp"])
    start = began + shape["warmup_s"]
    end = float(rows[-1]["Timestamp"])
    agg = results["aggregate"]
    print(f"run {run_dir.name}: {shape['users']} users, {shape['duration_s'] / 60:.0f} min")
    print(
        f"requests {agg['requests']:,}   failures {agg['failures']:,}   "
        f"failure rate {agg['failure_rate']:.3%}   p95 {agg['p95_ms']:.0f} ms   "
        f"verdict {results['verdict']}"
    )
    for line in edge_figures(rows, start, end) + memory_figures(run_dir, start, end):
        print(line)
    for incident in results.get("incidents") or []:
        print(f"incident: {incident}")


if __name__ == "__main__":
    main()
