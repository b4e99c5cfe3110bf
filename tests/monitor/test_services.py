"""The service watch: crashes and restarts of the stack's services become incidents."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import docker
import pytest

from harness.images import build_images
from harness.monitor.services import ContainerWatch, ProcessWatch, ServiceWatch
from harness.report import incident_line
from tests.stack.cli import REPO


def until(check: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    """Poll an observable condition (the watch works in a thread) with a deadline."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_a_restart_is_one_incident_with_the_time_it_took() -> None:
    watch = ServiceWatch(grace_s=60)
    began = watch.began
    watch.went_down("postgres", "exited", began + 10.0, 0)
    watch.came_back("postgres", began + 13.5)
    [incident] = watch.records()
    assert incident["at_s"] == 10.0 and incident["back_after_s"] == 3.5
    assert watch.abort_reason() is None  # back up: nothing to stop for
    assert incident_line(incident) == (
        "postgres exited with code 0 10 s into the load and restarted 4 s later"
    )


def test_an_oom_and_its_die_are_one_incident_keeping_the_exit_code() -> None:
    watch = ServiceWatch(grace_s=60)
    watch.went_down("backend", "oom", watch.began + 2, None)
    watch.went_down("backend", "exited", watch.began + 2.1, 137)
    [incident] = watch.records()
    assert (incident["event"], incident["exit_code"]) == ("oom", 137)
    assert "killed for lack of memory" in incident_line(incident)


def test_a_service_down_past_the_grace_period_stops_the_load() -> None:
    watch = ServiceWatch(grace_s=5)
    watch.began -= 30  # the load has been running for 30 s
    watch.went_down("backend", "exited", time.time() - 4, 137)
    assert watch.abort_reason() is None  # within the grace period: it may come back
    watch.went_down("backend", "exited", time.time() - 6, 137)  # the same, open incident
    watch.incidents[0].at_s -= 2  # two seconds later, still down
    reason = watch.abort_reason()
    assert reason is not None and reason.startswith("backend has been down for 6 s")
    assert len(watch.incidents) == 1


def test_a_second_crash_after_a_restart_is_a_second_incident() -> None:
    watch = ServiceWatch(grace_s=60)
    watch.went_down("backend", "exited", watch.began + 1, 1)
    watch.came_back("backend", watch.began + 2)
    watch.went_down("backend", "exited", watch.began + 5, 137)
    assert [i["exit_code"] for i in watch.records()] == [1, 137]


def test_a_local_backend_that_dies_is_seen_and_its_log_tail_kept_without_secrets(
    tmp_path: Path,
) -> None:
    log = tmp_path / "backend.log"
    log.write_text("".join(f"line {i}\n" for i in range(200)) + "connecting with s3cr3t-pw\n")
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    watch = ProcessWatch(proc.pid, log, grace_s=1).start()
    try:
        assert watch.records() == []
        proc.kill()
        proc.wait()
        until(lambda: watch.abort_reason() is not None, "the dead backend to stop the load")
    finally:
        watch.stop()
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    watch.save_log_tails(run_dir, ["s3cr3t-pw"])
    [incident] = watch.records()
    assert (incident["service"], incident["back_after_s"]) == ("backend", None)
    assert incident["log_tail"] == "services/backend.log"
    kept = (run_dir / "services" / "backend.log").read_text().splitlines()
    assert len(kept) == 80 and kept[-1] == "connecting with ***" and kept[0] == "line 121"


@pytest.mark.docker
@pytest.mark.slow
def test_docker_restart_and_kill_of_service_containers(label: str, tmp_path: Path) -> None:
    client = docker.from_env()
    key, value = label.split("=")
    script = "import sys, time\nprint('started', flush=True)\ntime.sleep(120)"

    def start(role: str) -> docker.models.containers.Container:
        return client.containers.run(
            build_images(REPO).locust,
            ["-c", script],
            entrypoint="python",
            name=f"{value}-{role}",
            labels={key: value, "org.contravento.harness.role": role},
            detach=True,
        )

    postgres, backend, worker = start("postgres"), start("backend"), start("locust-worker")
    watch = ContainerWatch(label, client, grace_s=2).start()
    try:
        postgres.restart(timeout=1)  # blocks until it runs again
        worker.kill()  # Locust containers come and go by design: not an incident
        backend.kill()
        until(lambda: watch.abort_reason() is not None, "the killed backend to stop the load")
        until(lambda: len(watch.incidents) == 2, "both incidents")
    finally:
        watch.stop()
    watch.save_log_tails(tmp_path, [])
    found = {i["service"]: i for i in watch.records()}
    assert set(found) == {"postgres", "backend"}
    assert found["postgres"]["back_after_s"] is not None
    assert found["backend"]["exit_code"] == 137 and found["backend"]["back_after_s"] is None
    assert (tmp_path / "services" / "postgres.log").read_text().count("started") == 2
