"""A load shape from CV_SHAPE (JSON): a warm-up that ends when the load is ready, then stages.

CV_SHAPE = {"model": "closed" | "open",
            "warmup": {"users": n, "spawn_rate": r, "min_s": s, "max_s": s, "wait_for_starts": b,
                       "rate": iterations/s (open model)},
            "stages": [{"for_s": seconds, "users": n, "spawn_rate": r,
                        "rate": r, "to_rate": r (open model: arrivals, see open_model.py)}, ...]}

The warm-up runs at least min_s. With wait_for_starts it goes on, up to max_s, until its users
are all spawned and every one has finished its start (the scenario's tally of user starts:
register, log in), so start-up work such as the logins' password hashing does not fall inside
the measured window; then SETTLE_S more for the queue it left to drain. The stages' times count
from the window's start, whenever that comes.

At the window's start the statistics are reset, on the master and on every worker (a worker's
unsent statistics would otherwise bring a few seconds of warm-up into the window; Locust's
reset_stats event tells open_model.py, whose stages count from then), and
<csv prefix>_window.json says when the window began, with how many users, whether every start
had finished; its "end" is added when the last stage ends. With "stop_when" in CV_SHAPE (a
capacity search) each stage is judged JUDGE_AFTER_S after it ends and the run stops at the
first that broke: "stopped" in the window file says which and why.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from locust import LoadTestShape, events
from locust.runners import WorkerRunner

log = logging.getLogger("harness.shape")

RESET_MESSAGE = "cv_reset_stats"
WINDOW_SUFFIX = "_window.json"
SETTLE_S = 3.0  # after the last start: requests queued behind the start-up work drain
# A stage is judged (CV_SHAPE "stop_when") this long after it ends: the workers report every 3 s.
JUDGE_AFTER_S = 4.0


class StagedShape(LoadTestShape):
    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        spec: dict[str, Any] = json.loads(os.environ.get("CV_SHAPE", "{}") or "{}")
        self.warmup: dict[str, Any] = spec.get("warmup") or {}
        self.stages: list[dict[str, Any]] = spec.get("stages") or []
        self.window_start: float | None = None  # run time the window began at
        self.ready_since: float | None = None
        self.ended = False
        self.window: dict[str, Any] = {}
        self.judged = 0  # stages judged against "stop_when" so far

    def tick(self) -> tuple[int, float] | None:
        now = float(self.get_run_time())  # type: ignore[no-untyped-call]
        if self.window_start is None:
            if not self._warmed_up(now):
                return int(self.warmup["users"]), float(self.warmup["spawn_rate"])
            self._begin_window(now)
        elapsed = now - (self.window_start or 0.0)
        if not self.ended and (stopped := self._broken_stage(elapsed)) is not None:
            self.ended = True
            self._write_window(end=time.time(), stopped=stopped)
            log.info("stage %s broke: %s; stopping", stopped["stage"], stopped["reason"])
            return None
        until = 0.0
        for stage in self.stages:
            until += float(stage["for_s"])
            if elapsed < until:
                return int(stage["users"]), float(stage["spawn_rate"])
        if not self.ended:
            self.ended = True
            self._write_window(end=time.time())
        return None

    def _broken_stage(self, elapsed: float) -> dict[str, Any] | None:
        """The first stage that broke the rules (open_model.py judges), once it can be judged."""
        broken = getattr(self.runner.environment, "cv_stage_broken", None) if self.runner else None
        if broken is None:
            return None
        ends = [
            sum(float(st["for_s"]) for st in self.stages[: i + 1]) for i in range(len(self.stages))
        ]
        while self.judged < len(self.stages) - 1 and elapsed >= ends[self.judged] + JUDGE_AFTER_S:
            reason = broken(self.judged)
            self.judged += 1
            if reason is not None:
                return {"stage": self.judged - 1, "reason": reason}
        return None

    def _warmed_up(self, now: float) -> bool:
        if not self.warmup or now >= float(self.warmup.get("max_s", 0)):
            return True
        if now < float(self.warmup.get("min_s", 0)):
            return False
        if not self.warmup.get("wait_for_starts"):
            return True
        if self._all_started():
            self.ready_since = self.ready_since if self.ready_since is not None else now
            return now - self.ready_since >= SETTLE_S
        self.ready_since = None
        return False

    def _starts(self) -> int | None:
        """Users whose start is over (worked or failed), from the scenario's tally if it has one."""
        tally = getattr(self.runner.environment, "user_starts", None) if self.runner else None
        if tally is None:
            return None
        return int(tally.finished())

    def _all_started(self) -> bool:
        users = int(self.warmup["users"])
        spawned = self.runner is not None and self.runner.user_count >= users
        finished = self._starts()
        return spawned if finished is None else finished >= users

    def _begin_window(self, now: float) -> None:
        self.window_start = now
        runner = self.runner
        if runner is not None:
            runner.stats.reset_all()
            # open_model.py: the stages' clock starts, the warm-up's latencies are dropped
            runner.environment.events.reset_stats.fire()  # type: ignore[no-untyped-call]
            if not isinstance(runner, WorkerRunner) and hasattr(runner, "clients"):
                runner.send_message(RESET_MESSAGE)  # a MasterRunner: tell every worker
        users = runner.user_count if runner is not None else None
        finished = self._starts()
        self.window = {
            "start": time.time(),
            "warmup_s": round(now, 3),
            "users": users,
            "starts_finished": finished,
            "starts_done": self._all_started() if self.warmup else None,
        }
        self._write_window()
        log.info("warm-up over after %.0fs with %s users: statistics reset", now, users)

    def _write_window(self, **extra: Any) -> None:
        runner = self.runner
        prefix = getattr(runner.environment.parsed_options, "csv_prefix", None) if runner else None
        if not prefix:
            return
        self.window = {**self.window, **extra}
        path = Path(f"{prefix}{WINDOW_SUFFIX}")
        partial = path.with_name(f".{path.name}.tmp")  # the harness never reads half a file
        try:
            partial.write_text(json.dumps(self.window) + "\n", encoding="utf-8")
            partial.replace(path)
        except OSError as exc:
            log.warning("could not write %s: %s", path, exc)


def _listen_for_reset(environment: Any, **_kwargs: Any) -> None:
    """A worker drops the statistics it has not sent yet when the window begins."""
    runner = environment.runner
    if isinstance(runner, WorkerRunner):

        def on_reset(**_: Any) -> None:  # Locust passes environment= and msg=
            runner.stats.reset_all()
            environment.events.reset_stats.fire()

        runner.register_message(RESET_MESSAGE, on_reset)


events.init.add_listener(_listen_for_reset)  # type: ignore[no-untyped-call]
