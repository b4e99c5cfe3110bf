"""Choosing the process to sample, from a /proc tree, and py-spy's failures read."""

from __future__ import annotations

import os
from pathlib import Path

from harness.profile.profiler import PROFILING_OFF, Profiler, not_ours
from harness.profile.pyspy import Sampling, first_error, not_recorded
from harness.profile.summary import ProfileSummary, read_summary
from harness.profile.targets import Proc, no_python_reason, python_root, read_processes

PY = "/usr/local/bin/python3.11"


def proc(pid: int, ppid: int, exe: str, *argv: str, started: int | None = None) -> Proc:
    return Proc(pid, ppid, exe, argv, uid=10001, started=pid if started is None else started)


def test_a_python_pid_1_is_the_target() -> None:
    procs = [proc(1, 0, PY, "python", "-m", "backend"), proc(7, 1, PY, "python", "-c", "spawn")]
    assert python_root(procs) == procs[0]  # its workers are followed with --subprocesses


def test_a_shell_or_init_at_pid_1_is_looked_through() -> None:
    procs = [
        proc(1, 0, "/usr/bin/tini", "tini", "--", "sh", "-c", "uvicorn app:app"),
        proc(6, 1, "/bin/dash", "sh", "-c", "uvicorn app:app"),
        proc(9, 6, PY, "/opt/venv/bin/python", "/opt/venv/bin/uvicorn", "app:app"),
    ]
    assert python_root(procs) == procs[2]


def test_the_oldest_root_wins_over_a_health_check_and_the_sidecar_itself() -> None:
    procs = [
        proc(1, 0, PY, "python", "-m", "backend", started=100),
        proc(40, 0, PY, "python", "-c", "urlopen(health)", started=900),
        proc(41, 0, PY, "python", "-c", "<sidecar>", started=50),
    ]
    assert python_root(procs, exclude=41) == procs[0]


def test_within_restricts_to_a_subtree() -> None:
    procs = [
        proc(100, 1, PY, "python", "-m", "harness"),
        proc(200, 100, "/bin/bash", "bash", "-c", "python -m backend"),
        proc(201, 200, PY, "python", "-m", "backend"),
        proc(300, 100, PY, "python", "locust"),
    ]
    assert python_root(procs, within=200) == procs[2]
    assert python_root(procs, within=201) == procs[2]


def test_nothing_python_says_what_runs_instead() -> None:
    procs = [proc(1, 0, "/usr/sbin/nginx", "nginx", "-g", "daemon off;")]
    assert python_root(procs) is None
    assert no_python_reason(procs) == (
        "the backend is not a Python process; it runs pid 1 `nginx -g daemon off;` (uid 10001)"
    )


def test_an_unreadable_exe_falls_back_to_argv() -> None:
    assert proc(5, 1, "", "python3", "x.py").python
    assert not proc(5, 1, "", "node", "python.js").python
    assert proc(5, 1, "/usr/bin/python3.13t").python


def test_read_processes_sees_this_process() -> None:
    mine = next(p for p in read_processes() if p.pid == os.getpid())
    assert mine.python and mine.ppid == os.getppid() and mine.uid == os.getuid()
    assert not mine.zombie and mine.started > 0


def test_py_spy_errors_are_read() -> None:
    denied = (
        "Error: Failed to get process executable name. Check that the process is running.\n\n"
        "Caused by:\n    0: Permission denied (os error 13)\n"
    )
    skipped = not_recorded(denied, "use root")
    assert skipped.status == "skipped" and skipped.hint == "use root"
    assert skipped.reason.endswith("(permission denied)")
    # as py-spy 0.4 says it to a user the kernel refuses (Yama, another user's process)
    sudo = "Permission Denied: Try running again with elevated permissions by going 'sudo'\n"
    assert not_recorded(sudo, "use root").status == "skipped"
    failed = not_recorded("Error: Failed to find python version from target process\n", "x")
    assert (failed.status, failed.reason) == (
        "failed",
        "py-spy: Failed to find python version from target process",
    )
    assert first_error("") == "py-spy ended without output"


def test_record_options() -> None:
    options = Sampling(rate_hz=25).record_options("/tmp/out.txt")
    assert options[options.index("--rate") + 1] == "25"
    assert {"--subprocesses", "--function", "raw"} <= set(options)
    assert "--idle" not in options and "--nonblocking" not in options
    assert "--nonblocking" in Sampling(nonblocking=True).record_options("x")


def test_a_skipped_profile_is_written_and_read_back(tmp_path: Path) -> None:
    returned = Profiler(not_ours("http://127.0.0.1:9000"), tmp_path).start().stop()
    summary = read_summary(tmp_path)
    assert summary == returned
    assert summary is not None and summary.status == "skipped"
    assert summary.reason.startswith("the backend (http://127.0.0.1:9000) was not started by")
    assert summary.hint is not None and "harness up" in summary.hint
    assert (summary.samples, summary.top, summary.flame) == (0, [], [])
    assert read_summary(tmp_path / "none") is None


def test_profiling_off_is_a_skip(tmp_path: Path) -> None:
    with Profiler(PROFILING_OFF, tmp_path) as profiler:
        pass
    assert profiler.stop() == ProfileSummary(status="skipped", reason=PROFILING_OFF.reason)
