"""Running Locust distributed: a master and N workers, as containers or as local processes.

Results land in the run folder: locust_stats.csv and locust_failures.csv (after the warm-up),
locust_stats_history.csv (the whole run), locust.html, locust.json, the scenario's tally of user
starts (locust_user_starts.json) and the master's and workers' logs.
"""

from __future__ import annotations

import ast
import contextlib
import csv
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests

from harness.console import EndpointLoad, LoadSnapshot, has_load_view, show_load
from harness.docker_api import docker_client
from harness.errors import ConfigError, HarnessError
from harness.labels import ROLE
from harness.owner import Owner, owner_environment

# contravento.py's knobs (its docstring): passed on to the workers, containers included.
SCENARIO_KNOBS = ("CV_WAIT_SCALE", "CV_REGISTER_FRACTION", "CV_NEW_SESSION_WEIGHT")
SCENARIO_FILES = ("contravento.py", "staged_shape.py", "open_model.py")
IMAGE_SCENARIOS = "/locust/scenarios"
LOCAL_SCENARIOS = Path(__file__).resolve().parent / "scenarios"
# Someone has to start `harness worker` on each other machine once the master listens.
REMOTE_WORKERS_WAIT_S = 300
GAVE_UP_ON_WORKERS = "Gave up waiting for workers to connect"
# What Locust logs when a worker (or a lone process) runs out of CPU.
SATURATION_MARKERS = ("exceeded cpu threshold", "CPU usage above 90%")
PROGRESS_EVERY_S = 5.0  # a plain line this often
TICK_EVERY_S = 1.0  # a sink with a load view gets a snapshot this often, and keeps its pace

# What the scenario's master writes after Locust's --csv prefix (contravento.STARTS_SUFFIX).
USER_STARTS = "locust_user_starts.json"
# What the staged shape writes when the measured window begins and ends (staged_shape.py).
WINDOW = "locust_window.json"
# The HDR histograms' figures per stage and over the window (open_model.LATENCY_SUFFIX).
LATENCY = "locust_latency.json"
# A failure Locust keeps as the repr of the exception it wrapped the message in.
WRAPPED = re.compile(r"^\w+\((?P<quoted>'.*'|\".*\")\)$", re.DOTALL)
# The scenario's failure messages start with the status: "403 PRIVATE_PROFILE: ...", "502: ...".
WITH_STATUS = re.compile(r"^(?P<status>[1-5]\d\d)(?::\s*|\s+|$)(?P<rest>.*)$", re.DOTALL)

Progress = Callable[[str], None]
Abort = Callable[[], str | None] | None  # polled while the load runs; a reason stops it
OnWindow = Callable[[dict[str, Any]], None] | None  # called once, as the measured window begins


@dataclass(frozen=True)
class LoadPlan:
    run_dir: Path
    classes: tuple[str, ...]
    shape: dict[str, Any]  # the staged shape's CV_SHAPE (Shape.plan())
    warmup_s: int  # the shortest warm-up; it runs on until the users have started
    total_s: int  # the longest the load can run (the longest warm-up and the window)
    workers: int
    usernames_file: Path | None
    password: str
    http_client: str = "fast"  # fast (FastHttpUser) | stock (HttpUser)
    remote_workers: int = 0  # workers from other machines (`harness worker`), local master only
    worker_cpus: float | None = None  # a CPU quota per worker container (None: no limit)

    def environment(self, usernames_path: str) -> dict[str, str]:
        """The scenario's environment in every Locust process, local or in a container; the
        scenario's own knobs (SCENARIO_KNOBS) go along when the harness has them."""
        knobs = {k: os.environ[k] for k in SCENARIO_KNOBS if k in os.environ}
        return {
            **knobs,
            "CV_SHAPE": json.dumps(self.shape),
            "CV_SEED_PASSWORD": self.password,
            "CV_USERNAMES_FILE": usernames_path if self.usernames_file else "",
            "CV_HTTP_CLIENT": self.http_client,
            # the open model's schedule is shared between the load processes
            "CV_LOAD_PROCESSES": str(self.workers + self.remote_workers),
        }


@dataclass
class LoadOutcome:
    saturated: bool
    interrupted: bool = False
    aborted: str | None = None  # why the load was stopped early (a stack service went down)
    logs: list[Path] = field(default_factory=list)


