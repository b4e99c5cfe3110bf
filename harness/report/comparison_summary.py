"""comparison.md: the comparison's verdict and table as Markdown for a CI step summary.

Written with the run summary's escaping (harness.report.summary), so a name from the
comparison cannot inject markup or break a table, and, like it, link-free.
"""

from __future__ import annotations

from harness.comparison_record import ComparisonFile
from harness.report.comparison_tables import (
    headline,
    reasons,
    sensitivity_line,
    settings_pairs,
    verdict_table,
    version_line,
)
from harness.report.summary import md, table_md
from harness.report.tables import Row, Table

MARKS = {"fail": "❌", "invalid": "⚠️", "pass": "✅"}
SETTINGS_SHOWN = ("repeats", "shape", "data", "tolerance", "confidence", "wall time", "host")


def _mark(comparison: ComparisonFile) -> str:
    if comparison.verdict == "INVALID":
        return MARKS["invalid"]
    return MARKS["fail" if comparison.failed else "pass"]


def _rows_md(comparison: ComparisonFile) -> list[str]:
    table = verdict_table(comparison)
    if not table.rows:
        return ["_No rows were compared._"]
    # table_md bolds the first cell of a "fail" row: only the first line of a failed row has one
    plain = Table(
        table.columns,
        tuple(
            Row(r.cells, "fail" if "fail" in r.status.split() and r.cells[0] else "")
            for r in table.rows
        ),
        table.numeric,
    )
    return table_md(plain)


def render_comparison_summary(comparison: ComparisonFile) -> str:
    lines = [f"## {_mark(comparison)} {md(headline(comparison))}: ContraVento comparison "]
    lines[0] += md(comparison.id)
    lines.append("")
    lines += [f"- {md(line)}" for line in reasons(comparison)]
    lines += [f"- {md(version_line(comparison, label))}" for label in ("A", "B")]
    lines.append("")
    if comparison.invalid:
        lines += ["### Why this comparison is INVALID", ""]
        lines += [f"1. {md(reason)}" for reason in comparison.invalid]
        lines.append("")
    if comparison.notes:
        lines += ["### Notes", ""]
        lines += [f"- {md(note)}" for note in comparison.notes]
        lines.append("")
    lines += ["### Verdict by row (failed first)", ""]
    lines += _rows_md(comparison)
    lines += ["", "### Sensitivity", "", md(sensitivity_line(comparison)), ""]
    settings = dict(settings_pairs(comparison))
    facts = [f"{k} {md(settings[k])}" for k in SETTINGS_SHOWN if k in settings]
    lines += ["### Settings", "", "; ".join(facts) + ".", ""]
    lines.append(
        "_Charts of every repetition, resource use and database cost: comparison.html "
        "in the comparison folder._"
    )
    return "\n".join(lines) + "\n"
