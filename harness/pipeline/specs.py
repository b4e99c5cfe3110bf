"""A command's options, checked once into ready values that the phases are handed."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from harness.bench import BenchTargets, check_name, find_baseline, load_targets, read_bench_json
from harness.errors import ConfigError
from harness.images import BASE_MODES, BaseMode
from harness.load.shapes import SCENARIOS, SHAPES, Shape, resolve_shape, user_classes
from harness.monitor.services import DOWN_GRACE_S
from harness.pipeline.context import RunContext
from harness.profile import DEFAULT_RATE_HZ
from harness.project import Project, load_project
from harness.seed import DEFAULT_PASSWORD, PROFILES, Profile, resolve_profile
from harness.stack import PROVIDERS, ensure_port_free, resolve_provider
from harness.verdict import SloConfig, load_slo

# What the command line offers, named by the phases that own each list.
CHOICES: dict[str, list[str]] = {
    "shape": sorted(SHAPES),
    "scenario": sorted(SCENARIOS),
    "profile": sorted(PROFILES),
    "provider": list(PROVIDERS),
    "base": list(BASE_MODES),
}


@dataclass(frozen=True)
class UpOptions:
    provider: str = "auto"
    target: str | None = None
    db_dsn: str | None = None
    allow_remote: bool = False
    base: BaseMode = "auto"
    bcrypt_rounds: int = 12
    backend_workers: int = 1
    port: int | None = None
    config: Path | None = None  # the project file; None: ./harness.toml, else the reference


@dataclass(frozen=True)
class UpSpec:
    provider: str  # docker | local | external: resolved from auto
    options: UpOptions
    project: Project  # the backend under test
    persistent: bool = True  # False: a throwaway stack, torn down by the command


def check_up(options: UpOptions, ctx: RunContext) -> UpSpec:
    project = load_project(options.config, ctx.cwd)
    provider = resolve_provider(options.provider, options.target)
    if options.port is not None:
        ensure_port_free(options.port)
    return UpSpec(provider, options, project)


@dataclass(frozen=True)
class SeedOptions:
    profile: str = "small"
    seed: int = 1
    reset: bool = False
    users: int | None = None
    trips: int | None = None
    follows: int | None = None
    likes: int | None = None
    password: str | None = None
    bcrypt_rounds: int | None = None  # None: the stack's backend rounds
    allow_remote: bool = False
    config: Path | None = None  # the project file, for a stack started without one (external)


@dataclass(frozen=True)
class SeedSpec:
    profile: Profile
    seed: int
    reset: bool
    password: str
    bcrypt_rounds: int | None
    allow_remote: bool
    config: Path | None


def check_seed(options: SeedOptions) -> SeedSpec:
    overrides = {
        "users": options.users,
        "trips": options.trips,
        "follows": options.follows,
        "likes": options.likes,
    }
    return SeedSpec(
        profile=resolve_profile(options.profile, overrides),
        seed=options.seed,
        reset=options.reset,
        password=options.password or DEFAULT_PASSWORD,
        bcrypt_rounds=options.bcrypt_rounds,
        allow_remote=options.allow_remote,
        config=options.config,
    )


@dataclass(frozen=True)
class LoadOptions:
    shape: str = "load"
    scenario: str = "mixed"
    users: int | None = None  # an open shape's pool
    rate: float | None = None  # an open shape's iterations per second
    steps: int | None = None  # the capacity search's steps
    duration_s: int | None = None
    spawn_rate: float | None = None
    warmup_s: int | None = None
    workers: int | None = None
    slo_file: Path | None = None
    http_client: str = "fast"
    ui: bool = False
    down_grace_s: float = DOWN_GRACE_S
    remote_workers: int = 0  # workers other machines add with `harness worker`
    master_bind: str = "127.0.0.1"  # where the master listens for them, for this run only
    master_port: int | None = None
    worker_cpus: float | None = None  # a CPU quota per Locust worker container
    profile: bool = True  # py-spy on the backend's Python processes in the measured window
    profile_rate_hz: int = DEFAULT_RATE_HZ  # its samples per second


@dataclass(frozen=True)
class LoadSpec:
    shape: Shape
    scenario: str
    classes: tuple[str, ...]
    slo: SloConfig
    workers: int
    options: LoadOptions


def check_load(options: LoadOptions) -> LoadSpec:
    shape = resolve_shape(
        options.shape,
        options.users,
        options.duration_s,
        options.spawn_rate,
        options.warmup_s,
        options.rate,
        options.steps,
    )
    workers = options.workers or os.cpu_count() or 1
    if workers < 1:
        raise ConfigError(f"--workers {workers} must be 1 or more", "give a positive number")
    if shape.model == "open" and (options.ui or options.remote_workers):
        raise ConfigError(
            f"the open shape {shape.name!r} runs on this machine's workers, headless",
            "drop --ui and --remote-workers, or use a closed shape (load, stress, ...)",
        )
    _check_master(options)
    return LoadSpec(
        shape=shape,
        scenario=options.scenario,
        classes=user_classes(options.scenario),
        slo=load_slo(options.slo_file),
        workers=workers,
        options=options,
    )


def _check_master(options: LoadOptions) -> None:
    try:
        address = ipaddress.ip_address(options.master_bind)
    except ValueError:
        raise ConfigError(
            f"--master-bind {options.master_bind!r} is not an IP address",
            "give the address to listen on: 0.0.0.0 (every interface) or one of this machine's",
        ) from None
    if not options.remote_workers and (not address.is_loopback or options.master_port is not None):
        raise ConfigError(
            "--master-bind and --master-port only go with --remote-workers",
            "the master's port is opened only for a run that expects remote workers",
        )


@dataclass(frozen=True)
class BenchOptions:
    rounds: int = 30
    warmup: int = 3
    targets_file: Path | None = None
    save_baseline: str | None = None
    compare: str | None = None
    baselines_dir: Path | None = None
    bcrypt_rounds: int | None = None  # None: the stack's backend rounds


@dataclass(frozen=True)
class BenchSpec:
    options: BenchOptions
    targets: BenchTargets  # the targets file, loaded and checked
    baselines: Path  # the baseline folder
    # the runs of the baseline to compare with (--compare), oldest first, found and readable
    baseline: tuple[Path, ...] | None


def check_bench(options: BenchOptions, ctx: RunContext) -> BenchSpec:
    """Bad input fails before anything runs."""
    targets = load_targets(options.targets_file)
    if options.save_baseline is not None:
        check_name(options.save_baseline)
    baselines = options.baselines_dir or Path(
        ctx.environ.get("HARNESS_BASELINES") or ctx.home / "baselines"
    )
    baseline = None
    if options.compare is not None:
        baseline = tuple(find_baseline(baselines, options.compare))
        for run in baseline:
            read_bench_json(run)
    return BenchSpec(options, targets, baselines, baseline)
