"""Benchmark: the seeder's rows/s next to `psql \\copy` of the same rows, in one run.

    python -m tests.bench.seed_throughput [--profile medium] [--seed 1]

Starts a throwaway Docker stack, seeds the profile into its fresh database (timed by the
seeder: generation + binary COPY + index rebuild + ANALYZE), exports every seeded table to
CSV, creates an empty copy of the schema (the backend's own, with its indexes and foreign
keys) in a second database on the same server, and times one psql session that runs `\\copy
... FROM ... CSV` for each table in dependency order. Prints both rates and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from backend.db import create_engine, prepare_database
from backend.settings import Settings, normalise_database_url

PSQL_LABEL = "psql \\copy from CSV (schema with indexes)"
REPO = Path(__file__).resolve().parents[2]
TABLES = ("users", "user_profiles", "follows", "tags", "trips", "trip_tags", "trip_locations",
          "trip_photos", "likes", "user_stats", "user_achievements")  # fmt: skip


def harness(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HARNESS_HOME": str(home)}
    done = subprocess.run([sys.executable, "-m", "harness", *args], cwd=REPO, env=env,
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"harness {' '.join(args)} failed:\n{done.stderr}")
    return done


def psql(dsn: str, script: str) -> float:
    began = time.perf_counter()
    subprocess.run(["psql", dsn, "-v", "ON_ERROR_STOP=1", "-q", "-c", script] if "\n" not in script
                   else ["psql", dsn, "-v", "ON_ERROR_STOP=1", "-q"], input=script if "\n" in script else None,
                   text=True, check=True, capture_output=True)  # fmt: skip
    return time.perf_counter() - began


def empty_schema(server_dsn: str, name: str) -> str:
    with psycopg.connect(server_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    dsn = server_dsn.rsplit("/", 1)[0] + f"/{name}"

    async def create() -> None:
        engine = create_engine(
            Settings(secret_key="x" * 40, database_url=normalise_database_url(dsn))
        )
        await prepare_database(engine)
        await engine.dispose()

    asyncio.run(create())
    return dsn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="medium")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-seed-"))
    harness(home, "up", "--provider", "docker", "--bcrypt-rounds", "4")
    try:
        info = json.loads(harness(home, "status", "--json").stdout)
        dsn = info["db_dsn"]
        harness(home, "seed", "--profile", args.profile, "--seed", str(args.seed))
        manifest = json.loads((Path(info["folder"]) / "seed-manifest.json").read_text())
        csv_dir = Path(tempfile.mkdtemp(prefix="bench-csv-"))
        for table in (*TABLES, "achievements"):
            psql(dsn, f"\\copy {table} TO '{csv_dir / table}.csv' CSV")
        target = empty_schema(dsn, "copy_target")
        psql(target, "TRUNCATE achievements CASCADE")
        psql(target, f"\\copy achievements FROM '{csv_dir / 'achievements'}.csv' CSV")
        script = "\n".join(f"\\copy {t} FROM '{csv_dir / t}.csv' CSV" for t in TABLES) + "\n"
        copy_seconds = psql(target, script)
        with psycopg.connect(target) as conn:
            copied = sum(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES)  # type: ignore[index]
    finally:
        harness(home, "down")
    rows = manifest["total_rows"]
    assert copied == rows, (copied, rows)
    seeder_rate = rows / manifest["seconds"]
    copy_rate = rows / copy_seconds
    print(f"\nprofile {args.profile}, seed {args.seed}: {rows:,} rows in {len(TABLES)} tables")
    print(f"{'loader':<44} {'seconds':>8} {'rows/s':>10}")
    print(
        f"{'harness seed (generate + binary COPY + idx)':<44} {manifest['seconds']:>8.1f} {seeder_rate:>10,.0f}"
    )
    print(f"{PSQL_LABEL:<44} {copy_seconds:>8.1f} {copy_rate:>10,.0f}")
    print(f"ratio seeder / psql \\copy: {seeder_rate / copy_rate:.2f}x (target >= 0.8x)")


if __name__ == "__main__":
    main()
