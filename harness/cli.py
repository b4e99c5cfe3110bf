"""The `harness` command line: parses, calls one pipeline command, renders, maps to an exit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

import typer

from harness.console import Console
from harness.errors import ConfigError, HarnessError
from harness.pipeline import commands
from harness.pipeline.compare_phase import CompareOptions
from harness.pipeline.context import RunContext
from harness.pipeline.specs import CHOICES, BenchOptions, LoadOptions, SeedOptions, UpOptions


@dataclass(frozen=True)
class Call:
    """A parsed command line: the pipeline call that renders its outcome and gives the exit."""

    command: str
    run: Callable[[RunContext], int]
    reports: Path | None = None  # --reports, for the run context


def _at_least(minimum: int | None) -> Callable[[str], int]:
    """A whole number no smaller than minimum (if one is given)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise typer.BadParameter(f"{text!r} is not a whole number") from None
        if minimum is not None and value < minimum:
            raise typer.BadParameter(f"{value} must be {minimum} or more")
        return value

    return parse


_whole = _at_least(None)
_positive = _at_least(1)
_count = _at_least(0)


def _port(text: str) -> int:
    value = _positive(text)
    if value > 65535:
        raise typer.BadParameter(f"{value} is not a TCP port (1-65535)")
    return value


def _cpus(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a number of CPUs (e.g. 0.5)") from None
    if not 0.01 <= value <= 64:
        raise typer.BadParameter(f"{text} CPUs is out of range (0.01-64)")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a rate (iterations per second, e.g. 50)"
        ) from None
    if not 0 < value <= 100_000:
        raise typer.BadParameter(f"{text} per second is out of range (above 0, at most 100000)")
    return value


def _choice(choices: Sequence[str], metavar: str, help: str) -> Any:
    """An option taking one of `choices`, listed in its help."""

    def parse(text: str) -> str:
        if text not in choices:
            raise typer.BadParameter(f"{text!r} is not one of {', '.join(choices)}")
        return text

    return typer.Option(parser=parse, metavar=metavar, help=f"{help}: {', '.join(choices)}")


def _number(help: str | None = None, parser: Callable[[str], int] = _positive) -> Any:
    return typer.Option(parser=parser, metavar="N", help=help)


# Options more than one command takes.
# Typed Any: the pipeline takes it as a Literal of the same modes, which the parser checked.
Base = Annotated[Any, _choice(CHOICES["base"], "MODE", "base images")]
Provider = Annotated[str, _choice(CHOICES["provider"], "PROVIDER", "where the stack runs")]
Profile = Annotated[str, _choice(CHOICES["profile"], "PROFILE", "seed profile")]
HttpClient = Annotated[str, _choice(("fast", "stock"), "CLIENT", "Locust's HTTP client")]
BcryptRounds = Annotated[int, _number()]
StackBcryptRounds = Annotated[int | None, _number("default: the stack's backend rounds")]
AllowRemote = Annotated[
    bool,
    typer.Option("--allow-remote-target", help="allow a target that is not on this machine"),
]
Reports = Annotated[Path | None, typer.Option(help="where run folders go (default ./reports)")]
Shape = Annotated[str, _choice(CHOICES["shape"], "SHAPE", "load shape")]
Scenario = Annotated[str, _choice(CHOICES["scenario"], "SCENARIO", "user scenario")]
Users = Annotated[int | None, _number("simulated users (default: the shape's)")]
Duration = Annotated[int | None, _number("seconds measured")]
Rate = Annotated[
    float | None,
    typer.Option(
        parser=_rate,
        metavar="PER_S",
        help="iterations per second of an open shape (rate, rate-ramp; capacity: per step)",
    ),
]
Steps = Annotated[int | None, _number("steps of the capacity search")]
SpawnRate = Annotated[int | None, _number("users started per second")]
Warmup = Annotated[
    int | None,
    _number(
        "seconds of warm-up at least, excluded from the verdict (it goes on until every user has"
        " started; 0: none)",
        parser=_count,
    ),
]
Workers = Annotated[int | None, _number("Locust workers (default: one per core)")]
Slo = Annotated[
    Path | None,
    typer.Option(help="SLO targets (TOML); default harness/verdict/default-slo.toml"),
]
Config = Annotated[
    Path | None,
    typer.Option(
        help="the project file describing your backend (default: ./harness.toml if there is"
        " one, else the reference backend)"
    ),
]
WorkerCpus = Annotated[
    float | None,
    typer.Option(
        parser=_cpus, metavar="CPUS", help="CPU quota of each Locust worker container (e.g. 0.5)"
    ),
]
ProfileRate = Annotated[
    int,
    _number("py-spy samples per second of the backend (its CPU cost grows with it)"),
]
SkipProfile = Annotated[
    bool,
    typer.Option(
        "--skip-profile",
        help="no py-spy profile of the backend in the measured window (on by default)",
    ),
]
Ui = Annotated[bool, typer.Option("--ui", help="Locust UI on 127.0.0.1:8089; Ctrl-C ends it")]
DownGrace = Annotated[
    int,
    typer.Option(
        parser=_positive,
        metavar="SECONDS",
        help="stop the load once a stack service has been down this long",
    ),
]

