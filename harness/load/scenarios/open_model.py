"""Exact latencies and the open model: HDR histograms per endpoint, arrivals on a schedule.

Latency. Every request's time goes into an HDR histogram (microseconds, 3 significant
figures) of its endpoint ("GET /trips/public") and of the stage it completed in. Workers send
what they recorded since their last report with Locust's own report (`report_to_master`); the
master adds it to its histograms and writes <csv prefix>_latency.json: per stage and over the
measured window, per endpoint and for all requests, the count and p50/p90/p95/p99/p99.9/max,
each the lower bound of its bucket (within 0.1 % below the recorded value, at any magnitude).
Locust's own statistics are left as they are.

The open model (CV_SHAPE "model": "open"). Iterations arrive on a schedule, at the stage's
rate (per second, over every load process; a stage with "to_rate" ramps linearly), whether or
not earlier ones have finished. A pool of users (the shape's users) takes them: a user that is
free when an iteration is due runs one task for it. Its first request is timed from the
iteration's scheduled time, so a stall counts against every request it delayed (coordinated
omission). An iteration that is due while every user of the pool is busy is dropped and
counted; one that a free user starts more than LATE_MS after its time (the load process was
busy) is counted late. Both are reported per stage.

Stages follow the staged shape: before its window begins (Locust's reset_stats event, fired by
the shape on the master and on every worker) the rate is the warm-up's and nothing is kept.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent
from gevent.queue import Queue
from hdrh.histogram import HdrHistogram
from locust import events
from locust.runners import MasterRunner, WorkerRunner

log = logging.getLogger("harness.open_model")

LATENCY_SUFFIX = "_latency.json"  # after Locust's --csv prefix: locust_latency.json
REPORT_KEY = "cv_latency"
LOWEST_US, HIGHEST_US, FIGURES = 1, 3_600_000_000, 3  # 1 us to 1 h, 0.1 % buckets
LATE_MS = 50.0  # an iteration started this long after its time is late
WRITE_EVERY_S = 10.0  # while the load runs (a partial file if the master is killed); and at its end
QUANTILES = (("p50", 50.0), ("p90", 90.0), ("p95", 95.0), ("p99", 99.0), ("p999", 99.9))

SPEC: dict[str, Any] = json.loads(os.environ.get("CV_SHAPE", "{}") or "{}")
MODEL = str(SPEC.get("model") or "closed")
PROCESSES = max(int(os.environ.get("CV_LOAD_PROCESSES", "1") or 1), 1)


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, FIGURES)


def summary(h: HdrHistogram, total_ms: float | None = None) -> dict[str, Any]:
    """Count, mean and percentiles in ms; each percentile the lower bound of its bucket.

    The mean is the recorded times' own (total_ms / count): hdrh's walks every value.
    """
    count = int(h.get_total_count())
    if not count:
        return {"count": 0}
    out: dict[str, Any] = {
        "count": count,
        "min": h.get_lowest_equivalent_value(h.get_min_value()) / 1000,
        "mean": None if total_ms is None else round(total_ms / count, 3),
    }
    values = h.get_percentile_to_value_dict([q for _, q in QUANTILES])  # one pass
    for name, q in QUANTILES:
        out[name] = h.get_lowest_equivalent_value(values[q]) / 1000
    out["max"] = h.get_lowest_equivalent_value(h.get_max_value()) / 1000
    return out


@dataclass
class Timeline:
    """The measured stages, timed from the window's start (time.monotonic())."""

    stages: list[dict[str, Any]]
    warmup_rate: float = 0.0
    start: float | None = None

    def begin(self) -> None:
        self.start = time.monotonic()

    def stage_at(self, t: float) -> int:
        """-1 before the window, then the stage's index; len(stages) after the last one."""
        if self.start is None or t < self.start:
            return -1
        elapsed, until = t - self.start, 0.0
        for i, stage in enumerate(self.stages):
            until += float(stage["for_s"])
            if elapsed < until:
                return i
        return len(self.stages)

    def rate_at(self, t: float) -> float:
        """Iterations per second due at `t` over every load process (0 after the last stage)."""
        if self.start is None or t < self.start:
            return self.warmup_rate
        elapsed, began = t - self.start, 0.0
        for stage in self.stages:
            length = float(stage["for_s"])
            if elapsed < began + length:
                rate = float(stage.get("rate") or 0)
                if stage.get("to_rate") is not None:
                    rate += (float(stage["to_rate"]) - rate) * (elapsed - began) / length
                return rate
            began += length
        return 0.0


