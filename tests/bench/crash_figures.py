"""Benchmark: leftovers after `kill -9` of a full-load at random moments.

    python -m tests.bench.crash_figures [--trials 10] [--max-moment 45] [--seed 1]

Each trial starts a throwaway Docker full-load (tiny profile, bench skipped), kills it with
SIGKILL after a random delay in [1, max-moment] s (images, stack start, seeding, load: the
moment is drawn, not chosen), then runs `harness status` as the next command would. Printed
per trial: the moment, the phase it hit, the harness-labelled containers / networks / volumes
left by the killed run, and those still there after the next command (target 0).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
            [*cmd, "--filter", "label=org.contravento.harness=1"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        found |= {f"{kind}:{name}" for name in out.split()}
    return found


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
    total_left = 0
    print(
        f"{'trial':>5} {'kill at':>8}  {'phase':<26} {'left by the kill':>16} {'after next cmd':>15}"
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
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        left = labelled() - before
        subprocess.run(
            [sys.executable, "-m", "harness", "status"], cwd=REPO, env=env, capture_output=True
        )
        after = labelled() - before
        total_left += len(after)
        phase = phase_of((home / "stderr.txt").read_text())
        print(
            f"{trial:>5} {moment:>7.1f}s  {phase:<26} {len(left):>16} {len(after):>15}", flush=True
        )
    print(f"leftovers after the next command, all trials: {total_left} (target 0)")


if __name__ == "__main__":
    main()
