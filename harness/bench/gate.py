"""Baselines and the regression gate.

A baseline is a run's benchmark.json (every round's time, machine and commit info) saved
under a name. Comparing a run against it, per benchmark:

  ratio   = median(current) / median(baseline)
  band    = the 95 % bootstrap interval of that ratio, from resampling both runs' rounds
            (2,000 resamples, fixed seed): how far the ratio moves by noise alone
  verdict = regression   when even the band's low end is above 1 + tolerance
            improvement  when even the band's high end is below 1 / (1 + tolerance)
            noise        when the ratio is past the tolerance but the band reaches back
                         inside it: reported, not failed
            same         otherwise

Only regressions fail the gate, and more queries. Where both runs measured a benchmark's
database cost (pg_stat_statements, in benchmark.json's extra_info), its queries per call are
compared exactly: they are counts, free of timing noise, so any more than the baseline's
(an added query, an N+1) fails the gate whatever the timings say. Baseline and run should
use the same rounds: a count that varies between calls is an average over them.
"""

from __future__ import annotations

import json
import platform
import random
import re
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.bench.suite.support import as_count
from harness.console import Column, Table
from harness.errors import ConfigError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
RESAMPLES = 2000
DEFAULT_TOLERANCE = 0.15  # when the targets file gives none


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise ConfigError(
            f"{name!r} is not a usable baseline name",
            "use letters, digits, '.', '_' or '-' (up to 64), e.g. NAME=main-2026-11",
        )
    return name


def samples_of(bench_json: dict[str, Any]) -> dict[str, list[float]]:
    """Per benchmark name: its rounds in milliseconds."""
    out: dict[str, list[float]] = {}
    for bench in bench_json.get("benchmarks", []):
        data = (bench.get("stats") or {}).get("data")
        if isinstance(data, list) and data:
            out[str(bench["name"])] = [float(s) * 1000 for s in data]
    return out


def queries_of(bench_json: dict[str, Any]) -> dict[str, float]:
    """Per benchmark name: its queries per call, where the suite measured them."""
    out: dict[str, float] = {}
    for bench in bench_json.get("benchmarks", []):
        db = (bench.get("extra_info") or {}).get("db")
        if isinstance(db, dict) and isinstance(db.get("queries"), int | float):
            out[str(bench["name"])] = float(db["queries"])
    return out


def read_bench_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(
            f"cannot read {path} ({exc.strerror})", "run `make bench` (or `harness bench`) first"
        ) from None
    except ValueError:
        raise ConfigError(
            f"{path} is not JSON", "it should be a benchmark.json written by `harness bench`"
        ) from None
    if not isinstance(data, dict) or not samples_of(data):
        raise ConfigError(
            f"{path} holds no benchmark rounds",
            "it should be a benchmark.json written by `harness bench`",
        )
    return data


