"""The run record: one pydantic model for a run folder's results.json, and its reading and writing.

A load run and a benchmark-only run write the same model; `run.kind` says which. Version 2
is what this module writes. Version 1 (the harness before this model: no `kind` on a load
run, otherwise the same fields) is migrated on reading, so old run folders still report.
Every model refuses keys it does not know: a typo or a stale writer fails loudly here, not
as a silently empty table in the report. Fields added to version 2 after its first files
(a load run's `users` and `failures`) are optional, so those files still read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Final, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    model_validator,
)

from harness.errors import ConfigError

SCHEMA_VERSION: Final = 2
READABLE_VERSIONS = (1, 2)
RESULTS = "results.json"

Verdict = Literal["PASS", "FAIL"]  # the benchmark suite's
# A run's: INVALID when the numbers describe the test bed rather than the system under test
RunVerdict = Literal["PASS", "FAIL", "INVALID"]
# Written as datetime.isoformat() gives it ("+00:00", not pydantic's "Z"), as version 1 was.
Timestamp = Annotated[
    AwareDatetime, PlainSerializer(datetime.isoformat, return_type=str, when_used="json")
]


class _Model(BaseModel):
    """What every part of the record shares: unknown keys refused, no NaN, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Shape(_Model):
    """The load shape a load run used (harness.load.shapes.Shape, as written)."""

    name: str
    users: int
    spawn_rate: float
    duration_s: int  # the measured part, after the warm-up
    warmup_s: int
    kind: Literal["steady", "ramp", "spike", "rate", "rate-ramp", "capacity"]
    # issue 17: the open shapes (users is their pool); older files are closed models
    model: Literal["closed", "open"] = "closed"
    rate: float = 0.0  # iterations per second (rate-ramp: at its end; capacity: per step)
    steps: int = 8  # the capacity search's steps


class SeedInfo(_Model):
    """The seeded data a load run ran against; a field is None when the manifest lacked it."""

    seed: int | None = None
    checksum: str | None = None
    total_rows: int | None = None
    profile: str | None = None


class RunMeta(_Model):
    """The "run" block: what ran, where, when. The load-only fields are None on a bench run."""

    id: str = Field(min_length=1)
    kind: Literal["load", "bench"]
    provider: Literal["docker", "local", "external"]
    stack_id: str
    target: str
    started_at: Timestamp
    finished_at: Timestamp
    commit: str | None = None  # None outside a git checkout
    host: str
    python: str
    # load runs only
    shape: Shape | None = None
    scenario: str | None = None
    user_classes: list[str] = Field(default_factory=list)
    workers: int | None = None
    remote_workers: int = 0  # absent from version 1 files before remote workers existed
    http_client: str | None = None
    slo_file: str | None = None
    seed: SeedInfo | None = None  # None: the stack was not seeded (or has no manifest)
    partial: bool = False
    aborted: str | None = None  # why the load was stopped early, if it was

    @model_validator(mode="after")
    def _fits_its_kind(self) -> Self:
        load_only = {
            "shape": self.shape,
            "scenario": self.scenario,
            "workers": self.workers,
            "http_client": self.http_client,
            "slo_file": self.slo_file,
        }
        if self.kind == "load":
            missing = [name for name, value in load_only.items() if value is None]
            if missing:
                raise ValueError(f"a load run records its {', '.join(missing)}")
            return self
        stray = [name for name, value in load_only.items() if value is not None]
        stray += [
            name
            for name, value in (
                ("user_classes", self.user_classes),
                ("remote_workers", self.remote_workers),
                ("seed", self.seed),
                ("partial", self.partial),
                ("aborted", self.aborted),
            )
            if value
        ]
        if stray:
            raise ValueError(f"a bench run has no load, so no {', '.join(stray)}")
        return self


class EndpointStats(_Model):
    """One row of Locust's stats after the warm-up (or the aggregate of all of them).

    A percentile is None where Locust had no sample to take it from ("N/A"); version 1
    wrote 0.0 there, which reads as it was written.
    """

    method: str  # "ALL" on the aggregate
    name: str
    requests: int
    failures: int
    failure_rate: float
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    avg_ms: float
    max_ms: float | None = None
    min_ms: float | None = None  # absent from files written before it was recorded
    rps: float
    # issue 17: "hdr" when the percentiles, mean, min and max come from the HDR histograms
    # (within 0.1 %, rounded down; timed from the scheduled start in the open model), "locust"
    # when from Locust's rounded buckets (older files)
    percentiles: Literal["locust", "hdr"] = "locust"
    p90_ms: float | None = None
    p999_ms: float | None = None


