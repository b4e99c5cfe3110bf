"""Baselines and the regression gate, judged over whole runs.

A baseline NAME is a history of runs: each save adds the run's benchmark.json (every round,
machine and commit info, and a `harness_baseline` block) to `<baselines>/NAME/` as
`<saved_at>-<n>.json`, keeping the newest KEEP_RUNS. A single `<baselines>/NAME.json` (how
baselines were saved before) reads as one run, older than the folder's, and moves into the
folder on the next save.

The unit of evidence is the run: rounds within one run share its machine state, so they say
how well that run is known, not how far the next run will land. Per benchmark, each baseline
run gives one value, the median of its rounds (ms), and so does this run (c). With k >= 2
baseline runs, on log scale, m and s are the mean and standard deviation of the baseline
runs' ln(median):

  ratio    = c / the median of the baseline runs' medians
  band     = the prediction interval of one new run, exp(m +- t_{1-a/2, k-1} * s * sqrt(1+1/k)),
             as a ratio to that baseline median
  p-value  = two-sided, of t = (ln c - m) / (s * sqrt(1 + 1/k)) with k - 1 degrees of freedom
  a        = the family's 0.05 with Holm's correction over the benchmarks judged
             (harness.runstats.holm); a benchmark Holm does not let through gets the
             family's most demanding level, 0.05 / their number, and so lies inside its band
  verdict  = regression   above the band, and the ratio above 1 + tolerance
             improvement  below the band, and the ratio below 1 / (1 + tolerance)
             noise        the ratio past the tolerance, but inside the band: reported, not failed
             same         otherwise
             unjudged     fewer than 2 baseline runs: the noise between runs is unknown, so the
                          timings are reported and never fail the gate
             missing      in the baseline but not in this run; new: the other way round

Only regressions fail the gate, and more queries. Where a benchmark's database cost was
measured (pg_stat_statements, in benchmark.json's extra_info), its queries per call in this
run are compared exactly with the newest baseline run that measured them: they are counts,
free of timing noise, so any more (an added query, an N+1) fails the gate whatever the
timings say. Baseline and run should use the same rounds: a count that varies between calls
is an average over them.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scipy import stats as scipy_stats

from harness.bench.suite.support import as_count
from harness.console import Column, Table
from harness.errors import ConfigError
from harness.runstats import holm

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
RUN_FILE = re.compile(r"^(\d{8}T\d{6}Z)-(\d+)\.json$")  # <saved_at, UTC>-<n>.json
STAMP = "%Y%m%dT%H%M%SZ"
KEEP_RUNS = 10  # per baseline name: the newest runs
FAMILY_ALPHA = 0.05  # for all the benchmarks of one comparison (Holm-corrected)
MIN_RUNS = 2  # below this the noise between runs is unknown
DEFAULT_TOLERANCE = 0.15  # when the targets file gives none


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise ConfigError(
            f"{name!r} is not a usable baseline name",
            "use letters, digits, '.', '_' or '-' (up to 64), e.g. NAME=main-2026-11",
        )
    return name


def samples_of(bench_json: Mapping[str, Any]) -> dict[str, list[float]]:
    """Per benchmark name: its rounds in milliseconds."""
    out: dict[str, list[float]] = {}
    for bench in bench_json.get("benchmarks", []):
        data = (bench.get("stats") or {}).get("data")
        if isinstance(data, list) and data:
            out[str(bench["name"])] = [float(s) * 1000 for s in data]
    return out


def medians_of(bench_json: Mapping[str, Any]) -> dict[str, float]:
    """Per benchmark name: the median of its rounds in milliseconds, the run's one value."""
    return {name: statistics.median(rounds) for name, rounds in samples_of(bench_json).items()}


def queries_of(bench_json: Mapping[str, Any]) -> dict[str, float]:
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


def _run_files(runs: Path) -> list[Path]:
    """The run files of one baseline folder, oldest first."""
    if not runs.is_dir():
        return []
    found = [(m[1], int(m[2]), p) for p in runs.iterdir() if (m := RUN_FILE.match(p.name))]
    return [p for _, _, p in sorted(found)]


def _place(file: Path, runs: Path, stamp: str) -> Path:
    """Link `file` into `runs` as the first free `<stamp>-<n>.json`, then remove `file`.

    A link, not a rename: it never replaces a run another save placed there meanwhile.
    """
    taken = [int(m[2]) for p in _run_files(runs) if (m := RUN_FILE.match(p.name)) and m[1] == stamp]
    n = max(taken, default=0) + 1
    while True:
        path = runs / f"{stamp}-{n}.json"
        try:
            os.link(file, path)
        except FileExistsError:
            n += 1
            continue
        file.unlink()
        return path


