"""Benchmark: leftovers after `kill -9` of a full-load at random moments.

    python -m tests.bench.crash_figures [--trials 10] [--max-moment 45] [--seed 1]

Each trial starts a throwaway Docker full-load (tiny profile, bench skipped) and kills it with
SIGKILL after a random delay in [1, max-moment] s (images, stack start, seeding, load: the
moment is drawn, not chosen). Trials alternate between the two ways leftovers go away:
- "watchdog": only the harness is killed; its detached watchdog is left to clean up, and the
  harness-labelled containers / networks / volumes are counted every second for 60 s with no
  command run (printed: seconds until none were left, and what was left at 60 s);
- "next cmd": the watchdog is killed too (as a `kill -9` of everything would), and
  `harness status` runs as the next command would (printed: what it left).
Per trial: the moment, the phase it hit, what the kill left, and what remained (target 0).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]
ARGS = (
    "full-load --provider docker --skip-bench --profile tiny --users 6 --duration 30 "
    "--warmup 3 --workers 2 --bcrypt-rounds 4"
)


def labelled() -> set[str]:
    found: set[str] = set()
    for kind, cmd in (
        ("container", ["docker", "ps", "-a", "--format", "{{.Names}}"]),
        ("network", ["docker", "network", "ls", "--format", "{{.Name}}"]),
        ("volume", ["docker", "volume", "ls", "--format", "{{.Name}}"]),
    ):
        out = subprocess.run(
            [*cmd, "--filter", "label=org.contravento.harness.stack"],  # not image labels
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        found |= {f"{kind}:{name}" for name in out.split()}
    return found


def watchdogs_of(pid: int) -> list[psutil.Process]:
    return [
        child
        for child in psutil.Process(pid).children()
        if "harness.stack.watchdog" in " ".join(child.cmdline())
    ]


def watch_leftovers(before: set[str], seconds: float) -> tuple[float | None, int]:
    """Count what is left every second; (seconds until none, what is left at the end)."""
    began = time.monotonic()
    while True:
        left = labelled() - before
        waited = time.monotonic() - began
        if not left:
            return waited, 0
        if waited >= seconds:
            return None, len(left)
        time.sleep(1.0)  # the sampling interval of the count


def phase_of(stderr: str) -> str:
    for marker, phase in (
        ("measuring", "load"),
        ("warm-up", "load (warm-up)"),
        ("== load", "load start"),
        ("== monitors on", "monitors"),
        ("== seed", "seed"),
        ("starting the docker stack", "stack start"),
    ):
        if marker in stderr:
            return phase
    return "images / before the stack"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--max-moment", type=float, default=45.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    totals = {"watchdog": 0, "next cmd": 0}
    print(
        f"{'trial':>5} {'kill at':>8}  {'phase':<26} {'path':<9} {'left by kill':>12} "
        f"{'gone after':>10} {'remaining':>9}"
    )
    for trial in range(1, args.trials + 1):
        home = Path(tempfile.mkdtemp(prefix="bench-crash-"))
        env = {**os.environ, "HARNESS_HOME": str(home)}
        before = labelled()
        moment = rng.uniform(1.0, args.max_moment)
        with (home / "stderr.txt").open("w") as sink:
            proc = subprocess.Popen(
                [sys.executable, "-m", "harness", *ARGS.split(), "--reports", str(home / "r")],
                cwd=REPO,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=sink,
            )
            time.sleep(moment)  # the random moment of the kill is the point of the trial
            path = "watchdog" if trial % 2 else "next cmd"
            victims = [psutil.Process(proc.pid)]
            if path == "next cmd":
                victims += watchdogs_of(proc.pid)
            for victim in victims:
                victim.kill()
            proc.wait()
        left = labelled() - before
        if path == "watchdog":
            gone_after, remaining = watch_leftovers(before, 60.0)
            gone = f"{gone_after:.1f}s" if gone_after is not None else "> 60s"
        else:
            subprocess.run(
                [sys.executable, "-m", "harness", "status"], cwd=REPO, env=env, capture_output=True
            )
            remaining, gone = len(labelled() - before), "next cmd"
        totals[path] += remaining
        phase = phase_of((home / "stderr.txt").read_text())
        print(
            f"{trial:>5} {moment:>7.1f}s  {phase:<26} {path:<9} {len(left):>12} {gone:>10} "
            f"{remaining:>9}",
            flush=True,
        )
    print(
        f"remaining, all trials: {totals['watchdog']} within 60 s by the watchdog alone, "
        f"{totals['next cmd']} after the next command (target 0 and 0)"
    )


if __name__ == "__main__":
    main()
