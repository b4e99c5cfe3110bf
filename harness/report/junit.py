"""junit.xml: one test case per SLO row and per benchmark, so CI shows what failed by name.

Suites: "slo" (classname slo, name "METHOD /path [group]"), "bench" (classname bench) and,
when a stack service crashed or restarted during the load, "services" (one failing case each).
A failing case carries observed against target in its failure message. A run that failed
without any failing row (no requests at all, say) gets a failing "run" case, so a CI
reading only this file never sees green for a red run.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from harness.report.figures import ms, percent, text
from harness.report.inputs import RunFolder
from harness.report.overview import incident_line, reasons, verdict
from harness.report.tables import bench_rows, dicts, mapping, slo_name, slo_rows

# Characters XML 1.0 cannot hold at all, escaped or not (an ANSI colour code in a message).
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _slo_case(row: dict[str, Any]) -> ET.Element:
    case = ET.Element("testcase", classname="slo", name=slo_name(row), time="0")
    observed = (
        f"observed p95 {ms(row.get('p95_ms'))} ms (target "
        + (f"{ms(row.get('target_p95_ms'))} ms" if row.get("target_p95_ms") else "none")
        + f"), failures {percent(row.get('failure_rate'))}"
        + (
            f" (limit {percent(row.get('max_failure_rate'))})"
            if row.get("max_failure_rate") is not None
            else ""
        )
    )
    if row.get("passed"):
        ET.SubElement(case, "system-out").text = observed
    else:
        failure = ET.SubElement(
            case, "failure", message=f"{text(row.get('reason')) or 'failed'}: {observed}"
        )
        failure.set("type", "SloFailure")
        failure.text = observed
    return case


def _bench_case(bench: dict[str, Any], compared: dict[str, Any] | None) -> ET.Element:
    name = text(bench.get("name"))
    seconds = bench.get("median_ms")
    rounds = bench.get("rounds")
    total = (
        seconds * rounds / 1000
        if isinstance(seconds, int | float) and isinstance(rounds, int)
        else 0.0
    )
    case = ET.Element("testcase", classname="bench", name=name, time=f"{total:.3f}")
    observed = (
        f"observed p95 {ms(bench.get('p95_ms'))} ms, median {ms(bench.get('median_ms'))} ms "
        f"(target p95 {ms(bench.get('target_p95_ms'))} ms)"
    )
    if compared is not None and "ratio" in compared:
        observed += (
            f"; vs baseline median {ms(compared.get('baseline_median_ms'))} ms: "
            f"ratio {text(compared.get('ratio'))}, {text(compared.get('verdict'))}"
        )
    outcome = bench.get("outcome")
    message = text(bench.get("message"))
    if outcome == "failed":
        node = ET.SubElement(case, "failure", message=f"{message or 'failed'}: {observed}")
        node.set("type", "BenchmarkFailure")
        node.text = observed
    elif outcome == "error":
        node = ET.SubElement(case, "error", message=f"{message or 'error'}: {observed}")
        node.text = observed
    elif outcome == "skipped":
        ET.SubElement(case, "skipped", message=message or "skipped")
    elif compared is not None and compared.get("verdict") == "regression":
        node = ET.SubElement(case, "failure", message=f"regression against baseline: {observed}")
        node.set("type", "Regression")
        node.text = observed
    else:
        ET.SubElement(case, "system-out").text = observed
    return case


def _incident_case(incident: dict[str, Any]) -> ET.Element:
    case = ET.Element("testcase", classname="services", name=text(incident.get("service")))
    case.set("time", "0")
    line = incident_line(incident)
    failure = ET.SubElement(case, "failure", message=line)
    failure.set("type", "ServiceIncident")
    failure.text = line + (
        f"; log tail: {incident['log_tail']}" if incident.get("log_tail") else ""
    )
    return case


def _suite(name: str, cases: list[ET.Element], seconds: float) -> ET.Element:
    suite = ET.Element("testsuite", name=name)
    for key, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
        suite.set(key, str(sum(1 for c in cases if c.find(tag) is not None)))
    suite.set("tests", str(len(cases)))
    suite.set("time", f"{seconds:.3f}")
    suite.extend(cases)
    return suite


def _seconds(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def render_junit(run: RunFolder) -> str:
    results = run.results
    suites: list[ET.Element] = []
    meta = mapping(results.get("run"))
    shape = mapping(meta.get("shape"))
    slo = [_slo_case(r) for r in slo_rows(results)]
    if slo:
        suites.append(_suite("slo", slo, _seconds(shape.get("duration_s"))))
    comparison = results.get("comparison")
    compared = {
        text(c.get("name")): c
        for c in dicts(comparison.get("rows") if isinstance(comparison, dict) else None)
    }
    bench = [_bench_case(b, compared.get(text(b.get("name")))) for b in bench_rows(results)]
    if bench:
        summary = results.get("benchmarks")
        seconds = _seconds(summary.get("seconds")) if isinstance(summary, dict) else 0.0
        suites.append(_suite("bench", bench, seconds))
    services = [_incident_case(i) for i in dicts(results.get("incidents"))]
    if services:
        suites.append(_suite("services", services, 0.0))
    cases = slo + bench + services
    failing = any(c.find("failure") is not None or c.find("error") is not None for c in cases)
    if verdict(results) != "PASS" and not failing:
        case = ET.Element("testcase", classname="run", name="verdict", time="0")
        why = "; ".join(reasons(results)) or "the run did not pass"
        ET.SubElement(case, "failure", message=f"verdict {verdict(results)}: {why}").text = why
        suites.append(_suite("run", [case], 0.0))
    root = ET.Element("testsuites", name=f"contravento {text(meta.get('id'))}".strip())
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(s.get(key, "0")) for s in suites)))
    root.set("time", f"{sum(float(s.get('time', '0')) for s in suites):.3f}")
    root.extend(suites)
    for node in root.iter():
        node.text = NOT_XML.sub("?", node.text) if node.text else node.text
        for key, value in node.attrib.items():
            node.set(key, NOT_XML.sub("?", value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
