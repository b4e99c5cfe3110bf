"""The comparison's figures as text: its verdict table, sensitivity and costs, for page and summary.

Rows carry status words the renderers turn into style: "fail" (a failed row), "info" (a
metric shown but not judged), "qdiff"/"rdiff" (queries or rows per call differ between A and
B) and "joined" (not the last line of its row). Cells are unescaped text. Every figure here is
what comparison.json says; nothing is judged again.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable

from harness.comparison_record import (
    ComparisonFile,
    ExactCount,
    Label,
    MetricName,
    MetricVerdict,
    Noise,
    Repetition,
    VersionInfo,
)
from harness.comparison_record import Row as Verdict
from harness.report.figures import MISSING, duration, finite, number, per_call, text
from harness.report.tables import Row, Table

METRIC_LABELS: dict[MetricName, str] = {
    "p50_ms": "p50 ms",
    "p95_ms": "p95 ms",
    "rps": "requests/s",
    "median_ms": "median ms",
}
KIND_ORDER = {"endpoint": 0, "total": 1, "benchmark": 2}
ROLES: dict[Label, str] = {"A": "base", "B": "candidate"}
VERDICT_COLUMNS = (
    "result",
    "name",
    "metric",
    "call",
    "A → B",
    "change [interval]",
    "noise floor",
    "detectable",
    "queries A → B",
    "rows A → B",
    "failures A / B",
    "note",
)
QUERIES_COLUMN, ROWS_COLUMN = 8, 9
COUNT_CLASSES = {QUERIES_COLUMN: "q", ROWS_COLUMN: "r"}
BENCH_COUNT_CLASSES = {1: "q", 2: "q", 3: "r", 4: "r"}


def short_ms(value: object) -> str:
    """Milliseconds for a comparison: 1,250 and 12 whole, 3.4 to a tenth, 0.04 to a hundredth."""
    figure = finite(value)
    if figure is None:
        return MISSING
    if abs(figure) >= 10:
        return f"{figure:,.0f}"
    return f"{figure:.1f}" if figure == 0 or abs(figure) >= 0.1 else f"{figure:.2f}"


def signed(fraction: object) -> str:
    """A relative change (0.253) as a signed percentage: +25.3 %."""
    figure = finite(fraction)
    return MISSING if figure is None else f"{figure * 100:+.1f} %"


def spread(fraction: object) -> str:
    """A half-width or a smallest change, either way (0.042): ±4.2 %."""
    figure = finite(fraction)
    return MISSING if figure is None else f"±{figure * 100:.1f} %"


def interval(bounds: tuple[float, float] | None) -> str:
    if bounds is None:
        return MISSING
    low, high = bounds
    return f"[{low * 100:+.1f}, {high * 100:+.1f}] %"


def metric_value(metric: MetricName, value: object) -> str:
    return number(value, 1) if metric == "rps" else short_ms(value)


def change_cell(m: MetricVerdict) -> str:
    if m.change is None:
        return MISSING
    return f"{signed(m.change)} {interval(m.interval)}"


def count_cell(count: ExactCount | None) -> str:
    if count is None:
        return ""
    cell = f"{per_call(count.a)} → {per_call(count.b)}"
    return cell + " (differs)" if count.differs else cell


def version(comparison: ComparisonFile, label: Label) -> VersionInfo | None:
    return next((v for v in comparison.versions if v.label == label), None)


def version_line(comparison: ComparisonFile, label: Label) -> str:
    """ "A (base): main, git revision 1a2b3c4, image cv-backend:1a2b3c4" """
    info = version(comparison, label)
    if info is None:
        return f"{label} ({ROLES[label]}): not recorded"
    parts = [info.name]
    if info.kind == "git":
        parts.append(f"git revision {info.revision or '?'}")
    elif info.kind == "project":
        parts.append(f"project file {info.project_file}")
    if info.image not in info.name:
        parts.append(f"image {info.image}")
    return f"{label} ({ROLES[label]}): " + ", ".join(parts)


def pairs(comparison: ComparisonFile) -> int:
    found = {r.pair for r in comparison.repetitions}
    return len(found) if found else comparison.settings.repeats


def ordered(comparison: ComparisonFile) -> list[Verdict]:
    """Failed rows first, then endpoints, the total, benchmarks, each in the file's order."""
    return sorted(comparison.rows, key=lambda r: (not r.failed, KIND_ORDER[r.kind]))


def headline(comparison: ComparisonFile) -> str:
    return comparison.verdict.upper()


def verdict_class(comparison: ComparisonFile) -> str:
    """The run page's verdict styles: red for failed, amber for INVALID, green otherwise."""
    if comparison.verdict == "INVALID":
        return "invalid"
    return "fail" if comparison.failed else "pass"