def _migrate_legacy(folder: Path, name: str) -> None:
    """Move a single-file baseline `NAME.json` into the folder, as the run it was."""
    legacy = folder / f"{name}.json"
    if not legacy.is_file():
        return
    saved_at = (read_bench_json(legacy).get("harness_baseline") or {}).get("saved_at")
    try:
        when = datetime.fromisoformat(str(saved_at)).astimezone(UTC)
    except ValueError:
        when = datetime.fromtimestamp(legacy.stat().st_mtime, UTC)
    _place(legacy, folder / name, when.strftime(STAMP))


def save_baseline(bench_json_path: Path, folder: Path, name: str, commit: str | None) -> Path:
    """Add a run's benchmark.json to baseline `name`; returns the run's file.

    The newest KEEP_RUNS runs are kept; a legacy `NAME.json` joins the folder first.
    """
    check_name(name)
    data = read_bench_json(bench_json_path)
    now = datetime.now(UTC)
    data["harness_baseline"] = {
        "name": name,
        "saved_at": now.isoformat(timespec="seconds"),
        "commit": commit,
        "host": platform.node(),
        "source": str(bench_json_path),
    }
    runs = folder / name
    runs.mkdir(parents=True, exist_ok=True)
    _migrate_legacy(folder, name)
    tmp = runs / f".{os.getpid()}.json.tmp"  # whole before it gets a run file's name
    try:
        tmp.write_text(json.dumps(data, indent=1) + "\n")
        path = _place(tmp, runs, now.strftime(STAMP))
    finally:
        tmp.unlink(missing_ok=True)
    for old in _run_files(runs)[:-KEEP_RUNS]:
        old.unlink()
    return path


def find_baseline(folder: Path, name: str) -> list[Path]:
    """Baseline `name`'s run files, oldest first (a legacy `NAME.json` as the oldest)."""
    check_name(name)
    legacy = folder / f"{name}.json"
    runs = ([legacy] if legacy.is_file() else []) + _run_files(folder / name)
    if not runs:
        raise ConfigError(
            f"there is no baseline named {name!r} in {folder}",
            f"save one with `make bench-baseline NAME={name}`"
            + (f"; saved baselines: {', '.join(known)}" if (known := saved_names(folder)) else ""),
        )
    return runs


def saved_names(folder: Path) -> list[str]:
    """The names of the baselines saved in `folder` (folders of runs, or legacy files)."""
    if not folder.is_dir():
        return []
    names = {p.name for p in folder.iterdir() if p.is_dir() and _run_files(p)}
    names |= {p.stem for p in folder.glob("*.json") if p.is_file()}
    return sorted(n for n in names if NAME.match(n))


@dataclass(frozen=True)
class RunSpread:
    """One benchmark's baseline runs: their medians' mean and spread on log scale."""

    runs: int
    mean: float  # of ln(median)
    sd: float  # of ln(median), k - 1 in the denominator
    median_ms: float  # the median of the runs' medians

    @classmethod
    def of(cls, medians: Sequence[float]) -> RunSpread:
        logs = [math.log(x) for x in medians]
        return cls(
            len(logs), statistics.fmean(logs), statistics.stdev(logs), statistics.median(medians)
        )

    @property
    def _scale(self) -> float:
        """The standard deviation of one new run's ln(median) around the mean."""
        return self.sd * math.sqrt(1 + 1 / self.runs)

    def p_value(self, current_ms: float) -> float:
        """Two-sided: how unlikely a run this far from the baseline runs is by noise alone."""
        distance = abs(math.log(current_ms) - self.mean)
        if self._scale == 0:
            return 0.0 if distance > 0 else 1.0
        return float(2 * scipy_stats.t.sf(distance / self._scale, self.runs - 1))

    def interval(self, alpha: float) -> tuple[float, float]:
        """Where one new run's median lands (ms) with probability 1 - alpha, by noise alone."""
        half = float(scipy_stats.t.ppf(1 - alpha / 2, self.runs - 1)) * self._scale
        return math.exp(self.mean - half), math.exp(self.mean + half)