app = typer.Typer(
    name="harness",
    help="ContraVento performance harness",
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.command("images")
def images_command(base: Base = "auto") -> Call:
    """build the backend, locust and postgres images"""

    def run(ctx: RunContext) -> int:
        built, aliases = commands.images(ctx, base)
        for name, tag, alias in zip(
            ("backend", "locust", "postgres"), built.tags, aliases, strict=True
        ):
            print(f"{name:<9} {tag}  (also {alias}, for compose/)")
        return 0

    return Call("images", run)


@app.command("up")
def up_command(
    provider: Provider = "auto",
    target: Annotated[
        str | None, typer.Option(help="use an already-running backend at this URL")
    ] = None,
    db_dsn: Annotated[
        str | None, typer.Option(help="the external stack's database DSN (optional)")
    ] = None,
    allow_remote_target: AllowRemote = False,
    base: Base = "auto",
    bcrypt_rounds: BcryptRounds = 12,
    backend_workers: Annotated[int, _number()] = 1,
    port: Annotated[
        int | None, _number("fixed 127.0.0.1 port for the backend", parser=_port)
    ] = None,
    config: Config = None,
) -> Call:
    """start (or reuse) an isolated stack"""
    options = UpOptions(
        config=config,
        provider=provider,
        target=target,
        db_dsn=db_dsn,
        allow_remote=allow_remote_target,
        base=base,
        bcrypt_rounds=bcrypt_rounds,
        backend_workers=backend_workers,
        port=port,
    )

    def run(ctx: RunContext) -> int:
        stack, reused = commands.up(ctx, options)
        print(f"{'reusing the running' if reused else 'started a'} {stack.describe()}")
        print(f"  backend:   {stack.backend_url}")
        print(f"  database:  {_shown_dsn(stack.db_dsn)}")
        print(f"  folder:    {stack.folder}")
        print("  tear down: make harness-down   (or: harness down)")
        return 0

    return Call("up", run)


@app.command("config")
def config_command(config: Config = None) -> Call:
    """print the backend description a stack would run (secrets written in it masked)"""

    def run(ctx: RunContext) -> int:
        print(json.dumps(commands.config(ctx, config), indent=2))
        return 0

    return Call("config", run)


def _shown_dsn(dsn: str | None) -> str:
    """A DSN for a console line, its password as *** (`status --json` keeps it whole)."""
    if not dsn:
        return "(none given)"
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user.partition(':')[0]}:***@{host}"))


@app.command("down")
def down_command() -> Call:
    """stop the current stack and remove its containers"""

    def run(ctx: RunContext) -> int:
        stopped = commands.stop_current(ctx)
        print(f"stopped {stopped.describe()}" if stopped else "no stack is up")
        return 0

    return Call("down", run)


@app.command("status")
def status_command(
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="the state as JSON, for tools: db_dsn is the full DSN, password included",
        ),
    ] = False,
) -> Call:
    """show the current stack"""
    return Call("status", lambda ctx: _status(ctx, as_json))


