"""The profiler on processes of this machine: a Python one burning CPU, and one that is not Python."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.profile import DEFAULT_RATE_HZ, LocalTarget, Profiler, Sampling
from harness.profile.local import denied_hint, find_py_spy

pytestmark = pytest.mark.slow

# A parent and one child (as uvicorn's workers are), both spending their time in burn_here.
BURNER = textwrap.dedent(
    """
    import subprocess, sys, time

    def burn_here():
        total = 0
        for i in range(20000):
            total += i * i
        return total

    def idle_a_little():
        time.sleep(0.001)

    if __name__ == "__main__":
        if sys.argv[1:] == ["parent"]:
            child = subprocess.Popen([sys.executable, __file__, "child"])
        end = time.monotonic() + 60
        while time.monotonic() < end:
            burn_here()
            idle_a_little()
    """
)
BURN_LINE = BURNER.splitlines().index("def burn_here():") + 1


@pytest.fixture
def burner(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    script = tmp_path / "burner.py"
    script.write_text(BURNER)
    process = subprocess.Popen([sys.executable, str(script), "parent"], start_new_session=True)
    time.sleep(1)  # the interpreter and its child are up
    yield process
    os.killpg(process.pid, signal.SIGKILL)  # the parent and its child: their own group
    process.wait()


@pytest.mark.skipif(find_py_spy() is None, reason="py-spy is not installed (requirements/dev.lock)")
def test_the_hot_function_tops_the_profile(burner: subprocess.Popen[bytes], tmp_path: Path) -> None:
    out = tmp_path / "profile"
    profiler = Profiler(LocalTarget(burner.pid), out, sampling=Sampling(rate_hz=50)).start()
    time.sleep(3)  # the measured window
    summary = profiler.stop()
    assert summary.status == "ok", summary.reason
    assert summary.target is not None and f"pid {burner.pid}" in summary.target
    assert summary.processes == 2  # the child was followed
    assert summary.rate_hz == 50 and summary.duration_s is not None and summary.duration_s >= 2.5
    # two busy processes at 50 Hz for ~3 s; a loaded machine gives fewer
    assert summary.samples >= 60
    top = summary.top[0]
    assert (top.function, top.file, top.line) == ("burn_here", "burner.py", BURN_LINE)
    assert top.own_share > 0.5
    assert summary.flame[0].label == "all" and summary.flame[0].value == summary.samples
    assert any(n.label == f"burn_here (burner.py:{BURN_LINE})" for n in summary.flame)
    saved = json.loads((out / "summary.json").read_text())
    assert saved["status"] == "ok" and saved["top"][0]["function"] == "burn_here"
    assert f"burn_here (burner.py:{BURN_LINE})" in (out / "backend.txt").read_text()


def test_a_process_that_is_not_python_is_skipped(tmp_path: Path) -> None:
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        summary = Profiler(LocalTarget(sleeper.pid), tmp_path).start().stop()
    finally:
        sleeper.kill()
        sleeper.wait()
    assert summary.status == "skipped"
    assert summary.reason.startswith("the backend is not a Python process; it runs pid")
    assert "`sleep 30`" in summary.reason
    assert json.loads((tmp_path / "summary.json").read_text())["status"] == "skipped"
    assert not (tmp_path / "backend.txt").exists()


def test_a_process_that_is_gone_fails(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    summary = Profiler(LocalTarget(gone.pid), tmp_path).start().stop()
    assert (summary.status, summary.reason) == ("failed", f"the backend process {gone.pid} is gone")


def test_the_hint_names_a_restrictive_ptrace_scope(tmp_path: Path) -> None:
    scope = tmp_path / "ptrace_scope"
    scope.write_text("1\n")
    assert "kernel.yama.ptrace_scope is 1" in denied_hint(scope)
    assert "ptrace" in denied_hint(tmp_path / "absent")


@pytest.mark.skipif(find_py_spy() is None, reason="py-spy is not installed (requirements/dev.lock)")
def test_a_py_spy_error_is_a_failure_with_its_first_line(tmp_path: Path) -> None:
    impostor = tmp_path / "python"  # named like Python, so chosen; py-spy finds no interpreter
    shutil.copy(shutil.which("sleep") or "/bin/sleep", impostor)
    process = subprocess.Popen([str(impostor), "30"])
    try:
        summary = Profiler(LocalTarget(process.pid), tmp_path / "profile").start().stop()
    finally:
        process.kill()
        process.wait()
    assert (summary.status, summary.reason) == (
        "failed",
        f"py-spy: No python processes found in process {process.pid} or any of its subprocesses",
    )
    assert summary.target is None and summary.rate_hz == DEFAULT_RATE_HZ
