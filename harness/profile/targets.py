"""Which process py-spy samples: the oldest Python process that no Python process started.

Standard library only: this file's source also runs as the profiler sidecar's entry point
(`python -c <source> <py-spy options>`) inside the backend container's PID namespace, where
it picks the target, says which on one JSON line, and becomes py-spy (exec).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

# python, python3, python3.11, python3.13t; a venv's python resolves to one of these
_PYTHON_EXE = re.compile(r"^python\d*(\.\d+)?[dmut]*$")
# The first line py-spy prints once it samples (on stdout).
SAMPLING_LINE = "py-spy> Sampling process"


@dataclass(frozen=True)
class Proc:
    """One process as /proc shows it."""

    pid: int
    ppid: int
    exe: str  # "" when it may not be read
    argv: tuple[str, ...]
    uid: int
    started: int  # clock ticks since boot: orders processes by age
    zombie: bool = False

    @property
    def python(self) -> bool:
        name = Path(self.exe or (self.argv[0] if self.argv else "")).name
        return bool(_PYTHON_EXE.match(name))

    def describe(self) -> str:
        command = " ".join(" ".join(self.argv).split()) or "?"  # one line, however it was quoted
        if len(command) > 120:
            command = command[:117] + "..."
        return f"pid {self.pid} `{command}` (uid {self.uid})"


def read_processes(proc: Path = Path("/proc")) -> list[Proc]:
    """Every process this user may see under a /proc root; those gone meanwhile are left out."""
    found = []
    for entry in proc.iterdir():
        if entry.name.isdigit():
            read = _read_process(entry)
            if read is not None:
                found.append(read)
    return found


def _read_process(entry: Path) -> Proc | None:
    try:
        stat = (entry / "stat").read_text()
        argv = (entry / "cmdline").read_bytes().split(b"\0")
        uid = (entry / "status").read_text().split("\nUid:", 1)[1].split()[0]
    except (OSError, IndexError):
        return None
    try:
        exe = str((entry / "exe").readlink())
    except OSError:
        exe = ""  # another user's process, or a kernel thread
    # comm (field 2) may hold spaces and parentheses: the fields after its last ")" are plain
    fields = stat.rsplit(")", 1)[1].split()
    return Proc(
        pid=int(entry.name),
        ppid=int(fields[1]),
        exe=exe.removesuffix(" (deleted)"),
        argv=tuple(a.decode(errors="replace") for a in argv if a),
        uid=int(uid),
        started=int(fields[19]),
        zombie=fields[0] == "Z",
    )


def python_root(
    procs: list[Proc], within: int | None = None, exclude: int | None = None
) -> Proc | None:
    """The Python process to sample, following its children: the oldest Python process whose
    parent is no Python process, in the subtree of `within` if given. The oldest, because a
    backend outlives what starts next to it (a health check, an exec'd shell)."""
    live = {p.pid: p for p in procs if not p.zombie and p.pid != exclude}
    if within is not None:
        live = {pid: p for pid, p in live.items() if _descends_from(p, within, live)}
    roots = [p for p in live.values() if p.python and not (p.ppid in live and live[p.ppid].python)]
    return min(roots, key=lambda p: (p.started, p.pid), default=None)


def _descends_from(proc: Proc, ancestor: int, procs: dict[int, Proc]) -> bool:
    seen: set[int] = set()
    while proc.pid not in seen:
        if proc.pid == ancestor:
            return True
        seen.add(proc.pid)
        parent = procs.get(proc.ppid)
        if parent is None:
            return False
        proc = parent
    return False


def no_python_reason(procs: list[Proc], within: int | None = None) -> str:
    """Why nothing was found: what runs there instead."""
    seen = [p for p in procs if within is None or p.pid == within]
    first = min(seen, key=lambda p: (p.started, p.pid), default=None)
    what = f"; it runs {first.describe()}" if first is not None else ""
    return f"the backend is not a Python process{what}"


def sidecar_main(argv: list[str]) -> None:
    """The sidecar: name the target on one JSON line, then become `py-spy record` on it."""
    if shutil.which("py-spy") is None:
        _say(
            skip="the profiler image has no py-spy",
            hint="rebuild the images (`harness images`): requirements/locust.lock pins py-spy",
        )
        return
    procs = read_processes()
    target = python_root(procs, exclude=os.getpid())
    if target is None:
        _say(skip=no_python_reason([p for p in procs if p.pid != os.getpid()]))
        return
    _say(target=target.pid, describe=target.describe())
    os.execvp("py-spy", ["py-spy", "record", "--pid", str(target.pid), *argv])  # noqa: S606


def _say(**fields: object) -> None:
    print(json.dumps(fields), flush=True)  # noqa: T201  (the sidecar's answer, read from its log)


if __name__ == "__main__":
    sidecar_main(sys.argv[1:])