def _status(ctx: RunContext, as_json: bool) -> int:
    stack, alive = commands.status(ctx)
    if as_json:
        body = {
            "running": alive,
            **(
                stack.state.public()
                if stack
                else {"provider": None, "backend_url": None, "db_dsn": None, "containers": []}
            ),
        }
        print(json.dumps(body, indent=2))
    elif stack is None:
        print("no stack is up (start one with `make harness-up`)")
    else:
        print(f"{stack.describe()}: {'running' if alive else 'NOT running'}")
        print(f"  backend:  {stack.backend_url}\n  database: {_shown_dsn(stack.db_dsn)}")
        for c in stack.state.containers:
            print(f"  {c['role']:<9} {c['name']} ({c['id']})")
    return 0


@app.command("clean")
def clean_command() -> Call:
    """remove what crashed runs left behind"""

    def run(ctx: RunContext) -> int:
        report = commands.clean_up(ctx)
        if report.total:
            print(f"removed {report.describe()} of {len(report.stacks)} orphaned stack(s)")
        else:
            print("nothing to clean")
        return 0

    return Call("clean", run)


@app.command("load")
def load_command(
    shape: Shape = "load",
    scenario: Scenario = "mixed",
    users: Users = None,
    rate: Rate = None,
    steps: Steps = None,
    duration: Duration = None,
    spawn_rate: SpawnRate = None,
    warmup: Warmup = None,
    workers: Workers = None,
    worker_cpus: WorkerCpus = None,
    slo: Slo = None,
    reports: Reports = None,
    http_client: HttpClient = "fast",
    ui: Ui = False,
    skip_profile: SkipProfile = False,
    profile_rate: ProfileRate = LoadOptions.profile_rate_hz,
    down_grace: DownGrace = int(LoadOptions.down_grace_s),
    remote_workers: Annotated[
        int,
        _number(
            "also wait for this many workers from other machines (`harness worker`)",
            parser=_count,
        ),
    ] = 0,
    master_bind: Annotated[
        str,
        typer.Option(help="address the master listens on for remote workers, for this run only"),
    ] = "127.0.0.1",
    master_port: Annotated[
        int | None, _number("the master's port (default: a free one)", parser=_port)
    ] = None,
) -> Call:
    """distributed Locust against the current stack, with a verdict"""
    options = LoadOptions(
        shape=shape,
        scenario=scenario,
        users=users,
        rate=rate,
        steps=steps,
        duration_s=duration,
        spawn_rate=spawn_rate,
        warmup_s=warmup,
        workers=workers,
        slo_file=slo,
        http_client=http_client,
        ui=ui,
        down_grace_s=down_grace,
        remote_workers=remote_workers,
        master_bind=master_bind,
        master_port=master_port,
        worker_cpus=worker_cpus,
        profile=not skip_profile,
        profile_rate_hz=profile_rate,
    )
    return Call("load", lambda ctx: commands.load(ctx, options).exit_code, reports)


@app.command("worker")
def worker_command(
    master_host: Annotated[str, typer.Option(help="the machine running `harness load`")],
    master_port: Annotated[int, _number(parser=_port)] = 5557,
    processes: Annotated[int, _number()] = os.cpu_count() or 1,
    http_client: HttpClient = "fast",
) -> Call:
    """Locust workers here for a master on another machine"""
    return Call(
        "worker",
        lambda ctx: commands.worker(ctx, master_host, master_port, processes, http_client),
    )


