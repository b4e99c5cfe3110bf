"""A run stopped early keeps every request it made, the last seconds' included.

Locust workers send their samples to the master every 3 s. A stopped run must end with the
master: it tells its workers to quit, and each sends what it has not reported yet. A worker
stopped first, or at the same time (the harness's own SIGTERM, or a terminal's Ctrl-C that
reaches the whole process group), takes up to 3 s of requests with it: the seconds a crash
or a Ctrl-C is about. The fixture counts the requests it answered; the run's count must match.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.stack.cli import REPO, measured
from tests.support.fixture_stack import fixture_stack

pytestmark = [pytest.mark.slow]
IN_FLIGHT = 2  # requests the fixture answered whose responses the stopped users never read
# No warm-up: every request the fixture answered is in the run's count. 4 users thinking
# 0.05-0.15 s: about 40 requests a second.
RUN = (
    "load --scenario feed --shape baseline --users 4 --duration 300 --warmup 0 --workers 2 "
    "--skip-profile"
)


def test_ctrl_c_on_the_whole_process_group_keeps_the_last_seconds_of_requests(
    tmp_path: Path,
) -> None:
    reports, err = tmp_path / "reports", tmp_path / "stderr.txt"
    with fixture_stack(tmp_path / "home", 0, 1000, 0.0) as fixture, err.open("w") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "harness", *RUN.split(), "--reports", str(reports)],
            cwd=REPO,
            env={**os.environ, "HARNESS_HOME": str(fixture.home), "CV_WAIT_SCALE": "0.05"},
            stdout=subprocess.DEVNULL,
            stderr=sink,
            start_new_session=True,  # its own group, as a terminal's foreground job has
        )
        try:
            deadline = time.monotonic() + 120
            while not (measured(err.read_text()) and fixture.served() >= 200):
                assert proc.poll() is None and time.monotonic() < deadline, err.read_text()[-3000:]
                time.sleep(0.2)
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: every process of the group gets it
            assert proc.wait(timeout=120) == 130, err.read_text()[-3000:]
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        served = fixture.served()
    results = json.loads((reports / "latest" / "results.json").read_text())
    counted = results["aggregate"]["requests"]
    assert results["run"]["partial"] is True
    assert served - IN_FLIGHT <= counted <= served, (counted, served)
