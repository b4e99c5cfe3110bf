"""The `harness` command line: parses arguments, calls the orchestrator, maps errors to exits."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

from docker import DockerClient

from harness import stack
from harness.bench_runs import BenchOptions, check_bench_options, run_bench
from harness.errors import ConfigError, HarnessError
from harness.images import BASE_MODES, build_images, tag_latest
from harness.labels import Owner
from harness.load.runner import run_remote_workers
from harness.load.shapes import SCENARIOS, SHAPES
from harness.monitor.services import DOWN_GRACE_S
from harness.pipeline import REPO_ROOT, SeedOptions, UpOptions, bring_up, seed_current
from harness.report import build_report
from harness.runs import LoadOptions, full_load, run_load, running_stack
from harness.seed import PROFILES
from harness.stack import watchdog
from harness.stack.docker_provider import docker_client


def stderr_progress(message: str) -> None:
    """Progress goes to stderr so stdout stays parseable (status --json, image tags)."""
    print(message, file=sys.stderr, flush=True)


class _Parser(argparse.ArgumentParser):
    """argparse that raises a ConfigError (message + hint, exit 2) instead of printing usage."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(message, f"run `{self.prog} --help` for the accepted arguments")


def _at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number no smaller than minimum."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} must be {minimum} or more")
        return value

    return parse


_positive = _at_least(1)
_count = _at_least(0)


def _port(text: str) -> int:
    value = _positive(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port (1-65535)")
    return value


def _load_arguments(p: argparse.ArgumentParser, default_duration: int | None = None) -> None:
    p.add_argument("--shape", choices=sorted(SHAPES), default="load")
    p.add_argument("--scenario", choices=sorted(SCENARIOS), default="mixed")
    p.add_argument("--users", type=_positive)
    p.add_argument("--duration", type=_positive, default=default_duration, help="seconds measured")
    p.add_argument("--spawn-rate", type=_positive)
    p.add_argument("--warmup", type=_count, help="seconds of warm-up, excluded from the verdict")
    p.add_argument("--workers", type=_positive, help="Locust workers (default: one per core)")
    p.add_argument(
        "--slo", type=Path, help="SLO targets (TOML); default harness/verdict/default-slo.toml"
    )
    p.add_argument("--reports", type=Path, help="where run folders go (default ./reports)")
    p.add_argument("--http-client", choices=("fast", "stock"), default="fast")
    p.add_argument("--ui", action="store_true", help="Locust UI on 127.0.0.1:8089; Ctrl-C ends it")
    p.add_argument(
        "--down-grace",
        type=_positive,
        default=int(DOWN_GRACE_S),
        metavar="SECONDS",
        help="stop the load once a stack service has been down this long (default 20)",
    )


def _load_options(args: argparse.Namespace) -> LoadOptions:
    return LoadOptions(
        shape=args.shape,
        scenario=args.scenario,
        users=args.users,
        duration_s=args.duration,
        spawn_rate=args.spawn_rate,
        warmup_s=args.warmup,
        workers=args.workers,
        slo_file=args.slo,
        reports_dir=args.reports,
        http_client=args.http_client,
        ui=args.ui,
        down_grace_s=args.down_grace,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="harness", description="ContraVento performance harness")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    images = sub.add_parser("images", help="build the backend, locust and postgres images")
    images.add_argument("--base", choices=BASE_MODES, default="auto")
    upp = sub.add_parser("up", help="start (or reuse) an isolated stack")
    upp.add_argument("--provider", choices=stack.PROVIDERS, default="auto")
    upp.add_argument("--target", help="use an already-running backend at this URL")
    upp.add_argument("--db-dsn", help="the external stack's database DSN (optional)")
    upp.add_argument(
        "--allow-remote-target",
        action="store_true",
        help="allow a target that is not on this machine",
    )
    upp.add_argument("--base", choices=BASE_MODES, default="auto")
    upp.add_argument("--bcrypt-rounds", type=_positive, default=12)
    upp.add_argument("--backend-workers", type=_positive, default=1)
    upp.add_argument("--port", type=_positive, help="fixed 127.0.0.1 port for the backend")
    sub.add_parser("down", help="stop the current stack and remove its containers")
    status = sub.add_parser("status", help="show the current stack")
    status.add_argument("--json", action="store_true")
    sub.add_parser("clean", help="remove what crashed runs left behind")
    ld = sub.add_parser("load", help="distributed Locust against the current stack, with a verdict")
    _load_arguments(ld)
    ld.add_argument(
        "--remote-workers",
        type=_count,
        default=0,
        help="also wait for this many workers from other machines (`harness worker`)",
    )
    ld.add_argument(
        "--master-bind",
        default="127.0.0.1",
        help="address the master listens on for remote workers, for this run only",
    )
    ld.add_argument("--master-port", type=_port, help="the master's port (default: a free one)")
    wk = sub.add_parser("worker", help="Locust workers here for a master on another machine")
    wk.add_argument("--master-host", required=True, help="the machine running `harness load`")
    wk.add_argument("--master-port", type=_port, default=5557)
    wk.add_argument("--processes", type=_positive, default=os.cpu_count() or 1)
    wk.add_argument("--http-client", choices=("fast", "stock"), default="fast")
    fl = sub.add_parser("full-load", help="images, stack, seed, load and verdict in one go")
    _load_arguments(fl, default_duration=60)
    fl.add_argument("--profile", choices=sorted(PROFILES), default="small", help="seed profile")
    fl.add_argument("--provider", choices=stack.PROVIDERS, default="auto")
    fl.add_argument("--bcrypt-rounds", type=_positive, default=12)
    fl.add_argument("--bench-rounds", type=_positive, default=10, help="benchmark suite rounds")
    fl.add_argument("--skip-bench", action="store_true", help="no benchmark suite before the load")
    bn = sub.add_parser("bench", help="the benchmark suite against the current stack (or --target)")
    bn.add_argument("--target", help="an already-running backend instead of the current stack")
    bn.add_argument("--db-dsn", help="that backend's database, for the two query benchmarks")
    bn.add_argument("--allow-remote-target", action="store_true")
    bn.add_argument("--rounds", type=_positive, default=30, help="measured rounds per benchmark")
    bn.add_argument("--warmup", type=_count, default=3, help="unmeasured rounds first")
    bn.add_argument("--targets", type=Path, help="p95 targets (default harness/bench/targets.toml)")
    bn.add_argument("--reports", type=Path, help="where run folders go (default ./reports)")
    bn.add_argument("--save-baseline", metavar="NAME", help="save this run as baseline NAME")
    bn.add_argument("--compare", metavar="NAME", help="gate this run against baseline NAME")
    bn.add_argument("--baselines", type=Path, help="baseline folder (default .harness/baselines)")
    bn.add_argument("--bcrypt-rounds", type=_positive, help="default: the stack's backend rounds")
    rp = sub.add_parser("report", help="rebuild index.html, summary.md, junit.xml of a run folder")
    rp.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="e.g. reports/latest")
    sd = sub.add_parser("seed", help="load production-like data into the current stack's database")
    sd.add_argument("--profile", choices=sorted(PROFILES), default="small")
    sd.add_argument("--seed", type=int, default=1, help="same profile + seed = same data")
    sd.add_argument("--reset", action="store_true", help="replace existing data")
    for name in ("users", "trips", "follows", "likes"):
        sd.add_argument(f"--{name}", type=_count, help=f"override the profile's {name}")
    sd.add_argument("--password", help="the password every seeded user gets")
    sd.add_argument("--bcrypt-rounds", type=_positive, help="default: the stack's backend rounds")
    sd.add_argument("--allow-remote-target", action="store_true")
    return parser


