"""A short distributed run (master + 2 workers) on a real Docker stack, and `make full-load`."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from harness.record import read_record
from tests.stack.cli import REPO, harness, labelled
from tests.support.docker import require_docker

pytestmark = [pytest.mark.docker, pytest.mark.slow]
GROUPS = {"simple queries", "trip create / update", "publish", "lists"}
EXIT = {"PASS": 0, "FAIL": 1, "INVALID": 3}


@pytest.fixture(scope="module")
def seeded_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    require_docker()  # module-scoped: runs before the per-test policy fixture would
    home = tmp_path_factory.mktemp("home")
    up = harness(home, "up", "--provider", "docker", "--bcrypt-rounds", "4")
    assert up.returncode == 0, up.stderr
    try:
        assert harness(home, "seed", "--profile", "tiny").returncode == 0
        yield home
    finally:
        harness(home, "down")


def check_results(run_dir: Path, groups: set[str]) -> dict[str, Any]:
    results: dict[str, Any] = json.loads((run_dir / "results.json").read_text())
    record = read_record(run_dir)  # the file is the typed run record the report reads
    assert record.schema_version == 2 and record.verdict == results["verdict"]
    assert {"locust_stats.csv", "locust_stats_history.csv", "locust.html", "master.log"} <= {
        p.name for p in run_dir.iterdir()
    }
    by_group: dict[str, int] = {}
    for row in results["slo"]:
        by_group[row["group"]] = by_group.get(row["group"], 0) + 1
    assert set(by_group) >= groups, by_group  # these endpoint groups got requests
    assert results["endpoints"] and results["aggregate"]["requests"] > 0
    return results


def test_short_distributed_run(seeded_stack: Path, tmp_path: Path) -> None:
    done = harness(
        seeded_stack,
        "load",
        "--shape",
        "baseline",
        "--users",
        "20",
        "--duration",
        "20",
        "--warmup",
        "3",
        "--workers",
        "2",
        "--reports",
        str(tmp_path),
        timeout=300,
    )
    assert done.returncode in (0, 1, 3), done.stderr
    assert "verdict:" in done.stderr and "rps" in done.stderr
    results = check_results((tmp_path / "latest").resolve(), GROUPS)
    assert results["run"]["workers"] == 2 and results["run"]["seed"]["profile"] == "tiny"
    assert done.returncode == EXIT[results["verdict"]]
    assert results["window"]["users"] == 20 and results["window"]["starts_done"] is True
    assert results["coverage"] and min(results["coverage"].values()) >= 0.9
    profile = results["profile"]  # py-spy from a sidecar in the backend's PID namespace
    assert profile["status"] == "recorded" and profile["samples"] > 0, profile
    names = [n for n in labelled("container") if "locust" in n]
    assert names == []  # master and workers are removed after the run
    run_dir = (tmp_path / "latest").resolve()
    assert {"index.html", "summary.md", "junit.xml"} <= {p.name for p in run_dir.iterdir()}
    state = json.loads(next((seeded_stack / "stacks").glob("*/stack.json")).read_text())
    password = urlsplit(state["db_dsn"]).password
    assert password and len(password) >= 24  # random per stack
    for path in run_dir.rglob("*"):  # nothing the harness writes for the run leaks it
        if path.is_file():
            assert password.encode() not in path.read_bytes(), path


def test_a_worker_with_a_tiny_cpu_quota_makes_the_run_invalid(
    seeded_stack: Path, tmp_path: Path
) -> None:
    done = harness(
        seeded_stack,
        "load",
        # 40 users ask about 0.05 cores of a Locust worker; it gets 0.02
        *("--shape", "baseline", "--users", "40", "--duration", "20", "--warmup", "3"),
        *("--workers", "1", "--worker-cpus", "0.02", "--skip-profile"),
        *("--reports", str(tmp_path)),
        timeout=400,
    )
    results = json.loads(((tmp_path / "latest") / "results.json").read_text())
    assert done.returncode == 3 and results["verdict"] == "INVALID", done.stderr[-3000:]
    saturated = next(r for r in results["invalid"] if r["code"] == "generator_saturated")
    assert any("of its 0.02" in line for line in saturated["evidence"]), saturated
    assert "--workers" in saturated["hint"]
    assert "INVALID: the load generator ran out of CPU" in done.stderr


def test_benchmark_suite_on_the_docker_stack(seeded_stack: Path, tmp_path: Path) -> None:
    """Every benchmark measured against PostgreSQL + the backend image, including the queries."""
    done = harness(
        seeded_stack, "bench", "--rounds", "3", "--warmup", "1", "--reports", str(tmp_path)
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]
    results = json.loads(((tmp_path / "latest") / "results.json").read_text())
    rows = {b["name"]: b for b in results["benchmarks"]["benchmarks"]}
    assert len(rows) == 12 and all(b["outcome"] in ("passed", "failed") for b in rows.values())
    assert all(b["rounds"] == 3 for b in rows.values())  # the DB ones ran too (DSN known)
    assert results["benchmarks"]["bcrypt_rounds"] == 4  # the stack's backend rounds


def test_load_without_a_stack_and_bad_inputs(tmp_path: Path) -> None:
    assert "no stack is up" in harness(tmp_path, "load").stderr
    for args, needle in [
        (["--shape", "chaos"], "is not one of"),
        (["--users", "0"], "must be 1 or more"),
        (["--slo", str(tmp_path / "missing.toml")], "no SLO file"),
    ]:
        done = harness(tmp_path, "full-load", *args)
        assert done.returncode == 2 and needle in done.stderr, done.stderr


def test_make_full_load_end_to_end(tmp_path: Path) -> None:
    home, reports = tmp_path / "home", tmp_path / "reports"
    env = {**os.environ, "HARNESS_HOME": str(home)}
    args = (
        f"--profile tiny --users 8 --duration 12 --warmup 3 --workers 2 --bcrypt-rounds 4 "
        f"--reports {reports}"
    )
    done = subprocess.run(
        ["make", "-s", "full-load", f"FULL_LOAD_ARGS={args}"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode in (0, 2), done.stderr[-3000:]  # make turns 1 and 3 into 2
    phases = ("== stack: starting a throwaway stack", "== seed", "== bench", "== load", "== tear")
    for phase in phases:
        assert phase in done.stderr
    results = check_results((reports / "latest").resolve(), {"simple queries"})
    bench = results["benchmarks"]
    assert len(bench["benchmarks"]) == 12 and bench["rounds"] == 10
    assert all(b["outcome"] in ("passed", "failed") for b in bench["benchmarks"]), bench
    run_dir = (reports / "latest").resolve()
    assert (run_dir / "benchmark.json").exists()
    samples = [
        json.loads(x) for x in (run_dir / "monitor" / "containers.jsonl").read_text().splitlines()
    ]
    roles = {r["role"] for r in samples}
    assert {"backend", "postgres", "locust-master", "locust-worker"} <= roles, roles
    pg = (run_dir / "monitor" / "postgres.jsonl").read_text().splitlines()
    assert len(pg) >= 10 and json.loads(pg[-1])["max_connections"] > 0
    top = json.loads((run_dir / "monitor" / "pg_top_queries.json").read_text())
    assert top and all(q["calls"] > 0 for q in top)  # pg_stat_statements is on in the stack
    for name in ("index.html", "summary.md", "junit.xml"):
        assert (run_dir / name).stat().st_size > 0
    assert results["verdict"] in (run_dir / "summary.md").read_text()

    if results["verdict"] == "PASS":
        assert done.returncode == 0
    else:  # make exits 2 for any failed recipe; its message carries the harness's own exit
        code = EXIT[results["verdict"]]
        assert f"full-load] Error {code}" in done.stderr, done.stderr[-2000:]
    stacks = [p.name for p in (home / "stacks").iterdir()]
    assert stacks  # the throwaway stack's folder (logs) stays; its Docker objects must not
    for stack_id in stacks:
        assert labelled("container", stack_id) == [] and labelled("network", stack_id) == []
