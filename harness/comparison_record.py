"""comparison.json: what `harness compare` measured and concluded, the report's only input.

Two versions of the system under test (A, the base; B, the candidate), run in alternation on
one machine from one restored database state. Each repetition keeps its own folder (Locust's
CSVs, the monitors' samples); this file holds the figures taken from them and the verdicts
(harness/runstats.py explains the statistics).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

COMPARISON = "comparison.json"
COMPARISON_VERSION: Literal[1] = 1

Label = Literal["A", "B"]
Call = Literal["slower", "faster", "no change", "too few"]
MetricName = Literal["p50_ms", "p95_ms", "rps", "median_ms"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VersionInfo(_Model):
    """One version of the system under test and how the harness got it."""

    label: Label
    name: str  # what the user gave: a git revision, image:NAME, or a project file
    kind: Literal["git", "image", "project"]
    image: str  # the backend image that ran
    project_file: str  # the project file that described it
    revision: str | None = None  # the commit, for a git revision
    stack_id: str = ""
    schema_hash: str | None = None  # of the database after its migrations


class RepEndpoint(_Model):
    """One endpoint in one repetition's measured window."""

    requests: int
    failures: int
    p50_ms: float | None = None
    p95_ms: float | None = None
    rps: float
    percentiles: dict[str, float] = Field(default_factory=dict)  # "0.5" -> ms, Locust's own
    exact: bool = False  # p50_ms and p95_ms from HDR histograms (issue 17), not Locust's buckets


class RepBench(_Model):
    """One benchmark of the suite in one repetition."""

    median_ms: float | None = None
    rounds: int | None = None
    queries: float | None = None  # per call, exact counts from pg_stat_statements
    rows: float | None = None
    exec_ms: float | None = None


class RepResource(_Model):
    """A group of containers (backend, postgres, locust) in the measured window."""

    cpu_cores: float | None = None  # mean
    cpu_cores_peak: float | None = None
    memory_mib_peak: float | None = None


class Repetition(_Model):
    order: int  # 1, 2, ...: the position in the sequence that ran
    pair: int  # 1, 2, ...: the A and the B of a pair ran next to each other
    version: Label
    folder: str  # relative to the comparison's folder
    restore_s: float | None = None  # the database put back to its seeded state
    window_s: float | None = None  # seconds measured
    users: int | None = None
    endpoints: dict[str, RepEndpoint] = Field(default_factory=dict)  # "METHOD /path"
    aggregate: RepEndpoint | None = None
    history: list[tuple[float, float, float | None]] = Field(
        default_factory=list
    )  # (seconds into the window, rps, p95 ms)
    resources: dict[str, RepResource] = Field(default_factory=dict)
    benchmarks: dict[str, RepBench] = Field(default_factory=dict)
    invalid: list[str] = Field(default_factory=list)  # why this repetition is not evidence


class MetricVerdict(_Model):
    metric: MetricName
    a: list[float]  # per repetition, in pair order
    b: list[float]
    a_median: float | None = None
    b_median: float | None = None
    change: float | None = None  # relative: +0.25 = 25 % higher
    interval: tuple[float, float] | None = None  # of `change`, Holm-corrected
    noise_floor: float | None = None
    detectable: float | None = None
    p_value: float | None = None
    call: Call
    judged: bool = True  # False: shown for information, not part of the verdict


class ExactCount(_Model):
    """A count per call that does not vary with timing (queries, rows): compared exactly."""

    a: float | None = None
    b: float | None = None
    differs: bool = False


class Row(_Model):
    """An endpoint of the load, the load's total, or a benchmark of the suite."""

    name: str
    kind: Literal["endpoint", "total", "benchmark"]
    call: Call  # slower when any judged metric is; faster when one is and none is slower
    failed: bool  # slower beyond the tolerance, or more queries per call
    tolerance: float
    metrics: list[MetricVerdict]
    queries: ExactCount | None = None
    rows: ExactCount | None = None
    failures: tuple[int, int] = (0, 0)  # failed requests, A and B, over every repetition
    note: str = ""


class Noise(_Model):
    """The comparison's sensitivity, per metric: medians over the judged rows."""

    metric: MetricName
    noise_floor: float | None = None
    detectable: float | None = None
    rows: int = 0


class Settings(_Model):
    repeats: int
    shape: str
    users: int
    duration_s: int
    warmup_s: int
    scenario: str
    profile: str
    seed: int
    bench_rounds: int | None = None  # None: the benchmark suite did not run
    tolerance: float
    slo_file: str | None = None
    confidence: float
    order: str  # e.g. "AB BA AB"


class ComparisonFile(_Model):
    version: Literal[1] = COMPARISON_VERSION
    id: str
    started_at: str
    finished_at: str
    wall_s: float
    host: str
    cpus: int
    settings: Settings
    versions: list[VersionInfo]
    seed_cache: dict[str, float | str | None] = Field(default_factory=dict)
    repetitions: list[Repetition]
    rows: list[Row]
    noise: list[Noise] = Field(default_factory=list)
    verdict: Literal["slower", "faster", "no change", "INVALID"]
    failed: bool
    invalid: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


def read_comparison(folder: Path) -> ComparisonFile:
    return ComparisonFile.model_validate(json.loads((folder / COMPARISON).read_text()))


def write_comparison(folder: Path, comparison: ComparisonFile) -> Path:
    path = folder / COMPARISON
    tmp = path.with_suffix(".tmp")
    tmp.write_text(comparison.model_dump_json(indent=2) + "\n")
    tmp.replace(path)
    return path