@dataclass
class Counts:
    scheduled: int = 0
    dropped: int = 0
    started: int = 0
    late: int = 0
    max_lag_ms: float = 0.0

    def add(self, other: dict[str, Any]) -> None:
        self.scheduled += int(other.get("scheduled", 0))
        self.dropped += int(other.get("dropped", 0))
        self.started += int(other.get("started", 0))
        self.late += int(other.get("late", 0))
        self.max_lag_ms = max(self.max_lag_ms, float(other.get("max_lag_ms", 0)))


@dataclass
class Collector:
    """Histograms per (stage, endpoint) and arrival counts per stage, of the measured window."""

    histograms: dict[tuple[int, str], HdrHistogram] = field(default_factory=dict)
    failures: dict[tuple[int, str], int] = field(default_factory=dict)
    totals: dict[tuple[int, str], float] = field(default_factory=dict)  # ms, for the mean
    counts: dict[int, Counts] = field(default_factory=dict)

    def record(self, stage: int, key: str, ms: float, failed: bool = False) -> None:
        h = self.histograms.get((stage, key))
        if h is None:
            h = self.histograms[(stage, key)] = new_histogram()
        h.record_value(min(max(round(ms * 1000), LOWEST_US), HIGHEST_US))
        self.totals[(stage, key)] = self.totals.get((stage, key), 0.0) + ms
        if failed:
            self.failures[(stage, key)] = self.failures.get((stage, key), 0) + 1

    def count(self, stage: int) -> Counts:
        return self.counts.setdefault(stage, Counts())

    def take_report(self) -> dict[str, Any]:
        """What was recorded since the last report, encoded; the collector starts afresh."""
        report = {
            "h": {f"{s}|{k}": h.encode() for (s, k), h in self.histograms.items()},
            "f": {f"{s}|{k}": n for (s, k), n in self.failures.items()},
            "t": {f"{s}|{k}": ms for (s, k), ms in self.totals.items()},
            "a": {str(s): vars(c) for s, c in self.counts.items()},
        }
        self.histograms, self.failures, self.totals, self.counts = {}, {}, {}, {}
        return report

    def add_report(self, report: dict[str, Any]) -> None:
        for name, encoded in (report.get("h") or {}).items():
            stage, key = name.split("|", 1)
            h = self.histograms.get((int(stage), key))
            if h is None:
                h = self.histograms[(int(stage), key)] = new_histogram()
            h.decode_and_add(encoded)
        for name, n in (report.get("f") or {}).items():
            stage, key = name.split("|", 1)
            self.failures[(int(stage), key)] = self.failures.get((int(stage), key), 0) + int(n)
        for name, ms in (report.get("t") or {}).items():
            stage, key = name.split("|", 1)
            self.totals[(int(stage), key)] = self.totals.get((int(stage), key), 0.0) + float(ms)
        for stage, counts in (report.get("a") or {}).items():
            self.count(int(stage)).add(counts)

    def broken(self, stage: int, rules: dict[str, Any]) -> str | None:
        """Why a stage broke the rules (CV_SHAPE "stop_when"), or None: a capacity search's stop.

        rules: {"targets": {"GET /x": p95 ms}, "max_failure_rate": share, "dropped": share,
        "min_count": requests an endpoint needs before its p95 counts}.
        """
        counts = self.counts.get(stage)
        limit = float(rules.get("dropped", 0.01))
        if counts is not None and counts.scheduled and counts.dropped / counts.scheduled > limit:
            return f"{counts.dropped} of {counts.scheduled} iterations dropped"
        targets = rules.get("targets") or {}
        for (s, key), h in sorted(self.histograms.items()):
            n = int(h.get_total_count())
            if s != stage or n < int(rules.get("min_count", 20)):
                continue
            p95 = h.get_lowest_equivalent_value(h.get_value_at_percentile(95.0)) / 1000
            if key in targets and p95 > float(targets[key]):
                return f"{key} p95 {p95:.0f} ms > {float(targets[key]):.0f} ms"
            failed = self.failures.get((s, key), 0)
            if failed / n > float(rules.get("max_failure_rate", 0.01)):
                return f"{key} failed {failed} of {n} requests"
        return None

    def as_json(self, timeline: Timeline) -> dict[str, Any]:
        stages = []
        window: dict[str, HdrHistogram] = {}
        window_ms: dict[str, float] = {}
        totals = Counts()
        for i, spec in enumerate(timeline.stages):
            mine = {k: h for (s, k), h in self.histograms.items() if s == i}
            every = new_histogram()
            every_ms = 0.0
            for key, h in mine.items():
                ms = self.totals.get((i, key), 0.0)
                every.add(h)
                every_ms += ms
                window.setdefault(key, new_histogram()).add(h)
                window_ms[key] = window_ms.get(key, 0.0) + ms
            counts = self.counts.get(i, Counts())
            totals.add(vars(counts))
            asked: dict[str, Any] = {
                k: spec[k] for k in ("for_s", "users", "rate", "to_rate") if k in spec
            }
            stages.append(
                {
                    "index": i,
                    **asked,
                    "arrivals": {**vars(counts), "late_ms": LATE_MS} if MODEL == "open" else None,
                    "endpoints": {
                        k: {
                            **summary(h, self.totals.get((i, k))),
                            "failures": self.failures.get((i, k), 0),
                        }
                        for k, h in sorted(mine.items())
                    },
                    "all": summary(every, every_ms),
                }
            )
        every = new_histogram()
        for h in window.values():
            every.add(h)
        return {
            "model": MODEL,
            "unit": "ms",
            "significant_figures": FIGURES,
            "late_ms": LATE_MS,
            "stages": stages,
            "window": {
                "arrivals": {**vars(totals), "late_ms": LATE_MS} if MODEL == "open" else None,
                "endpoints": {k: summary(h, window_ms[k]) for k, h in sorted(window.items())},
                "all": summary(every, sum(window_ms.values())),
                "histograms": {k: h.encode().decode("ascii") for k, h in sorted(window.items())},
            },
        }


