"""The capacity search's answer: the highest arrival rate whose step held every SLO.

The capacity shape raises the rate step by step (open model). Each step is judged on its own
figures (the HDR histograms of the requests it completed): every endpoint with MIN_REQUESTS or
more against its p95 target and the failure limit, the iterations dropped (no free user in the
pool) and those started late (the load generator behind its schedule). The capacity is the rate
of the last step of the unbroken run of steps that held from the first; None when the first
broke already. A step the load stopped in, or never finished, is not judged.
"""

from __future__ import annotations

from typing import Any

from harness.record import Capacity, CapacityStep, Stage
from harness.verdict.slo import SloConfig, evaluate
from harness.verdict.validity import DROPPED_LIMIT, LATE_LIMIT

MIN_REQUESTS = 20  # an endpoint's p95 from fewer requests than this is not judged in a step


def stop_rules(slo: SloConfig) -> dict[str, Any]:
    """CV_SHAPE's "stop_when": what the Locust master checks to end the search at a break."""
    return {
        "targets": {e: g.p95_ms for g in slo.groups for e in g.endpoints},
        "max_failure_rate": slo.max_failure_rate,
        "dropped": DROPPED_LIMIT,
        "min_count": MIN_REQUESTS,
    }


def search(stages: list[Stage], slo: SloConfig, stopped: dict[str, Any] | None) -> Capacity:
    """Each step judged; the capacity is the last rate of the first unbroken run of steps."""
    last = int(stopped["stage"]) if stopped else len(stages) - 1
    steps = [_step(stage, slo, finished=stage.index <= last) for stage in stages]
    rate = None
    for step in steps:
        if not step.held:
            break
        rate = step.rate
    return Capacity(
        rate=rate,
        steps=steps,
        stopped=None
        if stopped is None
        else f"step {int(stopped['stage']) + 1}: {stopped['reason']}",
    )


def step_entries(stage: Stage) -> list[dict[str, Any]]:
    """A step's endpoints as the SLO evaluation reads them."""
    entries = []
    for key, figures in stage.endpoints.items():
        method, name = key.split(" ", 1)
        entries.append(
            {
                "method": method,
                "name": name,
                "requests": figures.count,
                "failure_rate": (figures.failures or 0) / figures.count if figures.count else 0.0,
                "p95_ms": figures.p95,
            }
        )
    return entries


def answer_rows(stages: list[Stage], slo: SloConfig, capacity: Capacity) -> list[dict[str, Any]]:
    """The SLO rows of the step at the capacity (or of the first step, when none held)."""
    index = 0
    for step in capacity.steps:  # the unbroken run of held steps from the first
        if not step.held:
            break
        index = step.index
    stage = next((s for s in stages if s.index == index), None)
    return evaluate(slo, step_entries(stage))[0] if stage is not None else []


def _step(stage: Stage, slo: SloConfig, finished: bool) -> CapacityStep:
    rate = float(stage.rate or 0)
    sent = stage.all.count / stage.for_s if stage.for_s else 0.0
    if not finished:
        return CapacityStep(
            index=stage.index, rate=rate, sent_per_s=round(sent, 2), held=False, judged=False
        )
    entries = step_entries(stage)
    judged = [e for e in entries if e["requests"] >= MIN_REQUESTS]
    small = len(entries) - len(judged)
    rows, _ = evaluate(slo, judged)
    reasons = [f"{r['endpoint']}: {r['reason']}" for r in rows if not r["passed"]]
    a = stage.arrivals
    if a is not None and a.dropped_share > DROPPED_LIMIT:
        reasons.append(f"{a.dropped} of {a.scheduled} iterations dropped (no free user)")
    if a is not None and a.late_share > LATE_LIMIT:
        reasons.append(
            f"{a.late} of {a.started} iterations started late: the generator fell behind"
        )
    closest = max(
        (r for r in rows if r["target_p95_ms"]),
        key=lambda r: r["p95_ms"] / r["target_p95_ms"],
        default=None,
    )
    return CapacityStep(
        index=stage.index,
        rate=rate,
        sent_per_s=round(sent, 2),
        held=not reasons,
        judged=True,
        reasons=reasons,
        closest=None if closest is None else _closest_line(closest),
        dropped=a.dropped if a else None,
        late=a.late if a else None,
        unjudged_endpoints=small,
    )


def _closest_line(row: dict[str, Any]) -> str:
    return f"{row['endpoint']} p95 {row['p95_ms']:.0f} ms of {row['target_p95_ms']:.0f}"
