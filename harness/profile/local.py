"""py-spy as a child process of the harness, sampling a backend process on this machine."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

from harness.owner import Owner, owner_environment
from harness.profile.pyspy import (
    START_TIMEOUT_S,
    STOP_TIMEOUT_S,
    NotRecorded,
    Sampling,
    not_recorded,
)
from harness.profile.targets import SAMPLING_LINE, no_python_reason, python_root, read_processes

PTRACE_SCOPE = Path("/proc/sys/kernel/yama/ptrace_scope")


def find_py_spy() -> str | None:
    """py-spy next to this interpreter (the harness's venv), else on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.is_file() else shutil.which("py-spy")


def denied_hint(scope_file: Path = PTRACE_SCOPE) -> str:
    """What lets py-spy attach to a process that is not its own child."""
    try:
        scope = scope_file.read_text().strip()
    except OSError:
        scope = None
    if scope is not None and scope != "0":
        return (
            f"kernel.yama.ptrace_scope is {scope}: only root may attach to another process; "
            "run `sudo sysctl kernel.yama.ptrace_scope=0` (until reboot), or run the harness "
            "as root"
        )
    return "py-spy needs to ptrace the backend: run the harness as the backend's user, or root"


class LocalRecording:
    """py-spy attached to the Python process at or under `pid` (the local stack's backend)."""

    def __init__(
        self, pid: int, raw: Path, sampling: Sampling, proc_root: Path = Path("/proc")
    ) -> None:
        self.pid = pid
        self.raw = raw
        self.sampling = sampling
        self.proc_root = proc_root
        self._child: subprocess.Popen[str] | None = None
        self._lines: list[str] = []
        self._decided = threading.Event()  # py-spy samples, or has ended
        self._reader: threading.Thread | None = None

    def start(self) -> str:
        procs = read_processes(self.proc_root)
        if not any(p.pid == self.pid for p in procs):
            raise NotRecorded("failed", f"the backend process {self.pid} is gone")
        target = python_root(procs, within=self.pid)
        if target is None:
            raise NotRecorded("skipped", no_python_reason(procs, within=self.pid))
        py_spy = find_py_spy()
        if py_spy is None:
            raise NotRecorded(
                "skipped",
                "py-spy is not installed",
                "install the pinned dev environment: `make venv` (requirements/dev.lock pins it)",
            )
        self.raw.parent.mkdir(parents=True, exist_ok=True)
        self.raw.unlink(missing_ok=True)  # stop() takes a file there for py-spy's
        argv = [
            py_spy,
            "record",
            "--pid",
            str(target.pid),
            *self.sampling.record_options(str(self.raw)),
        ]
        self._child = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # Its own session: a Ctrl-C meant for the harness reaches it through stop(), in order.
            start_new_session=True,
            env={**os.environ, **owner_environment(Owner.current())},
        )
        self._reader = threading.Thread(target=self._read, args=(self._child,), daemon=True)
        self._reader.start()
        self._decided.wait(START_TIMEOUT_S)
        if self._sampling_started():
            return target.describe()
        if not self._decided.is_set():
            raise NotRecorded(
                "failed", f"py-spy did not start sampling within {START_TIMEOUT_S:.0f} s"
            )
        self._child.wait(timeout=STOP_TIMEOUT_S)  # it has closed its output: it is ending
        raise not_recorded(self._output(), denied_hint())

    def _read(self, child: subprocess.Popen[str]) -> None:
        assert child.stdout is not None
        for line in child.stdout:
            self._lines.append(line)
            if line.startswith(SAMPLING_LINE):
                self._decided.set()
        self._decided.set()  # it ended before sampling: start() need not wait any longer

    def _sampling_started(self) -> bool:
        return any(line.startswith(SAMPLING_LINE) for line in list(self._lines))

    def _output(self) -> str:
        if self._reader is not None:
            self._reader.join(timeout=5)
        return "".join(self._lines)

    def stop(self) -> None:
        child = self._child
        if child is None:
            return
        if child.poll() is None:
            child.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
        try:
            child.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise NotRecorded(
                "failed",
                f"py-spy did not write its profile within {STOP_TIMEOUT_S:.0f} s of SIGINT",
            ) from None
        if not self.raw.is_file():
            raise not_recorded(self._output(), denied_hint())

    def discard(self) -> None:
        child = self._child
        if child is not None and child.poll() is None:
            child.kill()
            child.wait(timeout=10)
        if child is not None and child.stdout is not None:
            child.stdout.close()
        self._child = None