@app.command("full-load")
def full_load_command(
    shape: Shape = "load",
    scenario: Scenario = "mixed",
    users: Users = None,
    rate: Rate = None,
    steps: Steps = None,
    duration: Duration = 60,
    spawn_rate: SpawnRate = None,
    warmup: Warmup = None,
    workers: Workers = None,
    worker_cpus: WorkerCpus = None,
    slo: Slo = None,
    reports: Reports = None,
    http_client: HttpClient = "fast",
    ui: Ui = False,
    skip_profile: SkipProfile = False,
    profile_rate: ProfileRate = LoadOptions.profile_rate_hz,
    down_grace: DownGrace = int(LoadOptions.down_grace_s),
    profile: Profile = "small",
    provider: Provider = "auto",
    bcrypt_rounds: BcryptRounds = 12,
    bench_rounds: Annotated[int, _number("benchmark suite rounds")] = 10,
    config: Config = None,
    skip_bench: Annotated[
        bool, typer.Option("--skip-bench", help="no benchmark suite before the load")
    ] = False,
) -> Call:
    """images, stack, seed, load and verdict in one go"""
    load_options = LoadOptions(
        shape=shape,
        scenario=scenario,
        users=users,
        rate=rate,
        steps=steps,
        duration_s=duration,
        spawn_rate=spawn_rate,
        warmup_s=warmup,
        workers=workers,
        slo_file=slo,
        http_client=http_client,
        ui=ui,
        down_grace_s=down_grace,
        worker_cpus=worker_cpus,
        profile=not skip_profile,
        profile_rate_hz=profile_rate,
    )

    return _full_load_call(
        "full-load",
        UpOptions(provider=provider, bcrypt_rounds=bcrypt_rounds, config=config),
        SeedOptions(profile=profile),
        load_options,
        None if skip_bench else BenchOptions(rounds=bench_rounds, warmup=2),
        reports,
    )


def _full_load_call(
    name: str,
    up: UpOptions,
    seed: SeedOptions,
    load: LoadOptions,
    bench: BenchOptions | None,
    reports: Path | None,
) -> Call:
    """Images, stack, seed, (bench,) load and verdict: full-load's pipeline, and capacity's."""
    return Call(name, lambda ctx: commands.full_load(ctx, up, seed, load, bench).exit_code, reports)


@app.command("capacity")
def capacity_command(
    rate: Annotated[
        float,
        typer.Option(
            parser=_rate, metavar="PER_S", help="the first step's rate, and each step's rise"
        ),
    ] = 10.0,
    steps: Annotated[int, _number("steps at most (it stops at the first that breaks)")] = 8,
    duration: Annotated[int, _number("seconds per step")] = 20,
    users: Annotated[
        int | None, _number("the pool of users (default: 2 s of the top rate)")
    ] = None,
    scenario: Scenario = "mixed",
    warmup: Warmup = None,
    spawn_rate: SpawnRate = None,
    workers: Workers = None,
    slo: Slo = None,
    reports: Reports = None,
    skip_profile: SkipProfile = False,
    profile: Profile = "small",
    provider: Provider = "auto",
    bcrypt_rounds: BcryptRounds = 12,
    config: Config = None,
) -> Call:
    """the highest arrival rate whose step holds every SLO (open model, rising steps); exit 0
    with a capacity, 1 when the first step breaks, 3 when the run is INVALID"""
    load_options = LoadOptions(
        shape="capacity",
        scenario=scenario,
        users=users,
        rate=rate,
        steps=steps,
        duration_s=duration,
        spawn_rate=spawn_rate,
        warmup_s=warmup,
        workers=workers,
        slo_file=slo,
        profile=not skip_profile,
    )

    return _full_load_call(
        "capacity",
        UpOptions(provider=provider, bcrypt_rounds=bcrypt_rounds, config=config),
        SeedOptions(profile=profile),
        load_options,
        None,
        reports,
    )