def locust_args(plan: LoadPlan, scenarios: str, results: str, target: str, ui: bool) -> list[str]:
    files = ",".join(
        f"{scenarios}/{name}" for name in SCENARIO_FILES if not (ui and "shape" in name)
    )
    args = [
        "-f",
        files,
        "--master",
        "--host",
        target,
        "--csv",
        f"{results}/locust",
        "--csv-full-history",
        "--html",
        f"{results}/locust.html",
        "--json-file",
        f"{results}/locust",
        "--loglevel",
        "INFO",
        "--expect-workers",
        str(plan.workers + plan.remote_workers),
        "--expect-workers-max-wait",
        str(REMOTE_WORKERS_WAIT_S if plan.remote_workers else 60),
    ]
    if not ui:
        args += ["--headless", "--only-summary"]
    return [*args, *plan.classes]


def worker_args(scenarios: str, master_host: str, classes: tuple[str, ...]) -> list[str]:
    files = ",".join(f"{scenarios}/{name}" for name in SCENARIO_FILES)
    return ["-f", files, "--worker", "--master-host", master_host, *classes]


def load_snapshot(
    run_dir: Path, elapsed: float, plan: LoadPlan, final: bool = False
) -> LoadSnapshot:
    """The load so far, from the files Locust rewrites as it runs: its stats and their history."""
    rows = _stats_rows(run_dir)
    total = next((row for row in rows if row.get("Name") == "Aggregated"), {})
    return LoadSnapshot(
        phase="measuring" if read_window(run_dir) else "warm-up",
        elapsed_s=elapsed,
        total_s=plan.total_s,
        users=_users_now(run_dir),
        rps=_figure(total.get("Requests/s")) or 0.0,
        p95_ms=_figure(total.get("95%")),
        requests=int(_figure(total.get("Request Count")) or 0),
        failures=int(_figure(total.get("Failure Count")) or 0),
        endpoints=tuple(_endpoint_load(row) for row in rows if row.get("Name") != "Aggregated"),
        final=final,
    )


def _endpoint_load(row: dict[str, str]) -> EndpointLoad:
    return EndpointLoad(
        name=f"{row.get('Type') or ''} {row.get('Name') or ''}".strip(),
        requests=int(_figure(row.get("Request Count")) or 0),
        failures=int(_figure(row.get("Failure Count")) or 0),
        rps=_figure(row.get("Requests/s")) or 0.0,
        p95_ms=_figure(row.get("95%")),
    )


def _stats_rows(run_dir: Path) -> list[dict[str, str]]:
    try:
        with (run_dir / "locust_stats.csv").open() as f:
            return list(csv.DictReader(f))
    except OSError:
        return []


def _users_now(run_dir: Path) -> int | None:
    try:
        lines = (run_dir / "locust_stats_history.csv").read_text().splitlines()
        return int(lines[-1].split(",")[1]) if len(lines) > 1 else 0
    except (OSError, IndexError, ValueError):
        return None


def _figure(text: str | None) -> float | None:
    """A number Locust wrote; None for N/A, a blank, or a line it is still writing."""
    try:
        return float(text) if text else None
    except ValueError:
        return None


def saturated(logs: list[Path]) -> bool:
    return any(
        m in p.read_text(errors="replace") for p in logs if p.exists() for m in SATURATION_MARKERS
    )