class Arrivals:
    """This process's share of the schedule, handed to the free users of its pool."""

    def __init__(self, timeline: Timeline, collector: Collector, share: float) -> None:
        self.timeline = timeline
        self.collector = collector
        self.share = share
        self.idle = 0  # users waiting for an iteration
        self.tickets: Queue[tuple[float, int]] = Queue()
        self.loop: gevent.Greenlet | None = None
        self.lags: dict[Any, float] = {}  # greenlet -> its iteration's lag, for its first request

    def take(self) -> None:
        """Wait for the next iteration due; its lag goes on the user's next request."""
        if self.loop is None:
            self.loop = gevent.spawn(self._schedule)
        self.idle += 1
        try:
            scheduled, stage = self.tickets.get()
        finally:
            self.idle -= 1
        lag_ms = (time.monotonic() - scheduled) * 1000
        if stage >= 0:
            counts = self.collector.count(stage)
            counts.started += 1
            counts.late += lag_ms > LATE_MS
            counts.max_lag_ms = max(counts.max_lag_ms, round(lag_ms, 3))
        self.lags[gevent.getcurrent()] = lag_ms

    def lag_of_current(self) -> float:
        return self.lags.pop(gevent.getcurrent(), 0.0)

    def stop(self) -> None:
        if self.loop is not None:
            self.loop.kill(block=False)
            self.loop = None

    def _schedule(self) -> None:
        due = time.monotonic()
        while True:
            rate = self.timeline.rate_at(due) * self.share
            if rate <= 0:
                gevent.sleep(0.05)
                due = max(due, time.monotonic())
                continue
            wait = due - time.monotonic()
            if wait > 0:
                gevent.sleep(wait)
            self.emit(due)
            due += 1 / rate

    def emit(self, due: float) -> None:
        """One iteration due at `due`: to a free user, or dropped when the pool is busy."""
        stage = self.timeline.stage_at(due)
        counts = self.collector.count(stage) if stage >= 0 else None
        if counts is not None:
            counts.scheduled += 1
        if self.idle - self.tickets.qsize() > 0:
            self.tickets.put((due, stage))
        elif counts is not None:
            counts.dropped += 1


