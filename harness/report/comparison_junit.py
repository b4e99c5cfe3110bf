"""comparison-junit.xml: one test case per compared row, so CI names what got slower.

Suites: "invalid" (an INVALID comparison: one case, an <error type="invalid"> with its
reasons; the rows are then skipped, as nothing was judged), "endpoints" (classname
compare.endpoint, the load's total among them) and "benchmarks" (compare.benchmark). A
failed row's <failure> message names its slower metrics with their change and interval,
and more queries per call. A failed comparison without a failed row gets a failing
"compare.verdict" case, so a CI reading only this file never sees green for red.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from harness.comparison_record import ComparisonFile
from harness.comparison_record import Row as Verdict
from harness.report.comparison_tables import (
    METRIC_LABELS,
    change_cell,
    count_cell,
    headline,
    metric_value,
    ordered,
    spread,
)
from harness.report.junit import NOT_XML, _suite

CLASSNAMES = {"endpoint": "compare.endpoint", "total": "compare.endpoint"}


def _metric_lines(row: Verdict) -> list[str]:
    return [
        f"{METRIC_LABELS[m.metric]}{'' if m.judged else ' (not judged)'}: {m.call}, "
        f"A {metric_value(m.metric, m.a_median)} -> B {metric_value(m.metric, m.b_median)}, "
        f"change {change_cell(m)}, noise floor {spread(m.noise_floor)}, "
        f"detectable {spread(m.detectable)}"
        for m in row.metrics
    ]


def _why_failed(row: Verdict) -> str:
    parts = [
        f"{METRIC_LABELS[m.metric]} slower {change_cell(m)} "
        f"({metric_value(m.metric, m.a_median)} -> {metric_value(m.metric, m.b_median)})"
        for m in row.metrics
        if m.judged and m.call == "slower"
    ]
    if row.queries is not None and row.queries.differs:
        parts.append(f"queries per call {count_cell(row.queries)}")
    if row.rows is not None and row.rows.differs:
        parts.append(f"rows per call {count_cell(row.rows)}")
    why = "; ".join(parts) or row.note or "failed"
    return f"{why} (tolerance {spread(row.tolerance)})"


def _row_case(row: Verdict, judged: bool) -> ET.Element:
    classname = CLASSNAMES.get(row.kind, "compare.benchmark")
    case = ET.Element("testcase", classname=classname, name=row.name, time="0")
    detail = "\n".join(
        [
            *_metric_lines(row),
            *([f"queries per call {count_cell(row.queries)}"] if row.queries else []),
            *([f"rows per call {count_cell(row.rows)}"] if row.rows else []),
            *([f"failed requests A {row.failures[0]}, B {row.failures[1]}"]),
            *([row.note] if row.note else []),
        ]
    )
    if not judged:
        ET.SubElement(case, "skipped", message="not judged: the comparison is INVALID")
    elif row.failed:
        failure = ET.SubElement(case, "failure", message=f"{row.call}: {_why_failed(row)}")
        failure.set("type", "Slower")
        failure.text = detail
    else:
        ET.SubElement(case, "system-out").text = detail
    return case


def _invalid_case(comparison: ComparisonFile) -> ET.Element:
    case = ET.Element("testcase", classname="compare.invalid", name="comparison", time="0")
    reasons = comparison.invalid or ["the comparison was judged INVALID"]
    error = ET.SubElement(case, "error", message="; ".join(reasons))
    error.set("type", "invalid")
    error.text = "\n".join(reasons)
    return case


def render_comparison_junit(comparison: ComparisonFile) -> str:
    judged = comparison.verdict != "INVALID"
    suites: list[ET.Element] = []
    if not judged:
        suites.append(_suite("invalid", [_invalid_case(comparison)], 0.0))
    rows = ordered(comparison)
    for name, kinds in (("endpoints", ("endpoint", "total")), ("benchmarks", ("benchmark",))):
        cases = [_row_case(r, judged) for r in rows if r.kind in kinds]
        if cases:
            suites.append(_suite(name, cases, 0.0))
    if judged and comparison.failed and not any(r.failed for r in rows):
        case = ET.Element("testcase", classname="compare.verdict", name="verdict", time="0")
        why = f"verdict {headline(comparison)}: the comparison failed"
        ET.SubElement(case, "failure", message=why).text = why
        suites.append(_suite("verdict", [case], 0.0))
    root = ET.Element("testsuites", name=f"contravento comparison {comparison.id}")
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(s.get(key, "0")) for s in suites)))
    root.set("time", f"{comparison.wall_s:.3f}")
    root.extend(suites)
    for node in root.iter():
        node.text = NOT_XML.sub("?", node.text) if node.text else node.text
        for key, value in node.attrib.items():
            node.set(key, NOT_XML.sub("?", value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