def run_in_docker(
    plan: LoadPlan,
    *,
    image: str,
    network: str,
    target: str,
    labels: dict[str, str],
    name_prefix: str,
    progress: Progress,
    ui_port: int | None = None,
    abort: Abort = None,
    on_window: OnWindow = None,
) -> LoadOutcome:
    client = docker_client(timeout=60)
    plan.run_dir.chmod(0o777)  # the load image runs as an unprivileged user
    env = plan.environment("/seed/usernames.txt")
    seed_mount = (
        {str(plan.usernames_file): {"bind": "/seed/usernames.txt", "mode": "ro"}}
        if plan.usernames_file
        else {}
    )
    containers: list[Any] = []
    outcome = LoadOutcome(saturated=False)
    try:
        master = client.containers.run(
            image,
            command=locust_args(plan, IMAGE_SCENARIOS, "/results", target, ui_port is not None),
            name=f"{name_prefix}-master",
            network=network,
            environment=env,
            detach=True,
            volumes={str(plan.run_dir): {"bind": "/results", "mode": "rw"}, **seed_mount},
            labels={**labels, ROLE: "locust-master"},
            ports={"8089/tcp": ("127.0.0.1", ui_port)} if ui_port else {},
        )
        containers.append(master)
        for i in range(plan.workers):
            containers.append(
                client.containers.run(
                    image,
                    command=worker_args(IMAGE_SCENARIOS, f"{name_prefix}-master", plan.classes),
                    name=f"{name_prefix}-worker-{i + 1}",
                    network=network,
                    environment=env,
                    detach=True,
                    volumes=seed_mount,
                    labels={**labels, ROLE: "locust-worker"},
                    nano_cpus=int(plan.worker_cpus * 1e9) if plan.worker_cpus else None,
                )
            )
        _wait(
            lambda: _exited(master), plan, progress, ui_port is not None, abort, outcome, on_window
        )
        if outcome.interrupted or outcome.aborted:
            _stop_master(master)
    finally:
        for i, container in enumerate(containers):
            log = plan.run_dir / ("master.log" if i == 0 else f"worker-{i}.log")
            try:
                log.write_bytes(container.logs())
                outcome.logs.append(log)
                container.remove(force=True)
            except docker.errors.DockerException:
                pass
    outcome.saturated = saturated(outcome.logs)
    return outcome


def _stop_master(master: Any) -> None:
    """SIGINT, as _stop_all gives a local master; SIGKILL if it has not exited within 30 s."""
    try:
        master.kill(signal="SIGINT")
        master.wait(timeout=30)
    except requests.exceptions.RequestException:  # the wait timed out, or it had exited (an
        with contextlib.suppress(docker.errors.DockerException):  # APIError is one too)
            master.kill()


def _exited(container: Any) -> bool:
    container.reload()
    return str(container.status) in ("exited", "dead")


def _wait(
    done: Callable[[], bool],
    plan: LoadPlan,
    progress: Progress,
    ui: bool,
    abort: Abort,
    outcome: LoadOutcome,
    on_window: OnWindow = None,
) -> None:
    """Until the master exits, Ctrl-C (outcome.interrupted) or `abort` gives a reason.

    `on_window` is called with the window file's contents as soon as the window begins.
    """
    began = time.monotonic()
    allowed = plan.total_s + 180 + (REMOTE_WORKERS_WAIT_S if plan.remote_workers else 0)
    deadline = began + allowed
    every = TICK_EVERY_S if has_load_view(progress) else PROGRESS_EVERY_S
    last = 0.0
    try:
        while not done():
            reason = abort() if abort is not None else None
            if reason is not None:
                outcome.aborted = reason
                progress(f"stopping the load: {reason}")
                return
            now = time.monotonic()
            if not ui and now > deadline:
                raise HarnessError(
                    f"the Locust master did not finish within {allowed}s",
                    f"see {plan.run_dir}/master.log",
                )
            if on_window is not None and (window := read_window(plan.run_dir)):
                on_window(window)
                on_window = None
            if not ui and now - last >= every:
                show_load(progress, load_snapshot(plan.run_dir, now - began, plan))
                last = now
            time.sleep(0.5)  # polling the master's state, not waiting for readiness
    except KeyboardInterrupt:
        outcome.interrupted = True
    finally:
        if not ui:  # a live view ends with the load
            elapsed = time.monotonic() - began
            show_load(progress, load_snapshot(plan.run_dir, elapsed, plan, final=True))


