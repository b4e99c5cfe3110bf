"""Benchmark: how long `harness up` takes, next to a plain `docker run` of the same PostgreSQL.

    python -m tests.bench.stack_startup [--runs 3] [--cold 3]

Prints, as medians over `runs`: `harness up` with images cached (up to a stack whose /health
answered 200 and whose DSN answered a query), the same from no images at all when --cold N is
given (it deletes the harness's images and offline bases first, so the base is debootstrapped
again), and `docker run` of the stack's PostgreSQL image until the host gets an answer to
SELECT 1. Each timed `up` is followed by `down`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[2]


def harness(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HARNESS_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-m", "harness", *args], cwd=REPO, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"harness {' '.join(args)} failed:\n{done.stderr}")
    return done


def timed_up() -> tuple[float, str]:
    home = Path(tempfile.mkdtemp(prefix="bench-home-"))
    try:
        began = time.perf_counter()
        harness(home, "up", "--provider", "docker")
        elapsed = time.perf_counter() - began
        info = json.loads(harness(home, "status", "--json").stdout)
        with psycopg.connect(info["db_dsn"]) as conn:  # the printed DSN answers
            conn.execute("SELECT 1")
        image = info.get("containers", [{}])[0].get("name", "")
        postgres_image = subprocess.run(
            ["docker", "inspect", "-f", "{{.Config.Image}}", image],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        harness(home, "down")
        return elapsed, postgres_image
    finally:
        shutil.rmtree(home, ignore_errors=True)


def remove_all_images() -> None:
    listed = subprocess.run(
        ["docker", "images", "-q", "--filter", "reference=contravento-harness/*"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if listed:
        subprocess.run(
            ["docker", "rmi", "-f", *sorted(set(listed))], capture_output=True, check=False
        )
    subprocess.run(["docker", "image", "prune", "-f"], capture_output=True, check=False)
    shutil.rmtree(REPO / ".cache", ignore_errors=True)  # wheelhouse and debootstrap downloads


def plain_docker_run(image: str) -> float:
    began = time.perf_counter()
    cid = subprocess.run(
        [
            "docker",
            "run",
            "-d",
            "--rm",
            "-p",
            "127.0.0.1::5432",
            "-e",
            "POSTGRES_PASSWORD=bench-only-pw",
            image,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    try:
        port = (
            subprocess.run(
                ["docker", "port", cid, "5432/tcp"], capture_output=True, text=True, check=True
            )
            .stdout.split(":")[-1]
            .strip()
        )
        dsn = f"postgresql://postgres:bench-only-pw@127.0.0.1:{port}/postgres"
        deadline = time.monotonic() + 120
        while True:  # until the first answer to a query, as the stack's readiness demands
            try:
                with psycopg.connect(dsn, connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return time.perf_counter() - began
            except psycopg.Error:
                if time.monotonic() > deadline:
                    raise SystemExit("plain postgres did not answer within 120 s") from None
                time.sleep(0.05)
    finally:
        subprocess.run(["docker", "rm", "-f", "-v", cid], capture_output=True, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold", type=int, default=0, help="cold runs (deletes harness images)")
    args = parser.parse_args()
    harness(Path(tempfile.mkdtemp(prefix="bench-warm-")), "images")  # make sure they exist
    cached, plain, cold = [], [], []
    image = ""
    for _ in range(args.runs):  # interleaved so drift hits both alike
        seconds, image = timed_up()
        cached.append(seconds)
        plain.append(plain_docker_run(image))
    for _ in range(args.cold):
        remove_all_images()
        cold.append(timed_up()[0])
    print(f"\nPostgreSQL image: {image}")
    print(f"{'what':<48} {'median s':>9}  runs")
    print(
        f"{'harness up, images cached':<48} {statistics.median(cached):>9.2f}  "
        f"{' '.join(f'{s:.2f}' for s in cached)}"
    )
    if cold:
        print(
            f"{'harness up, no images (offline base build)':<48} {statistics.median(cold):>9.2f}  "
            f"{' '.join(f'{s:.1f}' for s in cold)}"
        )
    print(
        f"{'docker run postgres until SELECT 1 answers':<48} {statistics.median(plain):>9.2f}  "
        f"{' '.join(f'{s:.2f}' for s in plain)}"
    )
    print(
        f"ratio harness up (cached) / plain postgres: "
        f"{statistics.median(cached) / statistics.median(plain):.2f}x"
    )


if __name__ == "__main__":
    main()