@app.command("compare")
def compare_command(
    base: Annotated[
        str,
        typer.Option(
            "--base",
            metavar="VERSION",
            help="version A: a git revision of the backend, image:NAME, or a project file",
        ),
    ],
    candidate: Annotated[
        str,
        typer.Option(
            "--candidate", metavar="VERSION", help="version B, named the same ways as --base"
        ),
    ],
    repeats: Annotated[
        int, _number("pairs of repetitions (A B, B A, ...), at least 3")
    ] = CompareOptions.repeats,
    users: Annotated[int, _number("simulated users")] = CompareOptions.users,
    duration: Annotated[int, _number("seconds measured per repetition")] = (
        CompareOptions.duration_s
    ),
    warmup: Warmup = None,
    spawn_rate: SpawnRate = None,
    scenario: Scenario = "mixed",
    workers: Workers = None,
    profile: Profile = "small",
    seed: Annotated[int, _number("seed of the generated data", parser=_count)] = 1,
    bench_rounds: Annotated[
        int, _number("benchmark suite rounds per repetition")
    ] = CompareOptions.bench_rounds,
    skip_bench: Annotated[
        bool, typer.Option("--skip-bench", help="no benchmark suite in the repetitions")
    ] = False,
    slo: Slo = None,
    bcrypt_rounds: BcryptRounds = 12,
    base_images: Base = "auto",
    config: Config = None,
    reports: Reports = None,
) -> Call:
    """two versions of the backend, measured in alternation; exit 1 when B is slower beyond
    the SLO file's [compare] tolerance, 3 when the comparison is INVALID"""
    options = CompareOptions(
        base=base,
        candidate=candidate,
        repeats=repeats,
        users=users,
        duration_s=duration,
        warmup_s=warmup,
        spawn_rate=spawn_rate,
        scenario=scenario,
        workers=workers,
        profile=profile,
        seed=seed,
        bench=not skip_bench,
        bench_rounds=bench_rounds,
        slo_file=slo,
        bcrypt_rounds=bcrypt_rounds,
        base_images=base_images,
        config=config,
    )
    return Call("compare", lambda ctx: commands.compare(ctx, options).exit_code, reports)


@app.command("bench")
def bench_command(
    target: Annotated[
        str | None, typer.Option(help="an already-running backend instead of the current stack")
    ] = None,
    db_dsn: Annotated[
        str | None, typer.Option(help="that backend's database, for the two query benchmarks")
    ] = None,
    allow_remote_target: AllowRemote = False,
    rounds: Annotated[int, _number("measured rounds per benchmark")] = 30,
    warmup: Annotated[int, _number("unmeasured rounds first", parser=_count)] = 3,
    targets: Annotated[
        Path | None, typer.Option(help="p95 targets (default harness/bench/targets.toml)")
    ] = None,
    reports: Reports = None,
    save_baseline: Annotated[
        str | None, typer.Option(metavar="NAME", help="save this run as baseline NAME")
    ] = None,
    compare: Annotated[
        str | None, typer.Option(metavar="NAME", help="gate this run against baseline NAME")
    ] = None,
    baselines: Annotated[
        Path | None, typer.Option(help="baseline folder (default .harness/baselines)")
    ] = None,
    bcrypt_rounds: StackBcryptRounds = None,
) -> Call:
    """the benchmark suite against the current stack (or --target)"""
    options = BenchOptions(
        rounds=rounds,
        warmup=warmup,
        targets_file=targets,
        save_baseline=save_baseline,
        compare=compare,
        baselines_dir=baselines,
        bcrypt_rounds=bcrypt_rounds,
    )

    def run(ctx: RunContext) -> int:
        return commands.bench(ctx, options, target, db_dsn, allow_remote_target).exit_code

    return Call("bench", run, reports)


@app.command("report")
def report_command(
    run_dir: Annotated[
        Path, typer.Argument(metavar="RUN_DIR", help="e.g. reports/latest", show_default=False)
    ],
) -> Call:
    """rebuild index.html, summary.md, junit.xml of a run folder"""

    def run(_ctx: RunContext) -> int:
        for path in commands.report(run_dir):
            print(path)
        return 0

    return Call("report", run)


def _rows(name: str) -> Any:
    return _number(f"override the profile's {name}", parser=_count)