def run_locally(
    plan: LoadPlan,
    *,
    target: str,
    progress: Progress,
    ui: bool = False,
    abort: Abort = None,
    master_bind: str = "127.0.0.1",
    master_port: int | None = None,
    on_window: OnWindow = None,
) -> LoadOutcome:
    """Master and workers as processes; with remote workers the master also waits for those."""
    env = {
        **os.environ,
        **plan.environment(str(plan.usernames_file or "")),
        **owner_environment(Owner.current()),  # a reaper stops them if we are killed
    }
    scenarios = str(LOCAL_SCENARIOS)
    master_port = master_port or _free_port()
    args = locust_args(plan, scenarios, str(plan.run_dir), target, ui)
    args += ["--master-bind-host", master_bind, "--master-bind-port", str(master_port)]
    if ui:
        args += ["--web-host", "127.0.0.1", "--web-port", "8089"]
    worker = [*worker_args(scenarios, "127.0.0.1", plan.classes), "--master-port", str(master_port)]
    if plan.remote_workers:
        progress(
            f"the Locust master listens on {master_bind}:{master_port} for this run only; "
            f"waiting up to {REMOTE_WORKERS_WAIT_S}s for {plan.remote_workers} remote worker(s): "
            f"on each machine run `harness worker --master-host <this machine> "
            f"--master-port {master_port}`"
        )
    commands = [args] + [worker] * plan.workers
    logs = [plan.run_dir / "master.log"]
    logs += [plan.run_dir / f"worker-{i + 1}.log" for i in range(plan.workers)]
    procs: list[subprocess.Popen[bytes]] = []
    outcome = LoadOutcome(saturated=False, logs=logs)
    try:
        for command, log in zip(commands, logs, strict=True):
            with log.open("wb") as sink:
                procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "locust", *command],
                        env=env,
                        stdout=sink,
                        stderr=subprocess.STDOUT,
                        # Out of the terminal's process group: a Ctrl-C reaches the harness
                        # alone, which stops the master first (see _stop_all).
                        process_group=0,
                    )
                )
        _wait(lambda: procs[0].poll() is not None, plan, progress, ui, abort, outcome, on_window)
    finally:
        _stop_all(procs)
    if plan.remote_workers and GAVE_UP_ON_WORKERS in logs[0].read_text(errors="replace"):
        raise HarnessError(
            f"not all {plan.remote_workers} remote worker(s) connected within "
            f"{REMOTE_WORKERS_WAIT_S}s, so the master did not start the load",
            f"run `harness worker --master-host <this machine> --master-port {master_port}` on "
            "each other machine while the master waits, and check that they can reach it",
        )
    outcome.saturated = saturated(logs)
    return outcome


def _stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    """Stop the master, then what still runs; SIGKILL what is left after 30 s each.

    The master first: it tells its workers to quit, each sends the samples of the last
    report interval (3 s) it has not sent yet, and the master writes its results with them.
    A worker stopped at the same time takes those seconds with it. The master gets SIGINT:
    a headless master running a load shape handles SIGTERM only once its shape has ended,
    and until then dies of it without writing anything (Locust 2.47).
    """
    for group, sig in ((procs[:1], signal.SIGINT), (procs[1:], signal.SIGTERM)):
        for proc in group:
            if proc.poll() is None:
                proc.send_signal(sig)
        for proc in group:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def read_endpoints(run_dir: Path) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Per-endpoint results (after the warm-up) from Locust's stats CSV, and the aggregate."""
    path = run_dir / "locust_stats.csv"
    if not path.exists():
        raise HarnessError(
            "the load run produced no statistics",
            f"see the Locust logs in {run_dir} (master.log, worker-*.log)",
        )
    endpoints: list[dict[str, Any]] = []
    aggregate = None
    with path.open() as f:
        for row in csv.DictReader(f):
            requests = int(row["Request Count"])
            failures = int(row["Failure Count"])
            entry = {
                "method": row["Type"] or "ALL",
                "name": row["Name"],
                "requests": requests,
                "failures": failures,
                "failure_rate": failures / requests if requests else 0.0,
                "p50_ms": _num(row["50%"]),
                "p95_ms": _num(row["95%"]),
                "p99_ms": _num(row["99%"]),
                "avg_ms": round(float(row["Average Response Time"]), 1),
                "max_ms": _num(row["Max Response Time"]),
                "min_ms": _num(row.get("Min Response Time") or "N/A"),
                "rps": round(float(row["Requests/s"]), 2),
            }
            if row["Name"] == "Aggregated":
                aggregate = entry
            else:
                endpoints.append(entry)
    window = (read_latency(run_dir) or {}).get("window") or {}
    exact = window.get("endpoints") or {}
    for entry in endpoints:
        _exact_figures(entry, exact.get(f"{entry['method']} {entry['name']}"))
    if aggregate is not None:
        _exact_figures(aggregate, window.get("all"))
    return endpoints, aggregate