def reasons(comparison: ComparisonFile) -> list[str]:
    """The verdict in a few lines: who against whom, which rows failed, how strict the test."""
    settings = comparison.settings
    lines = [
        f"B ({comparison_name(comparison, 'B')}) against A ({comparison_name(comparison, 'A')}): "
        f"{pairs(comparison)} pairs, run in the order {settings.order}"
    ]
    if comparison.verdict == "INVALID":
        count = len(comparison.invalid)
        lines.append(
            f"not judged: {count} reason{'s' if count != 1 else ''} the repetitions describe "
            "the test bed rather than the versions"
        )
    failed = [r.name for r in comparison.rows if r.failed]
    if failed:
        lines.append(f"{len(failed)} of {len(comparison.rows)} rows failed: {', '.join(failed)}")
    else:
        lines.append(f"no row failed ({len(comparison.rows)} compared)")
    for call in ("slower", "faster"):
        within = [r.name for r in comparison.rows if r.call == call and not r.failed]
        if within:
            lines.append(f"{call}: {', '.join(within)}")
    lines.append(
        f"failing takes a slowdown beyond {spread(settings.tolerance)} or more queries per call; "
        f"intervals at {number(settings.confidence * 100, 0)} % confidence for the whole family"
    )
    return lines


def comparison_name(comparison: ComparisonFile, label: Label) -> str:
    info = version(comparison, label)
    return info.name if info is not None else "?"


def _metric_lines(row: Verdict) -> list[tuple[str, ...]]:
    lines: list[tuple[str, ...]] = []
    for m in row.metrics:
        shown = METRIC_LABELS[m.metric] + ("" if m.judged else " (not judged)")
        lines.append(
            (
                shown,
                m.call,
                f"{metric_value(m.metric, m.a_median)} → {metric_value(m.metric, m.b_median)}",
                change_cell(m),
                spread(m.noise_floor),
                spread(m.detectable),
            )
        )
    return lines or [(MISSING, row.call, MISSING, MISSING, MISSING, MISSING)]


def _verdict_rows(row: Verdict) -> list[Row]:
    result = "FAIL" if row.failed else row.call
    failures = "" if row.kind == "benchmark" else f"{row.failures[0]:,} / {row.failures[1]:,}"
    counts = (count_cell(row.queries), count_cell(row.rows))
    lines = _metric_lines(row)
    out = []
    for i, cells in enumerate(lines):
        status = ["fail"] if row.failed else []
        if i == 0:
            first = (result, row.name, *cells, *counts, failures, row.note)
            status += ["qdiff"] if row.queries is not None and row.queries.differs else []
            status += ["rdiff"] if row.rows is not None and row.rows.differs else []
        else:
            first = ("", "", *cells, "", "", "", "")
        status += [] if i >= len(row.metrics) or row.metrics[i].judged else ["info"]
        status += ["joined"] if i < len(lines) - 1 else []
        out.append(Row(first, " ".join(status)))
    return out


def verdict_table(comparison: ComparisonFile) -> Table:
    return Table(
        columns=VERDICT_COLUMNS,
        rows=tuple(line for row in ordered(comparison) for line in _verdict_rows(row)),
        numeric=frozenset({4, 5, 6, 7, 8, 9, 10}),
    )


def sensitivity_line(comparison: ComparisonFile) -> str:
    """The comparison's sensitivity in a sentence: the smallest change it could have seen."""
    known = [n for n in comparison.noise if n.detectable is not None or n.noise_floor is not None]
    if not known:
        return "Not recorded: too few pairs to tell a change from noise."
    level = number(comparison.settings.confidence * 100, 0)
    seen = _listed(known, lambda n: n.detectable)
    floor = _listed(known, lambda n: n.noise_floor)
    return (
        f"With {pairs(comparison)} pairs at {level} % confidence, the smallest "
        f"change this comparison could detect (80 % power) was {seen}; A against itself moved "
        f"by {floor} (medians over the judged rows). A smaller change reads as no change."
    )


def _listed(noise: Iterable[Noise], value: Callable[[Noise], float | None]) -> str:
    parts = [f"{spread(value(n))} in {METRIC_LABELS[n.metric]}" for n in noise]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def noise_table(comparison: ComparisonFile) -> Table | None:
    if not comparison.noise:
        return None
    return Table(
        columns=("metric", "noise floor (A vs A)", "smallest detectable change", "rows"),
        rows=tuple(
            Row(
                (
                    METRIC_LABELS[n.metric],
                    spread(n.noise_floor),
                    spread(n.detectable),
                    number(n.rows),
                )
            )
            for n in comparison.noise
        ),
        numeric=frozenset({1, 2, 3}),
    )