class Arrivals(_Model):
    """The open model's iterations (harness/load/scenarios/open_model.py's counts)."""

    scheduled: int
    started: int
    dropped: int  # due while every user of the pool was busy: never sent
    late: int  # started more than late_ms after their time
    max_lag_ms: float
    late_ms: float = 50.0

    @property
    def dropped_share(self) -> float:
        return self.dropped / self.scheduled if self.scheduled else 0.0

    @property
    def late_share(self) -> float:
        return self.late / self.started if self.started else 0.0


class LatencySummary(_Model):
    """One HDR histogram's figures, in ms (each percentile the lower bound of its bucket)."""

    count: int
    min: float | None = None
    mean: float | None = None
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None
    p999: float | None = None
    max: float | None = None
    failures: int | None = None  # a stage's endpoint: its failed requests


class Stage(_Model):
    """One stage of the measured window: what it asked for and what it measured."""

    index: int
    for_s: float
    users: int | None = None
    rate: float | None = None
    to_rate: float | None = None
    arrivals: Arrivals | None = None  # None in a closed model
    endpoints: dict[str, LatencySummary] = Field(default_factory=dict)  # "METHOD /name"
    all: LatencySummary


class Latency(_Model):
    """The HDR histograms' block (locust_latency.json, without the encoded histograms)."""

    model: Literal["closed", "open"]
    significant_figures: int
    arrivals: Arrivals | None = None  # the window's, in the open model
    stages: list[Stage] = Field(default_factory=list)


class CapacityStep(_Model):
    """One step of a capacity search, judged on its own figures (harness/verdict/capacity.py)."""

    index: int
    rate: float  # iterations per second asked for
    sent_per_s: float  # requests completed per second
    held: bool
    judged: bool  # False: the load stopped before the step ended
    reasons: list[str] = Field(default_factory=list)  # why it did not hold
    closest: str | None = None  # the endpoint nearest its p95 target, with its figures
    dropped: int | None = None
    late: int | None = None
    unjudged_endpoints: int = 0  # endpoints with too few requests in the step for a p95


class Capacity(_Model):
    """The highest rate whose step held, and every step's evidence."""

    rate: float | None  # None: the first step broke already
    steps: list[CapacityStep]
    stopped: str | None = None  # the step the search stopped at, and why

    @property
    def at_least(self) -> bool:
        """Every step held: the capacity is above the search's range, not found in it."""
        return bool(self.steps) and all(s.held for s in self.steps)


class SloRow(_Model):
    """The verdict on one endpoint with requests: its p95 against its group, its failures."""

    endpoint: str  # "METHOD /path"
    group: str | None = None  # None: in no group, so only the failure limit applies
    target_p95_ms: float | None = None  # None with the group
    p95_ms: float
    failure_rate: float
    max_failure_rate: float
    passed: bool
    reason: str = ""  # why it failed; "" when it passed


class BenchRow(_Model):
    """One benchmark of the suite; the figures are None when it was not measured."""

    name: str
    outcome: Literal["passed", "failed", "error", "skipped"]
    message: str = ""
    target_p95_ms: float | None = None
    tolerance: float | None = None  # absent from version 1 files before targets carried it
    rounds: int | None = None
    min_ms: float | None = None
    median_ms: float | None = None
    p95_ms: float | None = None
    max_ms: float | None = None
    unstable: bool | None = None  # None: not measured, or not assessed (older version 1)
    # Database cost per call, from pg_stat_statements deltas (None: not measured)
    db: DbCost | None = None
    max_queries: int | None = None  # the targets file's limit on db.queries, if any

    @model_validator(mode="after")
    def _measured_or_not(self) -> Self:
        figures = (self.rounds, self.min_ms, self.median_ms, self.p95_ms, self.max_ms)
        if any(f is None for f in figures) and any(f is not None for f in figures):
            raise ValueError("rounds, min_ms, median_ms, p95_ms and max_ms go together")
        return self


