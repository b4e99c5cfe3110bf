"""coverage(): samples kept per container over a window, each judged on its own lifetime."""

from __future__ import annotations

import json
from pathlib import Path

from harness.monitor import coverage


def run_folder(
    tmp_path: Path, samples: dict[str, list[float]], summary: dict[str, object] | None
) -> Path:
    folder = tmp_path / "monitor"
    folder.mkdir(parents=True)
    lines = [
        json.dumps({"t": t, "container": name, "role": "x", "cpu_percent": 1.0})
        for name, times in samples.items()
        for t in times
    ]
    (folder / "containers.jsonl").write_text("\n".join(lines) + '\n{"t": 12, "cont')
    if summary is not None:
        (folder / "summary.json").write_text(json.dumps(summary))
    return tmp_path


def ticks(first: int, last: int, missing: tuple[int, ...] = ()) -> list[float]:
    return [t + 0.004 for t in range(first, last + 1) if t not in missing]


def test_each_container_is_judged_on_the_part_of_the_window_it_ran(tmp_path: Path) -> None:
    samples = {
        "backend": ticks(1, 100),  # the whole monitoring
        "postgres": ticks(1, 100, missing=(40, 41, 42)),  # three lost inside the window
        "worker-late": ticks(51, 100),  # started at 50.3, inside the window
        "worker-early": ticks(1, 29),  # stopped at 29.5
        "restarted": ticks(1, 44) + ticks(50, 100),  # down from 44.5 to 49.2
        "before": ticks(1, 9),  # gone before the window
    }
    lifetimes = {
        "backend": [[0.0, 100.5]],
        "postgres": [[0.0, 100.5]],
        "worker-late": [[50.3, 100.5]],
        "worker-early": [[0.0, 29.5]],
        "restarted": [[0.0, 44.5], [49.2, 100.5]],
        "before": [[0.0, 9.5]],
        "flapping": [[30.5, 30.99], [31.01, 31.99]],  # up twice, never across a tick
    }
    run_dir = run_folder(tmp_path, samples, {"lifetimes": lifetimes, "window": [0.0, 100.5]})
    found = coverage(run_dir, 20.0, 80.0)
    assert found == {
        "backend": 1.0,
        "postgres": round(57 / 60, 4),
        "worker-late": 1.0,
        "worker-early": 1.0,
        "restarted": 1.0,
    }


def test_a_local_process_is_judged_on_the_monitoring_window(tmp_path: Path) -> None:
    run_dir = run_folder(tmp_path, {"backend": ticks(30, 59)}, {"window": [0.0, 60.5]})
    assert coverage(run_dir, 0.0, 60.0) == {"backend": 0.5}  # the first half was lost


def test_without_a_summary_a_container_spans_its_own_samples(tmp_path: Path) -> None:
    run_dir = run_folder(tmp_path, {"a": ticks(1, 20, missing=(5, 6)), "b": []}, None)
    assert coverage(run_dir, 0.0, 30.0) == {"a": round(18 / 20, 4)}
    assert coverage(tmp_path / "nothing", 0.0, 30.0) == {}