def median_of(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def of_version(comparison: ComparisonFile, label: Label) -> list[Repetition]:
    return sorted((r for r in comparison.repetitions if r.version == label), key=lambda r: r.order)


def benchmark_names(comparison: ComparisonFile) -> list[str]:
    names = [r.name for r in comparison.rows if r.kind == "benchmark"]
    names += sorted({b for r in comparison.repetitions for b in r.benchmarks} - set(names))
    return names


def _bench_median(reps: list[Repetition], name: str, field: str) -> float | None:
    return median_of(getattr(r.benchmarks.get(name), field, None) for r in reps)


def bench_cost_table(comparison: ComparisonFile) -> Table | None:
    """Per benchmark, A's and B's cost per call: exact counts as judged, times as medians."""
    names = benchmark_names(comparison)
    if not names:
        return None
    judged = {r.name: r for r in comparison.rows if r.kind == "benchmark"}
    reps = {label: of_version(comparison, label) for label in ROLES}
    rows = []
    for name in names:
        verdict = judged.get(name)
        cells = [name]
        status = ["fail"] if verdict is not None and verdict.failed else []
        for field, mark in (("queries", "qdiff"), ("rows", "rdiff")):
            exact: ExactCount | None = getattr(verdict, field, None)
            for label in ROLES:
                value = None if exact is None else getattr(exact, label.lower())
                if value is None:
                    value = _bench_median(reps[label], name, field)
                cells.append(per_call(value))
            status += [mark] if exact is not None and exact.differs else []
        for field in ("exec_ms", "median_ms"):
            cells += [short_ms(_bench_median(reps[label], name, field)) for label in ROLES]
        rows.append(Row(tuple(cells), " ".join(status)))
    return Table(
        columns=(
            "benchmark",
            "queries A",
            "queries B",
            "rows A",
            "rows B",
            "DB ms A",
            "DB ms B",
            "median ms A",
            "median ms B",
        ),
        rows=tuple(rows),
        numeric=frozenset(range(1, 9)),
    )


def resource_table(comparison: ComparisonFile) -> Table | None:
    """Per container group, A's and B's median over their repetitions."""
    groups = sorted({g for r in comparison.repetitions for g in r.resources})
    if not groups:
        return None
    reps = {label: of_version(comparison, label) for label in ROLES}
    rows = []
    for group in groups:
        cells = [group]
        for field, decimals in (("cpu_cores", 2), ("cpu_cores_peak", 2), ("memory_mib_peak", 0)):
            for label in ROLES:
                values = (getattr(r.resources.get(group), field, None) for r in reps[label])
                cells.append(number(median_of(values), decimals))
        rows.append(Row(tuple(cells)))
    return Table(
        columns=(
            "containers",
            "CPU cores A",
            "CPU cores B",
            "CPU peak A",
            "CPU peak B",
            "memory peak MiB A",
            "memory peak MiB B",
        ),
        rows=tuple(rows),
        numeric=frozenset(range(1, 7)),
    )


def versions_table(comparison: ComparisonFile) -> Table:
    rows = []
    for label in ROLES:
        info = version(comparison, label)
        if info is None:
            rows.append(Row((f"{label} ({ROLES[label]})", "not recorded", "", "", "", "")))
            continue
        rows.append(
            Row(
                (
                    f"{label} ({ROLES[label]})",
                    info.name,
                    info.kind,
                    info.image,
                    text(info.revision),
                    info.project_file,
                )
            )
        )
    return Table(("version", "name", "kind", "image", "revision", "project file"), tuple(rows))


def settings_pairs(comparison: ComparisonFile) -> list[tuple[str, str]]:
    """(label, value) pairs of how the comparison ran, in reading order; empty ones left out."""
    s = comparison.settings
    bench = "did not run" if s.bench_rounds is None else f"{number(s.bench_rounds)} rounds"
    pairs_ = [
        ("repeats", f"{number(s.repeats)} pairs, in the order {s.order}"),
        ("shape", f"{s.shape}, {number(s.users)} users, {duration(s.duration_s)} measured"),
        ("warm-up", duration(s.warmup_s)),
        ("scenario", s.scenario),
        ("data", f"profile {s.profile}, seed {s.seed}"),
        ("benchmarks", bench),
        ("tolerance", spread(s.tolerance)),
        ("confidence", f"{number(s.confidence * 100, 0)} % for the family (Holm)"),
        ("SLO file", text(s.slo_file)),
        ("wall time", duration(comparison.wall_s)),
        ("host", f"{comparison.host}, {number(comparison.cpus)} CPUs"),
        ("started", comparison.started_at),
        ("finished", comparison.finished_at),
        ("comparison", comparison.id),
    ]
    return [(k, v) for k, v in pairs_ if v and v != MISSING]