def _exact_figures(entry: dict[str, Any], hdr: dict[str, Any] | None) -> None:
    """The HDR histogram's percentiles, mean, min and max in place of Locust's rounded ones."""
    if not hdr or not hdr.get("count"):
        return
    for ours, theirs in (
        ("p50_ms", "p50"),
        ("p90_ms", "p90"),
        ("p95_ms", "p95"),
        ("p99_ms", "p99"),
        ("p999_ms", "p999"),
        ("max_ms", "max"),
        ("min_ms", "min"),
        ("avg_ms", "mean"),
    ):
        if hdr.get(theirs) is not None:
            entry[ours] = hdr[theirs]
    entry["percentiles"] = "hdr"


def latency_block(run_dir: Path) -> dict[str, Any] | None:
    """results.json's "latency": the model, the window's arrivals and each stage's figures."""
    data = read_latency(run_dir)
    if data is None:
        return None
    return {
        "model": data.get("model"),
        "significant_figures": data.get("significant_figures"),
        "arrivals": (data.get("window") or {}).get("arrivals"),
        "stages": data["stages"],
    }


def read_latency(run_dir: Path) -> dict[str, Any] | None:
    """locust_latency.json (open_model.py's histograms' figures), or None without one."""
    try:
        data = json.loads((run_dir / LATENCY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_percentiles(run_dir: Path) -> dict[str, dict[str, float]]:
    """Per endpoint ("METHOD name"; "" for the aggregate): Locust's percentile columns of the
    stats CSV as quantile -> ms ("0.5" -> 42.0), the ones with a figure."""
    out: dict[str, dict[str, float]] = {}
    try:
        with (run_dir / "locust_stats.csv").open(newline="") as f:
            for row in csv.DictReader(f):
                key = "" if row["Name"] == "Aggregated" else f"{row['Type']} {row['Name']}"
                found = {}
                for column, text in row.items():
                    if column.endswith("%") and (figure := _figure(text)) is not None:
                        found[f"{float(column[:-1]) / 100:g}"] = figure
                out[key] = found
    except (OSError, csv.Error, KeyError):
        return {}
    return out


def read_users(run_dir: Path, planned: int | None) -> dict[str, Any]:
    """Users the shape planned against those the load reached (results.json's "users").

    started / start_failures / first_start_error: the scenario's tally of user starts over
    the whole run (None and 0 without one, e.g. a run of an older scenario). reached: the
    most users Locust's history shows in the measured window, but never more than started: the
    history counts a user that failed to start until its worker next reports (every few
    seconds), and a run without a warm-up would count them all at the spawn.
    """
    starts = _user_starts(run_dir)
    started = starts.get("started") if starts else None
    started = started if isinstance(started, int) and not isinstance(started, bool) else None
    peak = _peak_users(run_dir)
    if peak is not None and started is not None:
        peak = min(peak, started)
    return {
        "planned": planned,
        "reached": peak,
        "started": started,
        "start_failures": int(starts.get("failed") or 0) if starts else 0,
        "first_start_error": _start_error(starts.get("first_error")) if starts else None,
    }


def _peak_users(run_dir: Path) -> int | None:
    try:
        with (run_dir / "locust_stats_history.csv").open(newline="", errors="replace") as f:
            rows = [r for r in csv.DictReader(f) if r.get("Name") == "Aggregated"]
    except (OSError, csv.Error):
        return None
    samples = [
        (t, users)
        for t, users in ((_figure(r.get("Timestamp")), _figure(r.get("User Count"))) for r in rows)
        if t is not None and users is not None
    ]
    if not samples:
        return None
    window = read_window(run_dir)
    if window is None:  # the load ended before its window began (it was stopped early)
        return max((int(users) for _, users in samples), default=0)
    start = float(window["start"])
    measured = [int(users) for t, users in samples if t >= start - 1]  # whole-second stamps
    return max(measured) if measured else None


def read_history(run_dir: Path) -> list[tuple[float, int, float, float | None, int | None]]:
    """Locust's whole-load history, a row a second: (time, users, rps, p95 ms, requests).

    requests: counted since the statistics were last reset (the window's start); None if absent.
    """
    try:
        with (run_dir / "locust_stats_history.csv").open(newline="", errors="replace") as f:
            rows = [r for r in csv.DictReader(f) if r.get("Name") == "Aggregated"]
    except (OSError, csv.Error):
        return []
    history = []
    for r in rows:
        t, users, rps = (_figure(r.get(k)) for k in ("Timestamp", "User Count", "Requests/s"))
        if t is not None and users is not None and rps is not None:
            count = _figure(r.get("Total Request Count"))
            history.append(
                (t, int(users), rps, _figure(r.get("95%")), None if count is None else int(count))
            )
    return history


def read_window(run_dir: Path) -> dict[str, Any] | None:
    """The staged shape's window file: when the measured window began (and ended); None before."""
    try:
        data = json.loads((run_dir / WINDOW).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("start"), int | float):
        return None
    return data


def _user_starts(run_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((run_dir / USER_STARTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _start_error(error: Any) -> dict[str, Any] | None:
    if not isinstance(error, dict):
        return None
    status = error.get("status")
    status = status if isinstance(status, int) and not isinstance(status, bool) else None
    message = str(error.get("message") or "")
    said, rest = failure_reason(message)
    return {
        "user_class": str(error.get("user_class") or "") or None,
        "endpoint": str(error.get("endpoint") or "?"),
        "status": status,
        "message": rest if said is not None and said == status else message,
    }


def read_failures(run_dir: Path) -> list[dict[str, Any]] | None:
    """Locust's failures (after the warm-up) grouped by endpoint, status and message, most first.

    None when the run wrote no locust_failures.csv.
    """
    try:
        with (run_dir / "locust_failures.csv").open(newline="", errors="replace") as f:
            rows = list(csv.DictReader(f))
    except (OSError, csv.Error):
        return None
    counts: dict[tuple[str, str, int | None, str], int] = {}
    for row in rows:
        occurrences = int(_figure(row.get("Occurrences")) or 0)
        if not occurrences:
            continue
        status, message = failure_reason(row.get("Error") or "")
        key = (row.get("Method") or "", row.get("Name") or "", status, message)
        counts[key] = counts.get(key, 0) + occurrences
    groups = [
        {"method": method, "name": name, "status": status, "message": message, "count": count}
        for (method, name, status, message), count in counts.items()
    ]
    return sorted(groups, key=lambda g: (-g["count"], g["method"], g["name"], g["message"]))


def failure_reason(error: str) -> tuple[int | None, str]:
    """The HTTP status and the message of one of Locust's failure texts.

    "CatchResponseError('403 PRIVATE_PROFILE: Private')" -> (403, "PRIVATE_PROFILE: Private");
    an error with no status of its own (a refused connection) -> (None, the text).
    """
    text = error.strip()
    wrapped = WRAPPED.fullmatch(text)
    if wrapped:
        with contextlib.suppress(ValueError, SyntaxError):  # not a plain literal: keep it whole
            text = str(ast.literal_eval(wrapped["quoted"]))
    status = WITH_STATUS.fullmatch(text)
    if status is None:
        return None, text
    return int(status["status"]), status["rest"].strip()


def _num(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0  # Locust writes N/A for endpoints without samples


def run_remote_workers(
    master_host: str, master_port: int, processes: int, http_client: str, progress: Progress
) -> int:
    """`harness worker`: Locust workers on this machine for a master on another one.

    They run until that master's run ends (it tells them to quit); the master decides the
    target, the users and the duration. Returns the workers' worst exit code.
    """
    if not master_host.strip():
        raise ConfigError(
            "no master host given", "name the machine running `harness load --remote-workers N`"
        )
    try:
        socket.create_connection((master_host, master_port), timeout=5).close()
    except OSError as exc:
        raise ConfigError(
            f"cannot reach a Locust master at {master_host}:{master_port} ({exc})",
            "start the load first on the master's machine (`harness load --remote-workers N "
            "--master-bind 0.0.0.0`), then use the address and port it prints; check firewalls",
        ) from None
    env = {**os.environ, "CV_HTTP_CLIENT": http_client, **owner_environment(Owner.current())}
    command = [
        sys.executable,
        "-m",
        "locust",
        *worker_args(str(LOCAL_SCENARIOS), master_host, ()),
        "--master-port",
        str(master_port),
    ]
    progress(f"starting {processes} Locust worker(s) for the master at {master_host}:{master_port}")
    procs = [subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL) for _ in range(processes)]
    try:
        codes = [proc.wait() for proc in procs]
    finally:
        _stop_all(procs)
    progress(f"the master ended the run; worker exit codes: {codes}")
    return max(codes)