@app.command("seed")
def seed_command(
    profile: Profile = "small",
    seed: Annotated[int, _number("same profile + seed = same data", parser=_whole)] = 1,
    reset: Annotated[bool, typer.Option("--reset", help="replace existing data")] = False,
    users: Annotated[int | None, _rows("users")] = None,
    trips: Annotated[int | None, _rows("trips")] = None,
    follows: Annotated[int | None, _rows("follows")] = None,
    likes: Annotated[int | None, _rows("likes")] = None,
    password: Annotated[
        str | None, typer.Option(help="the password every seeded user gets")
    ] = None,
    bcrypt_rounds: StackBcryptRounds = None,
    allow_remote_target: AllowRemote = False,
    config: Config = None,
) -> Call:
    """load production-like data into the current stack's database"""
    options = SeedOptions(
        profile=profile,
        seed=seed,
        reset=reset,
        users=users,
        trips=trips,
        follows=follows,
        likes=likes,
        password=password,
        bcrypt_rounds=bcrypt_rounds,
        allow_remote=allow_remote_target,
        config=config,
    )

    def run(ctx: RunContext) -> int:
        manifest = commands.seed(ctx, options)
        print(
            f"seeded {manifest['total_rows']:,} rows in {manifest['seconds']}s "
            f"({manifest['rows_per_second']:,} rows/s), checksum {str(manifest['checksum'])[:16]}"
        )
        return 0

    return Call("seed", run)


def parse(argv: Sequence[str]) -> Call | int:
    """The command line as a Call, or the exit code when click answered it itself (--help)."""
    try:
        parsed = app(args=list(argv), prog_name="harness", standalone_mode=False)
    except typer.TyperException as exc:  # click's usage errors: unknown command, bad value...
        raise ConfigError(_sentence(exc.format_message()), _help_hint(exc)) from None
    if not isinstance(parsed, Call | int):
        raise AssertionError(f"a command returned {parsed!r}")
    return parsed


def _sentence(message: str) -> str:
    """Click's "No such command 'x'." in the harness's voice: "no such command 'x'"."""
    return (message[:1].lower() + message[1:]).removesuffix(".")


def _help_hint(exc: typer.TyperException) -> str:
    context = getattr(exc, "ctx", None)  # click's UsageError names the command it was in
    command = getattr(context, "command_path", None) or "harness"
    return f"run `{command} --help` for the accepted arguments"


def run(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    call = parse(argv)
    if isinstance(call, int):
        return call
    with Console(sys.stderr, sys.stderr.isatty()) as progress:  # stdout stays parseable
        ctx = RunContext.build(environ, progress, reports=call.reports)
        if call.command in REAPING_COMMANDS:
            commands.reap(ctx)
        if call.command in WATCHED_COMMANDS:
            _Watchdog.process = commands.start_watchdog(ctx)
        return call.run(ctx)


REAPING_COMMANDS = ("up", "down", "status", "load", "bench", "seed", "full-load")
WATCHED_COMMANDS = ("up", "load", "bench", "seed", "full-load", "worker")  # they start things


class _Watchdog:
    """This command's watcher (harness.stack.watchdog), stopped when the command ends itself."""

    process: subprocess.Popen[bytes] | None = None

    @classmethod
    def stop(cls) -> None:
        if cls.process is not None and cls.process.poll() is None:
            cls.process.terminate()  # we cleaned up ourselves; nothing for it to do


class _Signal:
    """The last stop signal received; SIGINT and SIGTERM both unwind as KeyboardInterrupt."""

    received = signal.SIGINT

    @classmethod
    def on_signal(cls, signum: int, _frame: object) -> None:
        cls.received = signal.Signals(signum)
        raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    # Explicit for SIGINT too: a shell starting us in the background leaves SIGINT ignored,
    # and Python then never raises KeyboardInterrupt.
    signal.signal(signal.SIGTERM, _Signal.on_signal)
    signal.signal(signal.SIGINT, _Signal.on_signal)
    try:
        return run(sys.argv[1:] if argv is None else argv, os.environ)
    except HarnessError as exc:
        print(exc.render(), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        name = "terminated" if _Signal.received == signal.SIGTERM else "interrupted"
        print(f"{name}: partial results (if any) are in the run folder", file=sys.stderr)
        return 128 + int(_Signal.received)  # 130 for Ctrl-C, 143 for SIGTERM
    finally:
        _Watchdog.stop()  # every way out that runs this line has done its own clean-up


if __name__ == "__main__":
    sys.exit(main())
