"""kill -9 at different moments of a run: the watchdog, or else the next command, cleans up."""

from __future__ import annotations

import time
from pathlib import Path

import psutil
import pytest

from tests.stack.cli import harness, in_background, labelled, wait_for_stderr

pytestmark = [pytest.mark.docker, pytest.mark.slow]
FULL_LOAD = (
    "full-load --provider docker --skip-bench --profile tiny --users 4 --duration 60 "
    "--warmup 2 --workers 2 --bcrypt-rounds 4"
)


def everything() -> set[str]:
    return {
        f"{kind}:{name}" for kind in ("container", "network", "volume") for name in labelled(kind)
    }


def kill_when(home: Path, args: str, marker: str, tmp_path: Path, watchdog_too: bool = True) -> str:
    """Start `harness args`, SIGKILL it once its stderr shows `marker`; returns that stderr.

    With watchdog_too the command's watchdog is killed with it, as `kill -9` of everything
    would: what is left then waits for the next command.
    """
    err = tmp_path / f"stderr-{marker.strip('= []')}.txt"
    with in_background(home, f"{args} --reports {tmp_path / 'r'}", err) as proc:
        wait_for_stderr(proc, err, lambda text: marker in text, timeout=300)
        victims = [psutil.Process(proc.pid)]
        if watchdog_too:
            victims += watchdogs_of(proc.pid)
        for victim in victims:
            victim.kill()
        proc.wait(timeout=30)
    return err.read_text()


def watchdogs_of(pid: int) -> list[psutil.Process]:
    found = [
        child
        for child in psutil.Process(pid).children()
        if "harness.stack.watchdog" in " ".join(child.cmdline())
    ]
    assert found, "every stack command starts a watchdog"
    return found


@pytest.mark.parametrize("marker", ["starting the docker stack", "== seed", "measuring"])
def test_kill_9_during_a_throwaway_run_leaves_nothing_after_the_next_command(
    tmp_path: Path, marker: str
) -> None:
    before = everything()
    home = tmp_path / "home"
    kill_when(home, FULL_LOAD, marker, tmp_path)
    left = everything() - before
    if marker != "starting the docker stack":  # by then nothing may exist yet
        assert left  # the killed run did leave things behind
    done = harness(home, "status")
    assert done.returncode == 0, done.stderr
    assert everything() - before == set(), done.stderr
    if left:  # (at stack start the daemon may still be creating what the kill left in flight)
        assert "removed what killed runs left" in done.stderr


def test_kill_9_of_a_load_on_a_kept_stack_removes_only_the_load_generators(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    assert harness(home, "up", "--provider", "docker", "--bcrypt-rounds", "4").returncode == 0
    try:
        stack = harness(home, "status", "--json").stdout
        load = "load --users 4 --duration 60 --warmup 2 --workers 2"
        kill_when(home, load, "measuring", tmp_path)
        assert [n for n in labelled("container") if "worker" in n or "master" in n]
        done = harness(home, "status")
        assert "running" in done.stdout and "removed what killed runs left" in done.stderr
        assert [n for n in labelled("container") if "worker" in n or "master" in n] == []
        assert harness(home, "status", "--json").stdout == stack  # the kept stack is untouched
    finally:
        harness(home, "down")


def test_kill_9_of_the_harness_alone_leaves_nothing_within_a_minute(tmp_path: Path) -> None:
    before = everything()
    home = tmp_path / "home"
    kill_when(home, FULL_LOAD, "measuring", tmp_path, watchdog_too=False)
    deadline = time.monotonic() + 60
    while everything() - before:  # no harness command runs: the watchdog alone cleans up
        assert time.monotonic() < deadline, everything() - before
        time.sleep(1)
    while "was killed: removed" not in (home / "watchdog.log").read_text():  # logged after
        assert time.monotonic() < deadline, "the watchdog logged no clean-up"
        time.sleep(0.5)
