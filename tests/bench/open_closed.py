"""Benchmark: the reference backend's capacity, then open vs closed model past its knee.

    python -m tests.bench.open_closed [--rate 10] [--steps 8] [--step-s 20] [--past 1.5]
                                      [--duration 60] [--workers 1]

On one kept Docker stack (`harness up`, torn down at the end), in one run:
1. `harness capacity`: the open model's rate rises by --rate per step of --step-s until a step
   breaks an SLO; the capacity is the last rate that held.
2. At --past x that capacity (past the knee), the same iterations per second offered twice,
   --duration measured each, from the same restored seed:
   - open: `--shape rate --rate X` with a pool of 2 s of iterations (P users);
   - closed: `--shape baseline --users P` with think times scaled so that P users thinking
     offer X iterations a second while responses are fast (the mixed scenario's mean think
     time is 1.4375 s: 3 ContraVentoUsers at 0.5-2 s to 1 FeedBrowsingUser at 1-3 s).
Prints the capacity's steps and both runs' figures side by side (all HDR, per-request).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

MIXED_THINK_S = 0.75 * 1.25 + 0.25 * 2.0  # ContraVentoUser 0.5-2 s (weight 3), Feed 1-3 s (1)
REPO = Path(__file__).resolve().parents[2]


def harness(home: Path, *args: str, env: dict[str, str] | None = None) -> int:
    command = [sys.executable, "-m", "harness", *args]
    print("$ harness " + " ".join(args), flush=True)
    environ = {**os.environ, "HARNESS_HOME": str(home), **(env or {})}
    return subprocess.run(command, cwd=REPO, env=environ, check=False).returncode


def results(reports: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((reports / "latest" / "results.json").read_text())
    return data


def row(label: str, r: dict[str, Any]) -> str:
    a, window = r["aggregate"], r["window"] or {}
    seconds = (window.get("end") or 0) - (window.get("start") or 0)
    arrivals = (r.get("latency") or {}).get("arrivals") or {}
    dropped = f"{arrivals['dropped']}" if arrivals else "-"
    return (
        f"{label:<8} {r['verdict']:<8} {a['requests'] / max(seconds, 1):>7.1f} "
        f"{a['p50_ms']:>8.1f} {a['p95_ms']:>8.1f} {a['p99_ms']:>8.1f} {a['max_ms']:>8.0f} "
        f"{dropped:>8}  {', '.join(i['code'] for i in r['invalid']) or '-'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--step-s", type=int, default=20)
    parser.add_argument("--past", type=float, default=1.5)
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="open-closed-") as tmp:
        home, reports = Path(tmp) / "home", Path(tmp) / "reports"
        common = ["--skip-profile", "--workers", str(args.workers)]
        try:
            if harness(home, "up") != 0:
                sys.exit("harness up failed")
            search = [
                "capacity", "--rate", f"{args.rate:g}", "--steps", str(args.steps),
                "--duration", str(args.step_s), "--reports", str(reports / "capacity"), *common,
            ]  # fmt: skip
            harness(home, *search)
            found = results(reports / "capacity")
            capacity = (found.get("capacity") or {}).get("rate")
            broke = next(
                (s["rate"] for s in found["capacity"]["steps"] if s["judged"] and not s["held"]),
                None,
            )
            base = capacity or args.rate
            rate = round(base * args.past, 1)
            pool = max(10, round(rate * 2))
            scale = pool / (rate * MIXED_THINK_S)
            load = ["full-load", "--skip-bench", "--duration", str(args.duration), *common]
            harness(home, *load, "--shape", "rate", "--rate", f"{rate:g}", "--users", str(pool),
                    "--reports", str(reports / "open"))  # fmt: skip
            harness(home, *load, "--shape", "baseline", "--users", str(pool),
                    "--reports", str(reports / "closed"),
                    env={"CV_WAIT_SCALE": f"{scale:.4f}"})  # fmt: skip
            opened, closed = results(reports / "open"), results(reports / "closed")
        finally:
            harness(home, "down")
        print()
        print(f"capacity: {capacity} iterations/s (first broken step: {broke})")
        for step in found["capacity"]["steps"]:
            state = "held" if step["held"] else ("broke" if step["judged"] else "not judged")
            why = "; ".join(step["reasons"]) or step.get("closest") or ""
            print(f"  step {step['index'] + 1}: {step['rate']:>6g}/s  {state:<10} {why}")
        print()
        print(
            f"past the knee: {rate:g} iterations/s offered ({args.past:g} x {base:g}); "
            f"open: a pool of {pool}; closed: {pool} users, think x {scale:.3f}"
        )
        print(
            f"{'model':<8} {'verdict':<8} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
            f"{'p99 ms':>8} {'max ms':>8} {'dropped':>8}  invalid"
        )
        print(row("open", opened))
        print(row("closed", closed))
        ratio = opened["aggregate"]["p95_ms"] / max(closed["aggregate"]["p95_ms"], 0.001)
        print(f"open p95 / closed p95: {ratio:.2f}")


if __name__ == "__main__":
    main()
