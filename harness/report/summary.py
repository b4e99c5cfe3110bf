"""summary.md: the verdict and its tables as GitHub-flavoured Markdown for a CI step summary.

It is link-free: a CI summary outlives the runner's files, so a link would point nowhere.
Addresses are written as code spans, which GitHub does not turn into links, and text from
the run is escaped so an endpoint name cannot inject markup or break a table.
"""

from __future__ import annotations

import re

from harness.record import RunRecord
from harness.report.diagnosis import (
    NO_CAUSE,
    cause_lines,
    invalid_lines,
    ranked_causes,
    window_line,
)
from harness.report.inputs import RunFolder
from harness.report.overview import metadata, reasons, warnings
from harness.report.tables import (
    Table,
    bench_table,
    capacity_line,
    capacity_table,
    failure_table,
    model_lines,
    slo_table,
)

# What GitHub would autolink: scheme://... and www.example.
ADDRESS = re.compile(r"(?:\b[A-Za-z][A-Za-z0-9+.-]*://|\bwww\.)\S+")
# Enough to keep text literal where it lands (a table cell, a list item): with "[" escaped
# no link can form, so "(", "!" and the like may stay as they are.
SPECIAL = re.compile(r"([\\`*_\[\]|~<>])")
SUMMARY_LOG_LINES = 20  # the whole tail is in index.html and the run folder
BACKTICKS = re.compile(r"`+")  # a log line cannot close a fence longer than any run in it
HEADLINE = {"PASS": "✅ PASS", "FAIL": "❌ FAIL", "INVALID": "⚠️ INVALID"}


def _plain(text: str) -> str:
    escaped = text.replace("&", "&amp;")
    return SPECIAL.sub(lambda m: {"<": "&lt;", ">": "&gt;"}.get(m[1], "\\" + m[1]), escaped)


def _code(text: str) -> str:
    # a backtick would end the span; "|" must be escaped even inside one in a table
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"


def md(text: str) -> str:
    """One line of inline Markdown that shows `text` literally, addresses as code spans."""
    text = " ".join(text.split())
    out, last = [], 0
    for match in ADDRESS.finditer(text):
        out.append(_plain(text[last : match.start()]))
        out.append(_code(match[0]))
        last = match.end()
    out.append(_plain(text[last:]))
    return "".join(out)


def table_md(table: Table) -> list[str]:
    align = ["---:" if i in table.numeric else "---" for i in range(len(table.columns))]
    lines = [
        "| " + " | ".join(md(c) for c in table.columns) + " |",
        "| " + " | ".join(align) + " |",
    ]
    for row in table.rows:
        cells = [md(c) or " " for c in row.cells]
        if row.status == "fail":
            # bold the result so failed rows stand out even where colour does not show
            cells[0] = f"**{cells[0]}**"
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _numbered(title: str, details: list[str]) -> list[str]:
    """A numbered item in bold, its details a list under it (Markdown numbers each "1.")."""
    return [
        f"1. **{md(title)}**",
        *(f"   {md(d)}" if d.startswith("- ") else f"   - {md(d)}" for d in details),
    ]


def validity_md(record: RunRecord) -> list[str]:
    """Why the run is INVALID, and why it failed, as Markdown; [] when it says neither."""
    lines: list[str] = []
    if record.invalid:
        lines += ["### Why this run is INVALID", ""]
        lines.append("Its numbers describe the test bed rather than the system under test.")
        lines.append("")
        for reason in record.invalid:
            lines += _numbered(reason.message, invalid_lines(reason))
        lines.append("")
    if record.causes is not None:
        lines += ["### Why it failed", ""]
        causes = ranked_causes(record)
        if not causes:
            lines.append(f"_{NO_CAUSE}._")
        for cause in causes:
            lines += _numbered(cause.summary, cause_lines(cause)[1:])
        lines.append("")
    if record.window is not None:
        lines += [md(window_line(record.window)), ""]
    return lines


def render_summary(run: RunFolder) -> str:
    record = run.results
    meta = dict(metadata(record))
    lines = [f"## {HEADLINE[record.verdict]}: ContraVento run {md(record.run.id)}", ""]
    lines += [f"- {md(reason)}" for reason in reasons(record)]
    lines.append("")
    lines += validity_md(record)
    lines.append("### SLO (failed rows first)")
    lines.append("")
    slo = slo_table(record)
    if slo is not None:
        lines += table_md(slo)
    elif record.run.kind == "bench":
        lines.append("_SLO rows: not recorded in this run (a benchmark-only run has no load)._")
    else:
        lines.append("_No SLO rows: the load recorded no requests._")
    lines.append("")
    found_rate = capacity_line(record)
    if found_rate is not None:
        lines += ["### Capacity search", "", f"**{md(found_rate)}**", ""]
        steps = capacity_table(record)
        lines += [*(table_md(steps) if steps is not None else []), ""]
    lines += [md(line) + "  " for line in model_lines(record)]
    lines.append("")
    failures = failure_table(record)
    if failures is not None:
        lines += ["### Failures by endpoint, status and message (after the warm-up)", ""]
        lines += table_md(failures)
        lines.append("")
    found = warnings(run)
    if found:
        lines += ["### Warnings", ""]
        lines += [f"- ⚠️ {md(w)}" for w in found]
        lines.append("")
    for service, log in sorted(run.service_logs.items()):
        last = log.rstrip("\n").splitlines()[-SUMMARY_LOG_LINES:]
        fence = "`" * (3 + max((len(run_) for run_ in BACKTICKS.findall(log)), default=0))
        lines += [f"### Last lines of the {md(service)} log", "", f"{fence}text", *last, fence, ""]
    lines += ["### Benchmarks", ""]
    bench = bench_table(record)
    if bench is not None:
        if record.comparison is not None:
            lines.append(
                f"Compared with baseline {md(record.comparison.baseline)}; "
                "only a regression fails the gate."
            )
            lines.append("")
        lines += table_md(bench)
    else:
        lines.append("_Benchmarks: not recorded in this run._")
    lines.append("")
    keys = ("commit", "shape", "scenario", "workers", "provider", "host", "started", "wall time")
    facts = [f"{k} {md(meta[k])}" for k in keys if k in meta]
    if facts:
        lines += ["### Run", "", "; ".join(facts) + ".", ""]
    lines.append("_Charts, per-endpoint results and resource use: index.html in the run folder._")
    return "\n".join(lines) + "\n"
