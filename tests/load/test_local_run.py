"""full-load on the local provider: Locust master and worker processes, no Docker needed."""

from __future__ import annotations

import json
from pathlib import Path

import psutil

from tests.stack.cli import harness


def test_full_load_with_local_processes(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    done = harness(
        tmp_path / "home",
        "full-load",
        "--provider",
        "local",
        "--profile",
        "tiny",
        "--users",
        "6",
        "--duration",
        "8",
        "--warmup",
        "2",
        "--workers",
        "2",
        "--bcrypt-rounds",
        "4",
        "--bench-rounds",
        "3",
        "--reports",
        str(reports),
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]
    run_dir = (reports / "latest").resolve()
    results = json.loads((run_dir / "results.json").read_text())
    assert results["run"]["provider"] == "local" and results["run"]["workers"] == 2
    assert results["aggregate"]["requests"] > 0
    assert done.returncode == (0 if results["verdict"] == "PASS" else 1)
    assert {"worker-1.log", "worker-2.log", "master.log"} <= {p.name for p in run_dir.iterdir()}
    assert "== tear down" in done.stderr
    assert len(results["benchmarks"]["benchmarks"]) == 12  # the suite ran first, on SQLite
    rows = (run_dir / "monitor" / "containers.jsonl").read_text().splitlines()
    assert rows and {json.loads(r)["role"] for r in rows} == {"process"}
    assert (run_dir / "index.html").exists() and (run_dir / "junit.xml").exists()
    leftovers = [
        p
        for p in psutil.process_iter(["cmdline"])
        if any("locust" in part for part in (p.info["cmdline"] or []))
        and str(run_dir) in " ".join(p.info["cmdline"] or [])
    ]
    assert leftovers == []
