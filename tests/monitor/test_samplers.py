"""Samplers without Docker: stats documents, JSONL, PostgreSQL activity, a process tree."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from harness.monitor import JsonlWriter, MonitorRequest, Monitors, PostgresSampler, sample_of
from harness.monitor.processes import ProcessSampler
from tests.support.postgres import LocalPostgres


def stats_doc(usage: int, pre_usage: int, system: int, pre_system: int) -> dict[str, Any]:
    return {
        "cpu_stats": {
            "cpu_usage": {"total_usage": usage},
            "system_cpu_usage": system,
            "online_cpus": 2,
        },
        "precpu_stats": {"cpu_usage": {"total_usage": pre_usage}, "system_cpu_usage": pre_system},
        "memory_stats": {"usage": 300, "limit": 1000, "stats": {"total_inactive_file": 100}},
        "networks": {
            "eth0": {"rx_bytes": 10, "tx_bytes": 20},
            "eth1": {"rx_bytes": 1, "tx_bytes": 2},
        },
        "blkio_stats": {
            "io_service_bytes_recursive": [
                {"op": "Read", "value": 7},
                {"op": "Write", "value": 9},
                {"op": "Total", "value": 16},
            ]
        },
        "pids_stats": {"current": 5},
    }


def test_a_stats_document_becomes_a_row_like_docker_stats_shows() -> None:
    # 0.5 s of CPU over 1 s of all-core time on 2 cores = 100 % (one core busy)
    row = sample_of(stats_doc(1_500_000_000, 1_000_000_000, 11_000_000_000, 10_000_000_000))
    assert row == {
        "cpu_percent": 100.0,
        "mem_bytes": 200,
        "mem_limit_bytes": 1000,
        "net_rx_bytes": 11,
        "net_tx_bytes": 22,
        "blk_read_bytes": 7,
        "blk_write_bytes": 9,
        "pids": 5,
    }


def test_a_stopped_containers_empty_document_ends_the_stream() -> None:
    assert sample_of({"cpu_stats": {"cpu_usage": {}}, "precpu_stats": {}}) is None


def test_jsonl_lines_from_many_threads_stay_whole(tmp_path: Path) -> None:
    writer = JsonlWriter(tmp_path / "x.jsonl")

    def write(n: int) -> None:
        for i in range(200):
            writer.write({"thread": n, "i": i, "pad": "x" * 100})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    rows = [json.loads(line) for line in (tmp_path / "x.jsonl").read_text().splitlines()]
    assert len(rows) == 1600 == writer.lines
    writer.write({"after": "close"})  # a late sample after stop is dropped, not an error


@pytest.mark.postgres
def test_postgres_activity_is_sampled_every_second(
    postgres_server: LocalPostgres, tmp_path: Path
) -> None:
    dsn = postgres_server.create_database("monitor_test")
    held = [psycopg.connect(dsn, autocommit=True) for _ in range(3)]
    try:
        sampler = PostgresSampler(dsn, tmp_path, interval_s=0.5).start()
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:  # steady commits while sampling
            held[0].execute("SELECT txid_current()")
        samples = sampler.stop()
    finally:
        for conn in held:
            conn.close()
    rows = [json.loads(line) for line in (tmp_path / "postgres.jsonl").read_text().splitlines()]
    assert samples == len(rows) and 5 <= len(rows) <= 8
    assert all(r["max_connections"] == 200 for r in rows)
    assert all(sum(r["connections"].values()) >= 3 for r in rows)  # ours, not the sampler's
    assert max(r["xact_commit_per_s"] or 0 for r in rows[1:]) > 50
    # the test server has no pg_stat_statements preloaded: said, not hidden
    assert any("pg_stat_statements" in n or "top queries" in n for n in sampler.notes)


@pytest.mark.postgres
def test_postgres_waits_open_transactions_and_applications_are_sampled(
    postgres_server: LocalPostgres, tmp_path: Path
) -> None:
    dsn = postgres_server.create_database("monitor_waits")
    holder = psycopg.connect(dsn, application_name="holder")  # a transaction left open
    waiter = psycopg.connect(dsn, autocommit=True, application_name="waiter")
    sleeper = psycopg.connect(dsn, autocommit=True, application_name="sleeper")
    try:
        holder.execute("SELECT pg_advisory_xact_lock(7)")
        blocked = threading.Thread(target=waiter.execute, args=("SELECT pg_advisory_lock(7)",))
        asleep = threading.Thread(target=sleeper.execute, args=("SELECT pg_sleep(2.5)",))
        blocked.start()
        asleep.start()
        sampler = PostgresSampler(dsn, tmp_path, interval_s=0.5).start()
        time.sleep(2)  # the sampling period itself is what is measured here
        sampler.stop()
        holder.rollback()  # lets the waiter through
        blocked.join()
        asleep.join()
    finally:
        for conn in (holder, waiter, sleeper):
            conn.close()
    rows = [json.loads(line) for line in (tmp_path / "postgres.jsonl").read_text().splitlines()]
    assert len(rows) >= 3
    last = rows[-1]
    assert last["wait_events"]["Lock"] == 1 and last["wait_events"]["Timeout"] == 1
    assert last["wait_events"]["IO"] == 0 and "CPU" in last["wait_events"]  # same keys always
    assert last["connections"]["idle in transaction"] == 1
    assert last["longest_transaction_s"] > 1.5  # the holder's, open since before sampling
    assert last["by_application"] == {"holder": 1, "waiter": 1, "sleeper": 1}
    assert [r["longest_transaction_s"] for r in rows] == sorted(
        r["longest_transaction_s"] for r in rows
    )


def test_an_unreachable_database_is_a_note_not_a_crash(tmp_path: Path) -> None:
    sampler = PostgresSampler("postgresql://nobody@127.0.0.1:1/none", tmp_path).start()
    assert sampler.stop() == 0
    assert any("cannot connect" in n for n in sampler.notes)


def test_the_local_providers_process_tree_is_sampled(tmp_path: Path) -> None:
    busy = "import time\nend = time.time() + 30\nwhile time.time() < end: pass"
    proc = subprocess.Popen([sys.executable, "-c", busy])
    try:
        monitors = Monitors(MonitorRequest(run_dir=tmp_path, backend_pid=proc.pid)).start()
        assert isinstance(monitors.process, ProcessSampler)
        monitors.process.interval_s = 0.5
        time.sleep(2.6)  # the sampling period itself is what is measured here
        summary = monitors.stop()
    finally:
        proc.kill()
        proc.wait()
    rows = [
        json.loads(x) for x in (tmp_path / "monitor" / "containers.jsonl").read_text().splitlines()
    ]
    assert summary["containers"]["backend"] == len(rows) >= 3
    assert {r["role"] for r in rows} == {"process"}
    assert max(r["cpu_percent"] for r in rows) > 50  # a busy loop: most of one core
    assert all(r["mem_bytes"] > 1_000_000 for r in rows)
    assert json.loads((tmp_path / "monitor" / "summary.json").read_text())["containers"]