class DbCost(_Model):
    """What one call of a benchmarked endpoint costs the database, from pg_stat_statements.

    Counts over every measured call divided by the calls, so a deterministic endpoint gives
    whole numbers: free of timing noise, they can be compared exactly.
    """

    calls: int = Field(ge=1)  # endpoint calls the deltas were taken over
    queries: float  # statements executed per call (transaction control included)
    rows: float  # rows returned or affected per call
    shared_hit: float  # shared buffer blocks found in cache per call
    shared_read: float  # shared buffer blocks read from disk per call
    exec_ms: float  # database execution time per call
    statements: list[StatementCost] = Field(default_factory=list)  # the costliest, per call


class StatementCost(_Model):
    """One normalised statement's share of a benchmarked call."""

    query: str
    calls: float  # per endpoint call
    rows: float
    exec_ms: float


class BenchSummary(_Model):
    """The benchmark suite's run (harness.bench.runner.summarise, as written)."""

    model_config = ConfigDict(
        validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )

    suite: str
    rounds: int
    warmup_rounds: int
    bcrypt_rounds: int
    seconds: float
    # "json" would shadow BaseModel.json; the file keeps the short keys
    json_file: str = Field(alias="json")
    junit_file: str = Field(alias="junit")
    benchmarks: list[BenchRow]
    verdict: Verdict


class ComparisonRow(_Model):
    """One benchmark against the baseline's runs (harness.bench.gate.compare, as written).

    The figures are None when the benchmark is in only one side ("missing" from this run,
    or "new" in it); the band is None also when it is "unjudged" (fewer than 2 baseline runs,
    so the noise between runs is unknown). Files written before baselines kept several runs
    have a bootstrap band of the ratio and no `baseline_runs`.
    """

    name: str
    tolerance: float
    verdict: Literal["regression", "improvement", "noise", "same", "unjudged", "missing", "new"]
    baseline_median_ms: float | None = None  # the median of the baseline runs' medians
    current_median_ms: float | None = None
    ratio: float | None = None  # current / baseline median
    # the 95 % prediction interval (Holm-corrected) of one run, as a ratio to the baseline median
    band: tuple[float, float] | None = None
    baseline_runs: int | None = Field(default=None, ge=0)  # that measured it; None: older files
    # queries per call, baseline vs now: compared exactly (None: not measured in one of them)
    baseline_queries: float | None = None
    current_queries: float | None = None
    more_queries: bool = False  # the gate fails on it whatever the timings say

    @model_validator(mode="after")
    def _figures_match_the_verdict(self) -> Self:
        figures = (self.baseline_median_ms, self.current_median_ms, self.ratio)
        unmatched = self.verdict in ("missing", "new")
        if any((f is None) != unmatched for f in figures):
            raise ValueError(
                "baseline_median_ms, current_median_ms and ratio are given exactly "
                "when the benchmark is in both runs (verdict not missing or new)"
            )
        if (self.band is None) != (unmatched or self.verdict == "unjudged"):
            raise ValueError("band is given exactly when the verdict is judged")
        runs = self.baseline_runs
        if runs is not None and not unmatched and (runs < 2) != (self.verdict == "unjudged"):
            raise ValueError("a verdict is unjudged exactly when fewer than 2 baseline runs")
        return self


class Comparison(_Model):
    """The regression gate's result against a saved baseline."""

    baseline: str = Field(min_length=1)
    rows: list[ComparisonRow]
    failed: bool  # a regression in any row


class Incident(_Model):
    """A stack service that went down during the load (harness.monitor.services, as written)."""

    service: str
    event: Literal["exited", "oom"]
    at_s: float  # seconds since the watch began
    exit_code: int | None = None
    back_after_s: float | None = None  # None: it did not come back
    log_tail: str | None = None  # run-folder path of the saved log tail


class StartError(_Model):
    """The first call that kept a load user from starting (its on_start: register, log in)."""

    user_class: str | None = None
    endpoint: str  # "METHOD /path", as Locust names it
    status: int | None = None  # None: no response at all (a refused connection, a timeout)
    message: str


