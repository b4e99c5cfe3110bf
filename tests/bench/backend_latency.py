"""Benchmark: median latency of register, login, profile and public feed (1,000 published trips)
on PostgreSQL with BCRYPT_ROUNDS=12, one server process versus two, side by side in one run.

    python -m tests.bench.backend_latency [--trips 1000] [--rounds 2] [--concurrency 8]

Each configuration runs `rounds` times, interleaved (1, 2, 1, 2 ...) so drift on a noisy machine
hits both alike; it prints sequential medians (latency in isolation) and, under `concurrency`
parallel clients, medians and requests/s (where a second worker process can matter).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from tests.support.postgres import free_port, local_postgres

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "Str0ng!Passw0rd"
DESCRIPTION = "A long day along the coast, with wind from the north and a ferry at the end."
SECRET = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz"

Op = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


def start_backend(dsn: str, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "SECRET_KEY": SECRET,
        "APP_ENV": "testing",
        "BCRYPT_ROUNDS": "12",
        "WEB_CONCURRENCY": str(workers),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend", "--port", str(port), "--log-level", "warning"],
        cwd=REPO,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:  # readiness: first 200 from /health
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("backend did not start")
        time.sleep(0.1)


async def seed(url: str, trips: int) -> str:
    async with httpx.AsyncClient(base_url=url, timeout=30) as c:
        body = {"username": "bench_owner", "email": "owner@bench.example.com", "password": PASSWORD}
        assert (await c.post("/auth/register", json=body)).status_code == 201
        login = await c.post("/auth/login", json={"login": "bench_owner", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
        sem = asyncio.Semaphore(8)

        async def one(i: int) -> None:
            async with sem:
                trip = {
                    "title": f"Trip {i}",
                    "description": DESCRIPTION,
                    "start_date": "2024-05-01",
                    "distance_km": 10 + i % 90,
                    "tags": [f"tag{i % 20}"],
                    "locations": [{"name": f"Place {i}", "latitude": 40.0, "longitude": -3.0}],
                }
                created = await c.post("/trips", json=trip, headers=headers)
                assert created.status_code == 201, created.text
                tid = created.json()["data"]["trip_id"]
                assert (await c.post(f"/trips/{tid}/publish", headers=headers)).status_code == 200

        await asyncio.gather(*(one(i) for i in range(trips)))
    return "bench_owner"


def operations(run_tag: str) -> dict[str, tuple[Op, int]]:
    async def register(c: httpx.AsyncClient, i: int) -> httpx.Response:
        name = f"r{run_tag}_{i}"
        return await c.post(
            "/auth/register",
            json={"username": name, "email": f"{name}@bench.example.com", "password": PASSWORD},
        )

    async def login(c: httpx.AsyncClient, i: int) -> httpx.Response:
        return await c.post("/auth/login", json={"login": "bench_owner", "password": PASSWORD})

    async def profile(c: httpx.AsyncClient, i: int) -> httpx.Response:
        return await c.get("/users/bench_owner/profile")

    async def feed(c: httpx.AsyncClient, i: int) -> httpx.Response:
        return await c.get("/trips/public", params={"page": 1 + i % 10})

    return {
        "register": (register, 201),
        "login": (login, 200),
        "profile": (profile, 200),
        "public feed": (feed, 200),
    }


async def measure(
    url: str, op: Op, expect: int, n: int, concurrency: int
) -> tuple[list[float], float]:
    latencies: list[float] = []
    counter = iter(range(n))
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as c:
        for i in range(3):  # warm-up, not measured
            await op(c, -1 - i)

        async def lane() -> None:
            for i in counter:
                start = time.perf_counter()
                response = await op(c, i)
                latencies.append((time.perf_counter() - start) * 1000)
                assert response.status_code == expect, response.text

        began = time.perf_counter()
        await asyncio.gather(*(lane() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return latencies, n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trips", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    counts = {"register": 20, "login": 20, "profile": 300, "public feed": 300}
    results: dict[tuple[int, str, str], list[float]] = {}
    with local_postgres() as pg:
        dsn = pg.create_database("bench")
        proc, url = start_backend(dsn, 1)
        try:
            began = time.perf_counter()
            asyncio.run(seed(url, args.trips))
            print(
                f"seeded {args.trips} published trips through the API in "
                f"{time.perf_counter() - began:.1f}s"
            )
        finally:
            proc.terminate()
            proc.wait()
        for rnd in range(args.rounds):
            for workers in (1, 2):
                proc, url = start_backend(dsn, workers)
                try:
                    for mode, conc in (("seq", 1), (f"c{args.concurrency}", args.concurrency)):
                        # A tag per (round, workers, mode) keeps registered usernames unique.
                        for name, (op, expect) in operations(f"{rnd}w{workers}{mode}").items():
                            n = counts[name] * (1 if conc == 1 else 2)
                            lat, rps = asyncio.run(measure(url, op, expect, n, conc))
                            results.setdefault((workers, name, mode), []).extend(lat)
                            results.setdefault((workers, name, mode + "_rps"), []).append(rps)
                finally:
                    proc.terminate()
                    proc.wait()
    print(
        f"\nPostgreSQL (local, temp cluster), BCRYPT_ROUNDS=12, {args.trips} published trips, "
        f"{args.rounds} interleaved rounds; ms"
    )
    conc = f"c{args.concurrency}"
    print(
        f"{'operation':<12} {'workers':>7} {'seq median':>11} {'seq p95':>8} "
        f"{conc + ' median':>11} {conc + ' req/s':>10}"
    )
    for name in counts:
        for workers in (1, 2):
            seq = results[(workers, name, "seq")]
            par = results[(workers, name, conc)]
            rps = statistics.median(results[(workers, name, conc + "_rps")])
            p95 = statistics.quantiles(seq, n=20)[18]
            print(
                f"{name:<12} {workers:>7} {statistics.median(seq):>11.1f} {p95:>8.1f} "
                f"{statistics.median(par):>11.1f} {rps:>10.1f}"
            )


if __name__ == "__main__":
    main()