TIMELINE = Timeline(
    stages=list(SPEC.get("stages") or []),
    warmup_rate=float((SPEC.get("warmup") or {}).get("rate") or 0),
)
COLLECTOR = Collector()


class _Writer:
    """The master's (or a lone process's) latency file, rewritten as reports come in."""

    def __init__(self) -> None:
        self.last = 0.0

    def write(self, environment: Any, force: bool = False) -> None:
        runner = environment.runner
        if runner is None or isinstance(runner, WorkerRunner):
            return
        now = time.monotonic()
        if not force and now - self.last < WRITE_EVERY_S:
            return
        self.last = now
        prefix = getattr(environment.parsed_options, "csv_prefix", None)
        if not prefix or TIMELINE.start is None:
            return
        path = Path(f"{prefix}{LATENCY_SUFFIX}")
        partial = path.with_name(f".{path.name}.tmp")  # the harness never reads half a file
        try:
            partial.write_text(json.dumps(COLLECTOR.as_json(TIMELINE)) + "\n", encoding="utf-8")
            partial.replace(path)
        except OSError as exc:
            log.warning("could not write %s: %s", path, exc)


WRITER = _Writer()
ARRIVALS: Arrivals | None = None  # this process's, in the open model (not on a master)


def _on_init(environment: Any, **_kwargs: Any) -> None:
    global ARRIVALS
    if MODEL == "open" and not isinstance(environment.runner, MasterRunner):
        ARRIVALS = Arrivals(TIMELINE, COLLECTOR, 1 / PROCESSES)
        environment.cv_arrivals = ARRIVALS  # the users take their iterations from it


def _on_request(
    request_type: str,
    name: str,
    response_time: float | None,
    exception: BaseException | None = None,
    **_: Any,
) -> None:
    stage = TIMELINE.stage_at(time.monotonic())
    lag = ARRIVALS.lag_of_current() if ARRIVALS is not None else 0.0
    if 0 <= stage < len(TIMELINE.stages) and response_time is not None:
        key = f"{request_type} {name}"
        COLLECTOR.record(stage, key, float(response_time) + lag, exception is not None)


def _on_reset(**_kwargs: Any) -> None:
    """The window begins: the stages' clock starts, and nothing from the warm-up is kept."""
    TIMELINE.begin()
    COLLECTOR.take_report()


def _on_report_to_master(client_id: str, data: dict[str, Any], **_kwargs: Any) -> None:
    data[REPORT_KEY] = COLLECTOR.take_report()


def _on_worker_report(client_id: str, data: dict[str, Any], **_kwargs: Any) -> None:
    report = data.get(REPORT_KEY)
    if report:
        COLLECTOR.add_report(report)
        environment = getattr(_on_worker_report, "environment", None)
        if environment is not None:
            WRITER.write(environment)


def _keep_environment(environment: Any, **_kwargs: Any) -> None:
    _on_worker_report.environment = environment  # type: ignore[attr-defined]
    rules = SPEC.get("stop_when")
    if rules:  # the staged shape asks after each stage (a capacity search stops at a break)
        environment.cv_stage_broken = lambda stage: COLLECTOR.broken(stage, rules)


def _final(environment: Any, **_kwargs: Any) -> None:
    if ARRIVALS is not None:
        ARRIVALS.stop()
    WRITER.write(environment, force=True)


events.init.add_listener(_on_init)  # type: ignore[no-untyped-call]
events.init.add_listener(_keep_environment)  # type: ignore[no-untyped-call]
events.request.add_listener(_on_request)  # type: ignore[no-untyped-call]
events.reset_stats.add_listener(_on_reset)  # type: ignore[no-untyped-call]
events.report_to_master.add_listener(_on_report_to_master)  # type: ignore[no-untyped-call]
events.worker_report.add_listener(_on_worker_report)  # type: ignore[no-untyped-call]
events.test_stop.add_listener(_final)  # type: ignore[no-untyped-call]
events.quitting.add_listener(_final)  # type: ignore[no-untyped-call]
