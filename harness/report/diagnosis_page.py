"""The page's sections on how far to trust the run, and why it failed.

Why it is INVALID and why it failed come straight under the verdict; the measured window,
the test bed (host CPU, monitor coverage) and the backend's profile come with the other
measurements. Text is taken from harness.report.diagnosis and escaped here.
"""

from __future__ import annotations

from html import escape
from typing import Any

from harness.record import Cause, InvalidReason
from harness.report.diagnosis import (
    NO_CAUSE,
    checks_table,
    coverage_table,
    host_line,
    host_table,
    outside_table,
    profile_line,
    ranked_causes,
    top_functions_table,
)
from harness.report.inputs import HOST, PROFILE_SUMMARY, RunFolder
from harness.report.markup import figure, items, missing, table_html


def _hint(hint: str | None) -> str:
    return f'<p class="hint">{escape(hint)}</p>' if hint else ""


def _invalid_item(reason: InvalidReason) -> str:
    return (
        f'<li data-code="{escape(reason.code)}"><strong>{escape(reason.message)}</strong>'
        f"{items(reason.evidence, 'evidence')}{_hint(reason.hint)}</li>"
    )


def invalid_section(run: RunFolder) -> str:
    """Each reason the run is INVALID, with what was measured and what to do; "" when valid."""
    reasons = run.results.invalid
    if not reasons:
        return ""
    listed = "".join(_invalid_item(r) for r in reasons)
    return (
        '<section id="invalid"><h2>Why this run is INVALID</h2>'
        "<p>Its numbers describe the test bed rather than the system under test, so they "
        "are no verdict on the backend: fix the test bed and run again.</p>"
        f'<ol class="reasons invalid">{listed}</ol></section>'
    )


def _cause_item(cause: Cause) -> str:
    explains = (
        f'<span class="explains"> &mdash; explains {escape(", ".join(cause.endpoints))}</span>'
        if cause.endpoints
        else ""
    )
    return (
        f'<li data-code="{escape(cause.code)}"><strong>{escape(cause.summary)}</strong>'
        f"{explains}{items(cause.evidence, 'evidence')}{_hint(cause.hint)}</li>"
    )


def why_section(run: RunFolder) -> str:
    """The failure's causes, heaviest first; says so when none was found; "" if not diagnosed."""
    if run.results.causes is None:
        return ""
    causes = ranked_causes(run.results)
    if not causes:
        body = (
            f'<p class="missing">{escape(NO_CAUSE)}: the SLO table below says what failed, '
            "but nothing the run recorded explains it.</p>"
        )
    else:
        body = f'<ol class="reasons causes">{"".join(_cause_item(c) for c in causes)}</ol>'
    return f'<section id="why"><h2>Why it failed</h2>{body}</section>'


def window_section(run: RunFolder) -> str:
    """The steadiness checks of the measured window (its one-line summary is in the verdict)."""
    window = run.results.window
    if window is None:
        return ""
    if window.ramp_measured:
        body = (
            "<p>This shape ramps its users on purpose, so the window measures the ramp: "
            "the figures are meant to move, and steadiness is not asked of them.</p>"
        )
    else:
        body = (
            "<p>Each figure over the first third of the window against its last third "
            "(throughput from the requests counted, p95 and users as medians), and its trend "
            "through the window (Kendall's tau over about a dozen equal bins): a window is "
            "steady when no figure both moved beyond chance and kept moving.</p>"
        )
    table = checks_table(window)
    if table is not None:
        body += table_html(table)
    elif not window.ramp_measured:
        body += '<p class="missing">Steadiness was not assessed (too few samples).</p>'
    return f'<section id="window"><h2>Measured window</h2>{body}</section>'


def testbed_section(run: RunFolder, charts: dict[str, Any]) -> str:
    """The machine the run ran on: host CPU by who used it, outside processes, monitor coverage."""
    record = run.results
    if record.run.kind == "bench":
        return ""
    parts = [figure("host-cpu", charts)] if run.host else []
    host = record.host
    if host is not None:
        parts += [f'<p class="facts">{escape(host_line(host))}</p>', table_html(host_table(host))]
        outside = outside_table(host)
        if outside is not None:
            parts += ["<h3>Busiest processes outside the test</h3>", table_html(outside)]
    elif not run.host:
        parts.append(missing("Host CPU", f" (no {HOST})"))
    parts.append("<h3>Monitor coverage</h3>")
    coverage = coverage_table(record.coverage or {})
    if coverage is not None:
        parts.append(table_html(coverage))
    else:
        parts.append(missing("Monitor samples per container"))
    return f'<section id="testbed"><h2>Test bed</h2>{"".join(parts)}</section>'


def profile_section(run: RunFolder, charts: dict[str, Any]) -> str:
    """The backend's py-spy profile over the window: a flame graph and its top functions."""
    record = run.results
    if record.run.kind == "bench":
        return ""
    profile = record.profile
    if profile is None:
        body = missing("Backend profile")
    elif profile.status != "recorded":
        body = f'<p class="missing">{escape(profile_line(profile, None))}</p>'
    else:
        body = f'<p class="facts">{escape(profile_line(profile, run.profile))}</p>'
        why = (
            f" (no {profile.summary or PROFILE_SUMMARY})"
            if run.profile is None
            else " (the profile summary holds no flame tree)"
        )
        body += figure("flame", charts) or missing("Flame graph", why)
        table = top_functions_table(profile)
        body += "<h3>Top functions by own time</h3>"
        body += (
            table_html(table, {2: "query", 3: "query"})
            if table is not None
            else missing("Top functions")
        )
    return f'<section id="profile"><h2>Backend profile</h2>{body}</section>'
