"""How much of a window the container monitor covered: samples kept per container at 1 Hz.

Each container is judged on the part of the window it was there to be sampled (its
lifetimes in monitor/summary.json: from the sampler's first reading of it to its stop): a
Locust worker that started late is not short of samples for the seconds before it existed,
nor is a container that stopped or restarted. The expected count is the number of 1 Hz
ticks any stretch of that length is sure to hold, so a monitor that missed nothing scores
1.0. Without a summary (a run that crashed), a container's stretch is taken
from its first to its last sample, which cannot see samples lost at its edges.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

FOLDER = "monitor"
CONTAINERS = "containers.jsonl"
SUMMARY = "summary.json"


def read_samples(path: Path) -> list[dict[str, Any]]:
    """Every whole, timed sample of a monitor JSONL file ([] when it was not written)."""
    rows = []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue  # a line cut short by a crash
        if isinstance(row, dict) and isinstance(row.get("t"), int | float):
            rows.append(row)
    return rows


def _rows(path: Path) -> list[dict[str, Any]]:
    return [row for row in read_samples(path) if row.get("container")]


def _summary(path: Path) -> dict[str, Any]:
    try:
        found = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _expected(spans: list[tuple[float, float]], start: float, end: float, interval: float) -> int:
    """The ticks sure to fall in the stretches' parts of the window, at one per interval."""
    # an open-closed interval of length L holds at least floor(L) ticks; the fractions of two
    # stretches do not add up to a tick that a perfect sampler would have to catch
    overlaps = (max(min(b, end) - max(a, start), 0.0) for a, b in spans)
    return sum(math.floor(o / interval + 1e-6) for o in overlaps)


def coverage(run_dir: Path, start: float, end: float, interval_s: float = 1.0) -> dict[str, float]:
    """Per container: samples in [start, end] / the samples expected there at 1 Hz (0..1).

    Containers that ran less than one interval inside the window are left out.
    """
    folder = run_dir / FOLDER
    rows = _rows(folder / CONTAINERS)
    summary = _summary(folder / SUMMARY)
    lifetimes: dict[str, Any] = summary.get("lifetimes") or {}
    window = summary.get("window")
    times: dict[str, list[float]] = {}
    for row in rows:
        times.setdefault(str(row["container"]), []).append(float(row["t"]))
    found: dict[str, float] = {}
    for name in sorted(set(times) | set(lifetimes)):
        seen = sorted(times.get(name, []))
        spans: list[tuple[float, float]]
        if lifetimes.get(name):
            spans = [(float(a), float(b)) for a, b in lifetimes[name] if b is not None]
        elif window and seen:  # sampled for the whole monitoring (a local process)
            spans = [(float(window[0]), float(window[1]))]
        elif seen:
            spans = [(seen[0] - interval_s, seen[-1])]
        else:
            continue
        expected = _expected(spans, start, end, interval_s)
        if expected < 1:
            continue
        kept = sum(1 for t in seen if start <= t <= end and any(a < t <= b for a, b in spans))
        found[name] = round(min(kept / expected, 1.0), 4)
    return found