def run(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    args = build_parser().parse_args(argv)
    home = stack.harness_home(environ, REPO_ROOT)
    if args.command in REAPING_COMMANDS:
        _reap(home)
    if args.command in WATCHED_COMMANDS:
        _Watchdog.start(home)
    if args.command == "images":
        built = build_images(REPO_ROOT, base=args.base, progress=stderr_progress)
        aliases = tag_latest(built)
        for name, tag, alias in zip(
            ("backend", "locust", "postgres"), built.tags, aliases, strict=True
        ):
            print(f"{name:<9} {tag}  (also {alias}, for compose/)")
        return 0
    if args.command == "up":
        options = UpOptions(
            provider=args.provider,
            target=args.target,
            db_dsn=args.db_dsn,
            allow_remote=args.allow_remote_target,
            base=args.base,
            bcrypt_rounds=args.bcrypt_rounds,
            backend_workers=args.backend_workers,
            port=args.port,
        )
        state, reused = bring_up(options, environ, stderr_progress)
        verb = "reusing the running" if reused else "started a"
        print(f"{verb} {state.provider} stack {state.stack_id}")
        print(f"  backend:   {state.backend_url}")
        print(f"  database:  {state.db_dsn or '(none given)'}")
        print(f"  folder:    {state.folder}")
        print("  tear down: make harness-down   (or: harness down)")
        return 0
    if args.command == "down":
        stopped = stack.down(home)
        print(
            f"stopped {stopped.provider} stack {stopped.stack_id}" if stopped else "no stack is up"
        )
        return 0
    if args.command == "status":
        return _status(home, args.json)
    if args.command == "load":
        load_options = replace(
            _load_options(args),
            remote_workers=args.remote_workers,
            master_bind=args.master_bind,
            master_port=args.master_port,
        )
        return run_load(running_stack(environ), load_options, environ, stderr_progress)
    if args.command == "worker":
        return run_remote_workers(
            args.master_host, args.master_port, args.processes, args.http_client, stderr_progress
        )
    if args.command == "bench":
        bench_options = BenchOptions(
            rounds=args.rounds,
            warmup=args.warmup,
            targets_file=args.targets,
            reports_dir=args.reports,
            save_baseline=args.save_baseline,
            compare=args.compare,
            baselines_dir=args.baselines,
            bcrypt_rounds=args.bcrypt_rounds,
        )
        check_bench_options(bench_options, environ)  # bad input fails before any traffic
        if args.target is not None:
            state = stack.attach_external(
                "external", home, args.target, args.db_dsn, args.allow_remote_target
            )
        elif args.db_dsn is not None or args.allow_remote_target:
            raise ConfigError(
                "--db-dsn and --allow-remote-target only go with --target",
                "without --target the suite uses the current stack and its database",
            )
        else:
            state = running_stack(environ)
        return run_bench(state, bench_options, environ, stderr_progress)
    if args.command == "report":
        for path in build_report(args.run_dir):
            print(path)
        return 0
    if args.command == "full-load":
        return full_load(
            UpOptions(provider=args.provider, bcrypt_rounds=args.bcrypt_rounds),
            SeedOptions(profile=args.profile),
            _load_options(args),
            environ,
            stderr_progress,
            bench=None if args.skip_bench else BenchOptions(rounds=args.bench_rounds, warmup=2),
        )
    if args.command == "seed":
        seed_options = SeedOptions(
            profile=args.profile,
            seed=args.seed,
            reset=args.reset,
            users=args.users,
            trips=args.trips,
            follows=args.follows,
            likes=args.likes,
            password=args.password,
            bcrypt_rounds=args.bcrypt_rounds,
            allow_remote=args.allow_remote_target,
        )
        manifest = seed_current(seed_options, environ, stderr_progress)
        print(
            f"seeded {manifest['total_rows']:,} rows in {manifest['seconds']}s "
            f"({manifest['rows_per_second']:,} rows/s), checksum {str(manifest['checksum'])[:16]}"
        )
        return 0
    if args.command == "clean":
        report = stack.clean(home, _client_or_none())
        if report.total:
            print(f"removed {report.describe()} of {len(report.stacks)} orphaned stack(s)")
        else:
            print("nothing to clean")
        return 0
    raise AssertionError(args.command)


def _status(home: Path, as_json: bool) -> int:
    state = stack.current(home)
    alive = state is not None and stack.is_alive(state)
    if as_json:
        body = {
            "running": alive,
            **(
                state.public()
                if state
                else {"provider": None, "backend_url": None, "db_dsn": None, "containers": []}
            ),
        }
        print(json.dumps(body, indent=2))
    elif state is None:
        print("no stack is up (start one with `make harness-up`)")
    else:
        print(f"{state.provider} stack {state.stack_id}: {'running' if alive else 'NOT running'}")
        print(f"  backend:  {state.backend_url}\n  database: {state.db_dsn}")
        for c in state.containers:
            print(f"  {c['role']:<9} {c['name']} ({c['id']})")
    return 0


REAPING_COMMANDS = ("up", "down", "status", "load", "bench", "seed", "full-load")
WATCHED_COMMANDS = ("up", "load", "bench", "seed", "full-load", "worker")  # they start things


class _Watchdog:
    """This command's watcher (harness.stack.watchdog), stopped when the command ends itself."""

    process: subprocess.Popen[bytes] | None = None

    @classmethod
    def start(cls, home: Path) -> None:
        cls.process = watchdog.spawn(home, Owner.current())

    @classmethod
    def stop(cls) -> None:
        if cls.process is not None and cls.process.poll() is None:
            cls.process.terminate()  # we cleaned up ourselves; nothing for it to do


def _reap(home: Path) -> None:
    """Every command that touches stacks first removes what a killed run left behind."""
    found = stack.clean(home, _client_or_none())
    if found.total:
        stderr_progress(f"removed what killed runs left: {found.describe()}")


def _client_or_none() -> DockerClient | None:
    try:
        return docker_client()
    except HarnessError:
        return None


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