def save_baseline(bench_json_path: Path, folder: Path, name: str, commit: str | None) -> Path:
    """Save a run's benchmark.json as baseline `name` (replacing an older one atomically)."""
    check_name(name)
    data = read_bench_json(bench_json_path)
    data["harness_baseline"] = {
        "name": name,
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "host": platform.node(),
        "source": str(bench_json_path),
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(path)
    return path


def find_baseline(folder: Path, name: str) -> Path:
    check_name(name)
    path = folder / f"{name}.json"
    if not path.exists():
        known = sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
        raise ConfigError(
            f"there is no baseline named {name!r} in {folder}",
            f"save one with `make bench-baseline NAME={name}`"
            + (f"; saved baselines: {', '.join(known)}" if known else ""),
        )
    return path


def ratio_band(base: list[float], current: list[float], seed: int = 0) -> tuple[float, float]:
    rng = random.Random(seed)
    ratios = sorted(
        statistics.median(rng.choices(current, k=len(current)))
        / statistics.median(rng.choices(base, k=len(base)))
        for _ in range(RESAMPLES)
    )
    return ratios[int(0.025 * RESAMPLES)], ratios[int(0.975 * RESAMPLES) - 1]


def compare(
    baseline: dict[str, Any], current: dict[str, Any], tolerances: dict[str, float]
) -> list[dict[str, Any]]:
    """One row per benchmark in either run; `tolerances` maps names to fractions."""
    base, cur = samples_of(baseline), samples_of(current)
    base_queries, cur_queries = queries_of(baseline), queries_of(current)
    rows = []
    for name in sorted(set(base) | set(cur)):
        tolerance = tolerances.get(name, DEFAULT_TOLERANCE)
        row: dict[str, Any] = {"name": name, "tolerance": tolerance}
        row.update(query_figures(base_queries.get(name), cur_queries.get(name)))
        if name not in cur or name not in base:
            row["verdict"] = "missing" if name not in cur else "new"
            rows.append(row)
            continue
        ratio = statistics.median(cur[name]) / statistics.median(base[name])
        low, high = ratio_band(base[name], cur[name])
        if low > 1 + tolerance:
            verdict = "regression"
        elif high < 1 / (1 + tolerance):
            verdict = "improvement"
        elif ratio > 1 + tolerance or ratio < 1 / (1 + tolerance):
            verdict = "noise"
        else:
            verdict = "same"
        row.update(
            {
                "baseline_median_ms": round(statistics.median(base[name]), 3),
                "current_median_ms": round(statistics.median(cur[name]), 3),
                "ratio": round(ratio, 4),
                "band": [round(low, 4), round(high, 4)],
                "verdict": verdict,
            }
        )
        rows.append(row)
    return rows


def query_figures(baseline: float | None, current: float | None) -> dict[str, Any]:
    """The queries per call of both runs, and whether this run makes more (exactly: counts)."""
    return {
        "baseline_queries": baseline,
        "current_queries": current,
        "more_queries": baseline is not None and current is not None and current > baseline,
    }


def gate_failed(rows: list[dict[str, Any]]) -> bool:
    return any(r["verdict"] == "regression" or r.get("more_queries") for r in rows)


def _gate_line(rows: list[dict[str, Any]]) -> str:
    reasons = [
        reason
        for reason, hit in (
            ("regression", any(r["verdict"] == "regression" for r in rows)),
            ("more queries", any(r.get("more_queries") for r in rows)),
        )
        if hit
    ]
    return "gate: " + (f"FAIL ({', '.join(reasons)})" if reasons else "PASS")


def comparison_table(rows: list[dict[str, Any]], name: str) -> Table:
    return Table(
        title=f"comparison with baseline {name!r} (ratio = current / baseline median; "
        "band = 95 % bootstrap interval)",
        columns=(
            Column("benchmark", width=38),
            Column("baseline", "right", width=9),
            Column("current", "right", width=9),
            Column("ratio", "right", width=6),
            Column("band", "right", width=13),
            Column("tol", "right", width=5),
            Column("queries", "right", width=7),
            Column("verdict", gap=2),
        ),
        rows=tuple(_comparison_row(r) for r in rows),
        footer=(_gate_line(rows),),
    )


def _comparison_row(r: dict[str, Any]) -> tuple[str, ...]:
    queries = _queries_cell(r.get("baseline_queries"), r.get("current_queries"))
    verdict = r["verdict"] + ("; MORE QUERIES per call" if r.get("more_queries") else "")
    if "ratio" not in r:
        return (r["name"], "-", "-", "-", "-", "-", queries, verdict)
    return (
        r["name"],
        f"{r['baseline_median_ms']:.2f}",
        f"{r['current_median_ms']:.2f}",
        f"{r['ratio']:.2f}",
        f"{r['band'][0]:.2f}-{r['band'][1]:.2f}",
        f"{r['tolerance']:.0%}",
        queries,
        verdict,
    )


def _queries_cell(baseline: float | None, current: float | None) -> str:
    """Queries per call: `5` when both runs agree, `5->25` when they do not, `-` unmeasured."""
    if baseline is None or current is None:
        alone = current if current is not None else baseline
        return as_count(alone) if alone is not None else "-"
    if baseline == current:
        return as_count(current)
    return f"{as_count(baseline)}->{as_count(current)}"
