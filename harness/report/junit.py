"""junit.xml: one test case per SLO row and per benchmark, so CI shows what failed by name.

Suites: "invalid" (one case per reason an INVALID run's numbers describe the test bed, each
an <error type="invalid">: the run could not be judged, which is not a failure of the
backend), "slo" (classname slo, name "METHOD /path [group]"), "bench" (classname bench),
"users" (one case: the users the load planned against those it reached, failing when it fell
short, with the first start error) and, when a stack service crashed or restarted during the
load, "services" (one failing case each). A failing case carries observed against target in
its failure message; an SLO case also lists its endpoint's failures by status and message,
and the diagnosed causes that name its endpoint (or that no cause was found). A
run that failed without any failing row (no requests at all, say) gets a failing "run" case,
so a CI reading only this file never sees green for a red run.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from harness.record import (
    BenchRow,
    ComparisonRow,
    FailureGroup,
    Incident,
    InvalidReason,
    RunRecord,
    SloRow,
    UserCounts,
)
from harness.report.diagnosis import NO_CAUSE, cause_lines, causes_of, invalid_lines
from harness.report.figures import ms, percent
from harness.report.inputs import RunFolder
from harness.report.overview import failure_line, incident_line, reasons, users_line
from harness.report.tables import bench_rows, compared_rows, slo_name, slo_rows

# Characters XML 1.0 cannot hold at all, escaped or not (an ANSI colour code in a message).
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _why(record: RunRecord, endpoint: str) -> list[str]:
    """The diagnosed causes that name `endpoint`, as text for its failing SLO case."""
    if record.causes is None:
        return []  # not diagnosed
    if not record.causes:
        return ["", f"why: {NO_CAUSE.lower()}"]
    lines: list[str] = []
    for cause in causes_of(record, endpoint):
        first, *rest = cause_lines(cause)
        lines += ["", f"why: {first}", *(f"  {line}" for line in rest)]
    return lines


def _slo_case(row: SloRow, failures: list[FailureGroup], why: list[str]) -> ET.Element:
    case = ET.Element("testcase", classname="slo", name=slo_name(row), time="0")
    target = f"{ms(row.target_p95_ms)} ms" if row.target_p95_ms else "none"
    observed = (
        f"observed p95 {ms(row.p95_ms)} ms (target {target}), "
        f"failures {percent(row.failure_rate)} (limit {percent(row.max_failure_rate)})"
    )
    detail = "\n".join([observed, *(failure_line(f) for f in failures)])
    if row.passed:
        ET.SubElement(case, "system-out").text = detail
    else:
        failure = ET.SubElement(case, "failure", message=f"{row.reason or 'failed'}: {observed}")
        failure.set("type", "SloFailure")
        failure.text = "\n".join([detail, *why])
    return case


def _invalid_case(reason: InvalidReason) -> ET.Element:
    case = ET.Element("testcase", classname="invalid", name=reason.code, time="0")
    error = ET.SubElement(case, "error", message=reason.message)
    error.set("type", "invalid")
    error.text = "\n".join(invalid_lines(reason))
    return case


def _users_case(users: UserCounts) -> ET.Element:
    case = ET.Element("testcase", classname="users", name="planned users reached", time="0")
    line = users_line(users)
    if users.short:
        failure = ET.SubElement(case, "failure", message=line)
        failure.set("type", "UsersNotReached")
        failure.text = line
    else:
        ET.SubElement(case, "system-out").text = line
    return case


def _bench_case(bench: BenchRow, compared: ComparisonRow | None) -> ET.Element:
    total = (
        bench.median_ms * bench.rounds / 1000
        if bench.median_ms is not None and bench.rounds is not None
        else 0.0
    )
    case = ET.Element("testcase", classname="bench", name=bench.name, time=f"{total:.3f}")
    observed = (
        f"observed p95 {ms(bench.p95_ms)} ms, median {ms(bench.median_ms)} ms "
        f"(target p95 {ms(bench.target_p95_ms)} ms)"
    )
    if compared is not None and compared.ratio is not None:
        observed += (
            f"; vs baseline median {ms(compared.baseline_median_ms)} ms: "
            f"ratio {compared.ratio}, {compared.verdict}"
        )
    message = bench.message
    if bench.outcome == "failed":
        node = ET.SubElement(case, "failure", message=f"{message or 'failed'}: {observed}")
        node.set("type", "BenchmarkFailure")
        node.text = observed
    elif bench.outcome == "error":
        node = ET.SubElement(case, "error", message=f"{message or 'error'}: {observed}")
        node.text = observed
    elif bench.outcome == "skipped":
        ET.SubElement(case, "skipped", message=message or "skipped")
    elif compared is not None and compared.verdict == "regression":
        node = ET.SubElement(case, "failure", message=f"regression against baseline: {observed}")
        node.set("type", "Regression")
        node.text = observed
    else:
        ET.SubElement(case, "system-out").text = observed
    return case


def _incident_case(incident: Incident) -> ET.Element:
    case = ET.Element("testcase", classname="services", name=incident.service)
    case.set("time", "0")
    line = incident_line(incident)
    failure = ET.SubElement(case, "failure", message=line)
    failure.set("type", "ServiceIncident")
    failure.text = line + (f"; log tail: {incident.log_tail}" if incident.log_tail else "")
    return case


def _suite(name: str, cases: list[ET.Element], seconds: float) -> ET.Element:
    suite = ET.Element("testsuite", name=name)
    for key, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
        suite.set(key, str(sum(1 for c in cases if c.find(tag) is not None)))
    suite.set("tests", str(len(cases)))
    suite.set("time", f"{seconds:.3f}")
    suite.extend(cases)
    return suite


def render_junit(run: RunFolder) -> str:
    record = run.results
    suites: list[ET.Element] = []
    invalid = [_invalid_case(r) for r in record.invalid]
    if invalid:
        suites.append(_suite("invalid", invalid, 0.0))
    failures = record.failures or []
    slo = [
        _slo_case(
            r,
            [f for f in failures if f.endpoint == r.endpoint],
            _why(record, r.endpoint),
        )
        for r in slo_rows(record)
    ]
    if slo:
        shape = record.run.shape
        suites.append(_suite("slo", slo, shape.duration_s if shape is not None else 0.0))
    users = [_users_case(record.users)] if record.users is not None else []
    if users:
        suites.append(_suite("users", users, 0.0))
    compared = compared_rows(record)
    bench = [_bench_case(b, compared.get(b.name)) for b in bench_rows(record)]
    if bench and record.benchmarks is not None:
        suites.append(_suite("bench", bench, record.benchmarks.seconds))
    services = [_incident_case(i) for i in record.incidents or []]
    if services:
        suites.append(_suite("services", services, 0.0))
    cases = invalid + slo + users + bench + services
    failing = any(c.find("failure") is not None or c.find("error") is not None for c in cases)
    if record.verdict != "PASS" and not failing:
        case = ET.Element("testcase", classname="run", name="verdict", time="0")
        why = "; ".join(reasons(record)) or "the run did not pass"
        ET.SubElement(case, "failure", message=f"verdict {record.verdict}: {why}").text = why
        suites.append(_suite("run", [case], 0.0))
    root = ET.Element("testsuites", name=f"contravento {record.run.id}")
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
