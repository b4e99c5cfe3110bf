"""Benchmark: seeding a profile next to saving it as a template and restoring it, per profile.

    python -m tests.bench.seed_cache [--profiles small,medium] [--seed 1] [--restores 3]

Starts a throwaway PostgreSQL from the machine's own binaries (tests/support/postgres.py), has
the reference backend create its schema and reference rows in one database, then for each
profile: clones that database, seeds it with the real seeder (timed around `seed()`: bcrypt,
generation, binary COPY, index rebuild, ANALYZE), saves it as a template
(harness/seed/template.py), restores it --restores times (the median is shown), checks that
the restored database holds the manifest's rows, and drops both. The server goes at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from backend.db import create_engine, prepare_database
from backend.settings import Settings, normalise_database_url
from harness.seed import (
    SeedRequest,
    cache_key,
    drop_template,
    resolve_profile,
    restore_template,
    save_template,
    schema_hash,
    seed,
    seed_inputs,
    template_name,
)
from tests.support.postgres import LocalPostgres, local_postgres

REFERENCE_DB = "cv_reference"


@dataclass(frozen=True)
class Figures:
    profile: str
    rows: int
    seed_s: float
    save_s: float
    restores_s: list[float]

    @property
    def restore_s(self) -> float:
        return statistics.median(self.restores_s)


def create_reference_schema(dsn: str) -> None:
    """The schema and the reference rows as the backend creates them at start-up."""

    async def create() -> None:
        engine = create_engine(
            Settings(secret_key="x" * 40, database_url=normalise_database_url(dsn))
        )
        await prepare_database(engine)
        await engine.dispose()

    asyncio.run(create())


def restored_rows(dsn: str, tables: list[str]) -> int:
    with psycopg.connect(dsn) as conn:
        counts = [
            conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))).fetchone()
            for t in tables
        ]
    return sum(c[0] for c in counts if c is not None)


def measure(server: LocalPostgres, profile_name: str, seed_no: int, restores: int) -> Figures:
    database = f"cv_bench_{profile_name}"
    dsn = server.create_database(database, template=REFERENCE_DB)
    name = None
    try:
        with tempfile.TemporaryDirectory(prefix="bench-seed-cache-") as folder:
            request = SeedRequest(dsn=dsn, folder=Path(folder), seed=seed_no, bcrypt_rounds=4,
                                  profile=resolve_profile(profile_name, {}))  # fmt: skip
            began = time.perf_counter()
            manifest = seed(request, lambda _: None)
            seed_s = time.perf_counter() - began
        name = template_name(cache_key(schema_hash(dsn), seed_inputs(request)))
        save_s = save_template(dsn, name)
        restores_s = [restore_template(dsn, name) for _ in range(restores)]
        found = restored_rows(dsn, list(manifest["rows"]))
        if found != manifest["total_rows"]:
            raise SystemExit(f"restored {found:,} rows, the seed wrote {manifest['total_rows']:,}")
        return Figures(profile_name, found, seed_s, save_s, restores_s)
    finally:
        server.drop_database(database)
        if name is not None:
            drop_template(dsn, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--profiles", default="small,medium", help="comma-separated profiles")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--restores", type=int, default=3, help="restores timed per profile")
    args = parser.parse_args()
    profiles = [p.strip() for p in args.profiles.split(",") if p.strip()]
    for name in profiles:
        resolve_profile(name, {})  # an unknown profile fails before the server starts
    results: list[Figures] = []
    with local_postgres() as server:
        create_reference_schema(server.create_database(REFERENCE_DB))
        for name in profiles:
            print(f"profile {name}: seeding, saving, restoring x{args.restores} ...", flush=True)
            results.append(measure(server, name, args.seed, args.restores))
    print(f"\nseed {args.seed}; restore: median of {args.restores}; local PostgreSQL (fsync off)")
    print(f"{'profile':<8} {'rows':>11} {'seed s':>8} {'save s':>8} {'restore s':>10} "
          f"{'seed/restore':>13}")  # fmt: skip
    for r in results:
        print(f"{r.profile:<8} {r.rows:>11,} {r.seed_s:>8.2f} {r.save_s:>8.2f} "
              f"{r.restore_s:>10.2f} {r.seed_s / r.restore_s:>12.1f}x")  # fmt: skip


if __name__ == "__main__":
    main()
