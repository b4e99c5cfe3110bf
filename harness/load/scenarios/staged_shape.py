"""A load shape from stages in CV_SHAPE_STAGES (JSON), with a warm-up excluded from the stats.

CV_SHAPE_STAGES = [{"until": seconds, "users": n, "spawn_rate": r}, ...]; CV_WARMUP_S = seconds.
At the end of the warm-up the aggregated statistics are reset, so the verdict sees only the
measured part; the history CSV keeps the whole run for the charts.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from locust import LoadTestShape

log = logging.getLogger("harness.shape")


class StagedShape(LoadTestShape):
    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.stages: list[dict[str, Any]] = json.loads(os.environ.get("CV_SHAPE_STAGES", "[]"))
        self.warmup_s = float(os.environ.get("CV_WARMUP_S", "0"))
        self.warm = self.warmup_s <= 0

    def tick(self) -> tuple[int, float] | None:
        now = float(self.get_run_time())  # type: ignore[no-untyped-call]
        if not self.warm and now >= self.warmup_s and self.runner is not None:
            self.warm = True
            self.runner.stats.reset_all()
            log.info("warm-up over after %.0fs: statistics reset", now)
        for stage in self.stages:
            if now < stage["until"]:
                return int(stage["users"]), float(stage["spawn_rate"])
        return None