def compare(
    baseline_runs: Sequence[Mapping[str, Any]],
    current: Mapping[str, Any],
    tolerances: Mapping[str, float],
) -> list[dict[str, Any]]:
    """One row per benchmark in this run or any baseline run; `baseline_runs` oldest first,
    `tolerances` maps names to fractions."""
    if isinstance(baseline_runs, Mapping):  # one benchmark.json, as compare() took before
        raise TypeError("compare() takes the baseline's runs: a list of benchmark.json objects")
    base: dict[str, list[float]] = {}
    base_queries: dict[str, float] = {}
    for run in baseline_runs:
        for name, median in medians_of(run).items():
            base.setdefault(name, []).append(median)
        base_queries.update(queries_of(run))  # the newest run that measured them wins
    cur, cur_queries = medians_of(current), queries_of(current)
    names = sorted(set(base) | set(cur))
    spreads = {
        name: RunSpread.of(base[name])
        for name in names
        if name in cur and len(base.get(name, [])) >= MIN_RUNS
    }
    p_values = [spread.p_value(cur[name]) for name, spread in spreads.items()]
    levels = dict(zip(spreads, holm(p_values, FAMILY_ALPHA), strict=True))
    strictest = FAMILY_ALPHA / max(1, len(spreads))
    rows = []
    for name in names:
        tolerance = tolerances.get(name, DEFAULT_TOLERANCE)
        row: dict[str, Any] = {
            "name": name,
            "tolerance": tolerance,
            "baseline_runs": len(base.get(name, [])),
        }
        row.update(query_figures(base_queries.get(name), cur_queries.get(name)))
        if name not in cur or name not in base:
            row["verdict"] = "missing" if name not in cur else "new"
        elif name not in spreads:
            row.update(_figures(statistics.median(base[name]), cur[name], None, "unjudged"))
        else:
            spread, level = spreads[name], levels[name]
            low, high = spread.interval(level or strictest)
            band = (low / spread.median_ms, high / spread.median_ms)
            verdict = _verdict(cur[name] / spread.median_ms, band, level > 0, tolerance)
            row.update(_figures(spread.median_ms, cur[name], band, verdict))
        rows.append(row)
    return rows


def _verdict(ratio: float, band: tuple[float, float], significant: bool, tolerance: float) -> str:
    """Past the band (as Holm let it be) and past the tolerance, both ways round, or not."""
    above, below = significant and ratio > band[1], significant and ratio < band[0]
    slower, faster = ratio > 1 + tolerance, ratio < 1 / (1 + tolerance)
    if above and slower:
        return "regression"
    if below and faster:
        return "improvement"
    if (slower or faster) and not (above or below):
        return "noise"
    return "same"


def _figures(
    baseline_ms: float, current_ms: float, band: tuple[float, float] | None, verdict: str
) -> dict[str, Any]:
    return {
        "baseline_median_ms": round(baseline_ms, 3),
        "current_median_ms": round(current_ms, 3),
        "ratio": round(current_ms / baseline_ms, 4),
        "band": None if band is None else [round(band[0], 4), round(band[1], 4)],
        "verdict": verdict,
    }


def query_figures(baseline: float | None, current: float | None) -> dict[str, Any]:
    """The queries per call of both runs, and whether this run makes more (exactly: counts)."""
    return {
        "baseline_queries": baseline,
        "current_queries": current,
        "more_queries": baseline is not None and current is not None and current > baseline,
    }


def gate_failed(rows: Sequence[Mapping[str, Any]]) -> bool:
    return any(r["verdict"] == "regression" or r.get("more_queries") for r in rows)


def _gate_line(rows: Sequence[Mapping[str, Any]]) -> str:
    reasons = [
        reason
        for reason, hit in (
            ("regression", any(r["verdict"] == "regression" for r in rows)),
            ("more queries", any(r.get("more_queries") for r in rows)),
        )
        if hit
    ]
    return "gate: " + (f"FAIL ({', '.join(reasons)})" if reasons else "PASS")


def comparison_table(rows: Sequence[Mapping[str, Any]], name: str) -> Table:
    runs = max((r.get("baseline_runs") or 0 for r in rows), default=0)
    band = (
        f"band = 95 % prediction interval of one run from the baseline's {runs} runs"
        if runs >= MIN_RUNS
        else f"no band: the baseline has {runs} run{'' if runs == 1 else 's'}"
    )
    return Table(
        title=f"comparison with baseline {name!r} (ratio = current / baseline median; {band})",
        columns=(
            Column("benchmark", width=38),
            Column("runs", "right", width=4),
            Column("baseline", "right", width=9),
            Column("current", "right", width=9),
            Column("ratio", "right", width=6),
            Column("band", "right", width=13),
            Column("tol", "right", width=5),
            Column("queries", "right", width=7),
            Column("verdict", gap=2),
        ),
        rows=tuple(_comparison_row(r, name) for r in rows),
        footer=(_gate_line(rows),),
    )


def _comparison_row(r: Mapping[str, Any], name: str) -> tuple[str, ...]:
    queries = _queries_cell(r.get("baseline_queries"), r.get("current_queries"))
    verdict = r["verdict"]
    if verdict == "unjudged":
        verdict += f": save 2 or more baseline runs (make bench-baseline NAME={name} twice)"
    verdict += "; MORE QUERIES per call" if r.get("more_queries") else ""
    runs = str(r.get("baseline_runs", "-"))
    if r.get("ratio") is None:
        return (r["name"], runs, "-", "-", "-", "-", "-", queries, verdict)
    band = r.get("band")
    return (
        r["name"],
        runs,
        f"{r['baseline_median_ms']:.2f}",
        f"{r['current_median_ms']:.2f}",
        f"{r['ratio']:.2f}",
        "-" if band is None else f"{band[0]:.2f}-{band[1]:.2f}",
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