class UserCounts(_Model):
    """The users a load run planned against those it reached.

    Absent from files written before it was recorded (the record then says nothing of it).
    """

    planned: int | None = None  # the shape's peak; None: users set by hand (--ui)
    # most users running after the warm-up (Locust's history, at most `started`); None: no history
    reached: int | None = None
    started: int | None = None  # users whose start completed; None: not counted
    start_failures: int = 0  # users that could not start, and so stopped
    first_start_error: StartError | None = None

    @property
    def ran(self) -> int | None:
        """The most users that ran: reached, or without a history the users that started."""
        return self.reached if self.reached is not None else self.started

    @property
    def short(self) -> bool:
        """True when the load ran fewer users than planned (so the run cannot pass)."""
        return self.planned is not None and self.ran is not None and self.ran < self.planned


class FailureGroup(_Model):
    """Failed requests (after the warm-up) of one endpoint with one status and message."""

    method: str
    name: str
    status: int | None = None  # None: no HTTP status (no response at all)
    message: str
    count: int = Field(ge=1)

    @property
    def endpoint(self) -> str:
        return f"{self.method} {self.name}".strip()


class InvalidReason(_Model):
    """Why a run's numbers describe the test bed rather than the system under test."""

    code: Literal[
        "host_busy",
        "generator_saturated",
        "users_not_reached",
        "samples_missing",
        "not_steady",
        "warmup_unfinished",
    ]
    message: str
    evidence: list[str] = Field(default_factory=list)
    hint: str


class Cause(_Model):
    """A cause of failing endpoints, ranked by `weight`, with what the run measured for it."""

    code: str  # backend_cpu, event_loop, db_waits, idle_in_transaction, pool, query, bcrypt, ...
    summary: str
    endpoints: list[str] = Field(default_factory=list)  # the failing endpoints it explains
    evidence: list[str] = Field(default_factory=list)
    hint: str | None = None
    weight: float = Field(ge=0)  # higher ranks first


class TrendCheck(_Model):
    """A measured figure's first third against its last third of the window."""

    metric: Literal["rps", "p95_ms", "users"]
    first: float | None = None  # median over the first third
    last: float | None = None  # median over the last third
    change: float | None = None  # last / first - 1
    tau: float | None = None  # Kendall's tau of the figure against time (10 s medians)
    steady: bool


class Window(_Model):
    """The measured window of a load run: where it began and ended, and whether it was steady."""

    start: float  # epoch seconds
    end: float
    warmup_s: float  # from the load's start to the window's (the warm-up as it really ran)
    ramp_measured: bool  # stress and spike measure their ramp on purpose
    users: int | None = None  # users running when the window began
    starts_done: bool | None = None  # every planned user had started before it began
    steady: bool | None = None  # None: not assessed (a ramp, too few samples)
    checks: list[TrendCheck] = Field(default_factory=list)


class OutsideProcess(_Model):
    pid: int
    name: str
    cores: float  # mean CPU over the window, 1.0 = one core busy


class HostLoad(_Model):
    """The host's CPU over the measured window (psutil), split by who used it."""

    cores: int
    samples: int
    busy: float  # median share of the machine busy (0..1)
    outside: float  # median share used by processes outside the stack, generator and harness
    steal: float | None = None  # median share stolen by the hypervisor
    harness: float | None = None  # median share used by the harness itself (monitors, profiler)
    top_outside: list[OutsideProcess] = Field(default_factory=list)


class ProfileFunction(_Model):
    function: str
    file: str | None = None
    own_share: float  # of all samples: time spent in this function itself
    total_share: float  # of all samples: time with this function anywhere on the stack
    own_samples: int


class Profile(_Model):
    """The backend's py-spy profile over the measured window."""

    status: Literal["recorded", "skipped", "failed"]
    reason: str = ""
    samples: int = 0
    processes: int = 0
    rate_hz: float | None = None
    top: list[ProfileFunction] = Field(default_factory=list)
    summary: str | None = None  # run-folder path of profile/summary.json (with the flame tree)


