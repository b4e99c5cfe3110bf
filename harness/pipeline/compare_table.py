"""The comparison's verdict as the console prints it: a row per endpoint and benchmark."""

from __future__ import annotations

from harness.comparison_record import ComparisonFile, MetricVerdict
from harness.console import Column, Table, show_table
from harness.pipeline.context import RunContext

WIDEST = 9.99  # a change beyond +999 % is printed as such: an interval of two pairs can be vast


def percent(change: float) -> str:
    if change > WIDEST:
        return f">+{WIDEST:.0%}"
    return f"{change:+.0%}"


def change_cell(metric: MetricVerdict) -> str:
    if metric.change is None or metric.interval is None:
        return "-"
    lo, hi = metric.interval
    return f"{percent(metric.change)} [{percent(lo)}, {percent(hi)}]"


def share(value: float | None) -> str:
    if value is None:
        return "-"
    return f">{WIDEST:.0%}" if value > WIDEST else f"{value:.0%}"


def verdict_table(comparison: ComparisonFile) -> Table:
    """The rows as the console prints them: p95 (or the median of a benchmark), A and B."""
    lines = []
    for row in comparison.rows:
        metric = next(
            (m for m in row.metrics if m.metric in ("p95_ms", "median_ms") and m.judged),
            next((m for m in row.metrics if m.metric == "p50_ms" and m.judged), None),
        )
        if metric is None or metric.change is None:
            figures = ("-", "-", "-", "-", "-")
        else:
            figures = (
                f"{metric.a_median:.1f}" if metric.a_median is not None else "-",
                f"{metric.b_median:.1f}" if metric.b_median is not None else "-",
                change_cell(metric),
                share(metric.noise_floor),
                share(metric.detectable),
            )
        names = {"p95_ms": "p95", "median_ms": "median", "p50_ms": "p50"}
        call = row.call + (" FAIL" if row.failed else "")
        what = names[metric.metric] if metric is not None else "-"
        lines.append((row.name, what, *figures, call + (f" ({row.note})" if row.note else "")))
    sensitivity = [
        f"{n.metric}: noise floor {share(n.noise_floor)}, smallest detectable change"
        f" {share(n.detectable)} (median of {n.rows} rows)"
        for n in comparison.noise
        if n.noise_floor is not None and n.detectable is not None
    ]
    return Table(
        title=(
            f"A {comparison.versions[0].name} vs B {comparison.versions[1].name}:"
            f" {comparison.settings.repeats} pairs ({comparison.settings.order})"
        ),
        columns=(
            Column("endpoint / benchmark", width=38),
            Column("of", width=6),
            Column("A ms", "right", width=7),
            Column("B ms", "right", width=7),
            Column("change [interval]", "right", width=22),
            Column("noise", "right", width=6),
            Column("detect", "right", width=6),
            Column("verdict", gap=2),
        ),
        rows=tuple(lines),
        footer=(
            *sensitivity,
            *(f"INVALID: {why}" for why in comparison.invalid),
            f"verdict: {comparison.verdict}"
            + (" (fails the tolerance)" if comparison.failed else ""),
            f"wall time: {comparison.wall_s:.0f}s",
        ),
    )


def show_verdict(ctx: RunContext, comparison: ComparisonFile) -> None:
    show_table(ctx.progress, verdict_table(comparison))
