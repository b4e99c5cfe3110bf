"""open_model.py: HDR histograms merged across workers, exact judging, arrivals on a schedule.

open_model.py is a locustfile: importing Locust patches the standard library with gevent, so
each test drives it in a subprocess of its own and reads what it prints.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.load.runner import LOCAL_SCENARIOS, _exact_figures
from harness.verdict import evaluate, load_slo

DRIVER = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("open_model", {path!r})
om = sys.modules["open_model"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(om)
"""


def drive(body: str, shape: dict[str, Any] | None = None) -> Any:
    """Run `body` after open_model is imported as `om`; what it prints, as JSON."""
    script = DRIVER.format(path=str(LOCAL_SCENARIOS / "open_model.py")) + textwrap.dedent(body)
    env = {"CV_SHAPE": json.dumps(shape or {}), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_histograms_merged_from_two_workers_are_within_one_percent_at_any_magnitude(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(17)
    # 0.05 ms to minutes: log-normal around 20 ms, and a slow tail around 20 s
    fast = rng.lognormal(np.log(20), 1.5, 40_000)
    slow = rng.lognormal(np.log(20_000), 1.0, 2_000)
    values = np.concatenate([fast, slow]).clip(0.05, 3_000_000)
    halves = tmp_path / "halves.json"
    halves.write_text(json.dumps([values[::2].tolist(), values[1::2].tolist()]))
    merged = drive(
        f"""
        reports = []
        for half in json.loads(open({str(halves)!r}).read()):
            worker = om.Collector()
            for ms in half:
                worker.record(0, "GET /x", ms)
            reports.append(json.loads(json.dumps(worker.take_report(), default=bytes.decode)))
        master = om.Collector()
        for report in reports:
            master.add_report(report)
        print(json.dumps(om.summary(master.histograms[(0, "GET /x")])))
        """
    )
    assert merged["count"] == len(values)
    for name, q in (("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99), ("p999", 99.9)):
        exact = float(np.percentile(values, q, method="inverted_cdf"))
        assert merged[name] == pytest.approx(exact, rel=0.01), name
        assert merged[name] <= exact  # the lower bound of its bucket
    assert merged["max"] == pytest.approx(values.max(), rel=0.01)
    assert merged["min"] == pytest.approx(values.min(), rel=0.01)


def test_a_203_ms_p95_fails_a_200_ms_target_that_locusts_buckets_would_pass() -> None:
    figures = drive(
        """
        from locust.stats import StatsEntry, RequestStats
        out = {}
        for ms in (203.0, 200.0, 199.9):
            c = om.Collector()
            entry = StatsEntry(RequestStats(), "/x", "GET")
            for _ in range(1000):
                c.record(0, "GET /x", ms)
                entry.log(ms, 0)
            out[str(ms)] = {
                "hdr": om.summary(c.histograms[(0, "GET /x")]),
                "locust_p95": entry.get_response_time_percentile(0.95),
            }
        print(json.dumps(out))
        """
    )
    # Locust keeps 10 ms buckets between 100 ms and 1 s: 203 ms is 200 to it
    assert figures["203.0"]["locust_p95"] == 200
    slo = load_slo(None)
    group = slo.group_of("GET /achievements")
    assert group is not None and group.p95_ms == 200
    verdicts = {}
    for recorded, seen in figures.items():
        entry = {
            "method": "GET",
            "name": "/achievements",  # in a 200 ms group of the default SLO file
            "requests": 1000,
            "failures": 0,
            "failure_rate": 0.0,
            "p95_ms": seen["locust_p95"],
            "avg_ms": 1.0,
            "rps": 1.0,
        }
        rows, _ = evaluate(slo, [dict(entry)])
        _exact_figures(entry, seen["hdr"])
        exact_rows, _ = evaluate(slo, [entry])
        verdicts[recorded] = (rows[0]["passed"], exact_rows[0]["passed"], exact_rows[0]["reason"])
    assert verdicts["203.0"] == (True, False, "p95 202.9 ms > 200 ms")
    assert verdicts["200.0"][:2] == (True, True)
    assert verdicts["199.9"][:2] == (True, True)


SCHEDULE = """
import gevent, time
timeline = om.Timeline(stages=[{{"for_s": 2.0, "rate": 200}}])
collector = om.Collector()
arrivals = om.Arrivals(timeline, collector, share=1.0)
lags = []

def user():
    while True:
        arrivals.take()
        lags.append(arrivals.lag_of_current())
        gevent.sleep({work_s})

timeline.begin()
users = [gevent.spawn(user) for _ in range({users})]
gevent.sleep(2.3)
gevent.killall(users)
arrivals.stop()
counts = vars(collector.counts[0])
counts["lags_over_50ms"] = sum(lag > 50 for lag in lags)
print(json.dumps(counts))
"""


def test_a_pool_with_free_users_sends_every_iteration_on_time() -> None:
    counts = drive(SCHEDULE.format(users=30, work_s=0.05))
    assert 390 <= counts["scheduled"] <= 401  # 200 per second for 2 s
    assert counts["dropped"] == 0 and counts["started"] == counts["scheduled"]
    assert counts["late"] == 0 and counts["lags_over_50ms"] == 0


def test_iterations_due_while_the_pool_is_busy_are_dropped_and_counted() -> None:
    # 4 users of 50 ms each complete 80 iterations a second of the 200 due
    counts = drive(SCHEDULE.format(users=4, work_s=0.05))
    assert 390 <= counts["scheduled"] <= 401
    assert counts["started"] + counts["dropped"] == counts["scheduled"]
    assert 0.45 <= counts["dropped"] / counts["scheduled"] <= 0.7, counts


def test_a_ramping_stage_schedules_its_rate_linearly() -> None:
    rates = drive(
        """
        t = om.Timeline(stages=[{"for_s": 10, "rate": 10, "to_rate": 110}, {"for_s": 5, "rate": 7}])
        t.start = 100.0
        print(json.dumps([t.rate_at(100 + s) for s in (0, 5, 9.99, 10, 14.9, 15)]
                         + [t.stage_at(100 + s) for s in (-1, 0, 10, 15)]))
        """
    )
    assert rates[:6] == pytest.approx([10, 60, 109.9, 7, 7, 0])
    assert rates[6:] == [-1, 0, 1, 2]