class RunRecord(_Model):
    """A run folder's results.json."""

    schema_version: Literal[2] = SCHEMA_VERSION
    run: RunMeta
    verdict: RunVerdict
    endpoints: list[EndpointStats] = Field(default_factory=list)
    aggregate: EndpointStats | None = None
    slo: list[SloRow] = Field(default_factory=list)
    benchmarks: BenchSummary | None = None  # None: the suite did not run
    comparison: Comparison | None = None  # None: no baseline was compared with
    incidents: list[Incident] | None = None  # None: the services were not watched
    load_generator_saturated: bool = False
    warnings: list[str] = Field(default_factory=list)
    users: UserCounts | None = None  # None: not recorded (a bench run, an older file)
    failures: list[FailureGroup] | None = None  # None: not recorded; [] no request failed
    # issue 15: fields of a load run judged for validity; None on older files and bench runs
    invalid: list[InvalidReason] = Field(default_factory=list)  # non-empty: verdict INVALID
    causes: list[Cause] | None = None  # None: not diagnosed (the run did not FAIL on its SLO)
    window: Window | None = None
    host: HostLoad | None = None
    coverage: dict[str, float] | None = None  # monitor samples per container / expected
    profile: Profile | None = None
    latency: Latency | None = None  # issue 17: None on older files, or no histogram was written
    capacity: Capacity | None = None  # a capacity search's answer; None for other shapes

    @model_validator(mode="after")
    def _fits_its_kind(self) -> Self:
        if self.run.kind == "bench":
            if self.benchmarks is None:
                raise ValueError("a bench run records its benchmarks")
            if self.endpoints or self.aggregate is not None or self.slo:
                raise ValueError("a bench run has no load, so no endpoints, aggregate or slo")
            if self.users is not None or self.failures is not None:
                raise ValueError("a bench run has no load, so no users or failures")
        if (self.verdict == "INVALID") != bool(self.invalid):
            raise ValueError("a run is INVALID exactly when it records why (invalid)")
        return self


def migrate(data: Mapping[str, Any]) -> dict[str, Any]:
    """A results.json object of a readable version, as version 2 (a copy; `data` is kept).

    Version 1 to 2: `run.kind` = "load" where it is absent (version 1 wrote it on bench runs
    only); `schema_version` = 2. Everything else version 1 wrote is valid version 2 as it is.
    """
    migrated = dict(data)
    if data.get("schema_version") == 1:
        run = data.get("run")
        if isinstance(run, Mapping) and "kind" not in run:
            migrated["run"] = {**run, "kind": "load"}
        migrated["schema_version"] = 2
    return migrated


def read_raw(run_dir: Path) -> dict[str, Any]:
    """The JSON object in `run_dir`'s results.json, not yet checked against the model."""
    if not run_dir.is_dir():
        raise ConfigError(
            f"there is no run folder at {run_dir}",
            "give a folder under reports/, e.g. `harness report reports/latest`",
        )
    path = run_dir / RESULTS
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{run_dir} has no {RESULTS}",
            "the run did not finish; run it again, or point at another run folder",
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read {path} ({exc.strerror})", "check the file's permissions"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"{path} is not UTF-8 text", "it should be the results.json a harness run wrote"
        ) from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(
            f"{path} is not valid JSON ({exc})",
            "it should be the results.json a harness run wrote; was it cut short or edited?",
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path} holds no results object", "it should be the results.json a harness run wrote"
        )
    return data


def parse_record(data: Mapping[str, Any], path: Path) -> RunRecord:
    """`data` (read from `path`) checked for its version, migrated, and validated."""
    version = data.get("schema_version")
    if type(version) is not int or version not in READABLE_VERSIONS:
        raise ConfigError(
            f"{path} has schema_version {version!r}; this harness reads "
            + ", ".join(str(v) for v in READABLE_VERSIONS),
            "rebuild the report with the harness version that wrote the run",
        )
    try:
        return RunRecord.model_validate(migrate(data))
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(
            f"{path} does not fit the results model (version {version}): "
            f"{field_path(first['loc'])}: {first['msg']}{more}",
            "it should be the results.json a harness run wrote; was it edited by hand?",
        ) from None


def field_path(loc: tuple[int | str, ...]) -> str:
    """A validation error's location as a path: run.shape.users, endpoints[2].p95_ms."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path or "the top level"


def read_record(run_dir: Path) -> RunRecord:
    """`run_dir`'s results.json as a RunRecord; ConfigError (message, hint) when it is unusable."""
    return parse_record(read_raw(run_dir), run_dir / RESULTS)


def write_record(run_dir: Path, record: RunRecord) -> Path:
    """Write `record` as `run_dir`'s results.json, atomically: a reader never sees half a file."""
    path = run_dir / RESULTS
    tmp = path.with_name(f".{RESULTS}.tmp")
    try:
        tmp.write_text(record.model_dump_json(indent=2) + "\n", encoding="utf-8")
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
