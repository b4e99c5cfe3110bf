"""A detached watcher per harness command: when the command is killed, it reaps what it left.

`kill -9` gives a process no chance to clean up. The command therefore starts this watcher
first, in its own session (so a signal to the command's process group does not reach it), and
stops it again on every exit it gets to handle itself (success, error, Ctrl-C, SIGTERM). A
watcher that sees its command die, by pidfd where the kernel has one, else by polling, runs the
same clean-up the next harness command would, twice: the second pass catches objects the
daemon was still creating when the kill landed.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

from harness.docker_api import docker_client_or_none
from harness.owner import Owner
from harness.stack.reaper import clean

POLL_S = 1.0  # only without pidfd (Linux < 5.3, macOS)
# A kill can land while the daemon is still creating a container or network the command
# asked for; one more pass after this long removes those too.
SECOND_PASS_AFTER_S = 15.0


def spawn(home: Path, owner: Owner) -> subprocess.Popen[bytes]:
    """Start the watcher for `owner`; terminate it when the command ends on its own."""
    home.mkdir(parents=True, exist_ok=True)
    with (home / "watchdog.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", __name__, str(home), str(owner.pid), owner.start],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
        )


def wait_for_exit(owner: Owner) -> None:
    try:
        fd = os.pidfd_open(owner.pid)
    except (AttributeError, OSError):
        while owner.alive():
            time.sleep(POLL_S)  # checking a process's liveness, not waiting for readiness
        return
    try:
        if owner.alive():  # the pid may already belong to someone else
            select.select([fd], [], [])  # readable once the process has exited
    finally:
        os.close(fd)


def main(argv: list[str]) -> int:
    home, pid, start = Path(argv[0]), int(argv[1]), argv[2]
    wait_for_exit(Owner(pid, start))
    client = docker_client_or_none()
    for attempt in range(2):
        if attempt:
            time.sleep(SECOND_PASS_AFTER_S)
        report = clean(home, client)
        if report.total:
            sys.stdout.write(  # into watchdog.log in the harness home
                f"{time.strftime('%Y-%m-%dT%H:%M:%S')} pid {pid} was killed: removed "
                f"{report.describe()}\n"
            )
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
