"""index.html: one self-contained page, verdict first, charts drawn by plotly.js inlined in it.

Every piece of text from the run (endpoint names, messages, container names) is escaped
here; the figures travel as JSON in a non-executable <script type="application/json">
with "<", ">" and "&" written as \\u escapes, so no value can close the tag. plotly.js is
inlined once, from the installed plotly package. A Content-Security-Policy lets the page run
those two scripts (by hash) and fetch nothing, so it opens offline as it opens anywhere.
"""

from __future__ import annotations

from html import escape
from typing import Any

from harness.report.assets import SCRIPT, STYLE, script_hash
from harness.report.charts import CONFIG, build_charts, plotly_js
from harness.report.diagnosis import window_line
from harness.report.diagnosis_page import (
    invalid_section,
    profile_section,
    testbed_section,
    why_section,
    window_section,
)
from harness.report.inputs import CONTAINERS, LOCUST_HISTORY, POSTGRES, TOP_QUERIES, RunFolder
from harness.report.markup import embed_json, figure, missing, table_html
from harness.report.overview import incident_line, metadata, reasons, warnings
from harness.report.series import by_container, connection_states, origin
from harness.report.tables import (
    bench_table,
    capacity_line,
    capacity_table,
    container_table,
    endpoint_table,
    failure_table,
    model_lines,
    slo_table,
    top_queries_table,
)

KNEE_NOTE = (
    '<p class="facts">One point per second of the load, coloured by the users running then '
    "(faint diamonds: the warm-up; circles: the measured window). Where p95 turns upward while "
    "requests/s stops growing is the knee: the most load the system takes before requests "
    "queue. A ramp walks along the curve; a steady load makes one cluster.</p>"
)


def _verdict_section(run: RunFolder) -> str:
    word = run.results.verdict
    items = "".join(f"<li>{escape(line)}</li>" for line in reasons(run.results))
    window = run.results.window
    measured = f'<p class="window">{escape(window_line(window))}</p>' if window else ""
    return (
        f'<section id="verdict" class="verdict {word.lower()}">'
        f'<div class="word">{escape(word)}</div><div><ul>{items}</ul>{measured}</div></section>'
    )


def _slo_section(run: RunFolder) -> str:
    table = slo_table(run.results)
    if table is not None:
        body = table_html(table)
    elif run.results.run.kind == "bench":
        body = missing("SLO rows", " (a benchmark-only run has no load)")
    else:
        body = '<p class="missing">No SLO rows: the load recorded no requests.</p>'
    return f'<section id="slo"><h2>SLO</h2>{body}</section>'


def _warnings_section(run: RunFolder) -> str:
    found = warnings(run)
    if not found:
        return '<section id="warnings"><h2>Warnings</h2><p>None.</p></section>'
    items = "".join(f"<li>{escape(w)}</li>" for w in found)
    return f'<section id="warnings"><h2>Warnings</h2><ul class="warnings">{items}</ul></section>'


def _incidents_section(run: RunFolder) -> str:
    """Stack services that crashed or restarted during the load, with their logs' tails."""
    incidents = run.results.incidents
    if incidents is None:
        return ""  # not watched in this run (a benchmark-only run, an older harness)
    if not incidents:
        body = "<p>No stack service crashed or restarted during the load.</p>"
    else:
        lines = "".join(f"<li>{escape(incident_line(i))}</li>" for i in incidents)
        tails = "".join(
            f'<h3>Last lines of the {escape(service)} log</h3><pre class="log">{escape(log)}</pre>'
            for service, log in sorted(run.service_logs.items())
        )
        body = f'<ul class="warnings">{lines}</ul>' + (tails or missing("service logs"))
    return f'<section id="incidents"><h2>Service incidents</h2>{body}</section>'


def _endpoints_section(run: RunFolder) -> str:
    table = endpoint_table(run.results)
    body = table_html(table) if table else missing("Per-endpoint results")
    return f'<section id="endpoints"><h2>Endpoints (after the warm-up)</h2>{body}</section>'


def _failures_section(run: RunFolder) -> str:
    """Failed requests by endpoint, status and message: what failed and why, not just how often."""
    failures = run.results.failures
    if failures is None:
        if run.results.run.kind == "bench":
            return ""
        body = missing("Failures by endpoint, status and message")
    elif not failures:
        body = "<p>No request failed after the warm-up.</p>"
    else:
        table = failure_table(run.results)
        body = table_html(table, {4: "query"}) if table is not None else ""
    return f'<section id="failures"><h2>Failures (after the warm-up)</h2>{body}</section>'


def _load_section(run: RunFolder, charts: dict[str, Any]) -> str:
    if run.history:
        body = (
            figure("throughput", charts)
            + figure("latency", charts)
            + figure("knee", charts)
            + (KNEE_NOTE if "knee" in charts else "")
        )
    else:
        body = missing("Locust history", f" (no {LOCUST_HISTORY})")
    return f'<section id="load"><h2>Load over time</h2>{body}</section>'


def _resources_section(run: RunFolder, charts: dict[str, Any]) -> str:
    rows = run.containers or []
    processes = bool(rows) and all(r.get("role") == "process" for r in rows)
    title = "CPU and memory per " + ("process" if processes else "container")
    if not rows:
        body = missing("Container and process samples", f" (no {CONTAINERS})")
    else:
        table = container_table(by_container(rows), origin(run) or float(rows[0]["t"]))
        body = (
            figure("cpu", charts) + figure("memory", charts) + (table_html(table) if table else "")
        )
    return f'<section id="resources"><h2>{escape(title)}</h2>{body}</section>'


def _database_facts(rows: list[dict[str, Any]]) -> str:
    facts = []
    totals = [
        sum(v for v in r["connections"].values() if isinstance(v, int | float))
        for r in rows
        if isinstance(r.get("connections"), dict)
    ]
    limits = [r["max_connections"] for r in rows if isinstance(r.get("max_connections"), int)]
    if totals:
        peak = f"peak {max(totals):.0f} connections"
        facts.append(peak + (f" of max_connections {max(limits)}" if limits else ""))
    for key, label in (("deadlocks", "deadlocks"), ("temp_bytes", "temp file bytes")):
        values = [r[key] for r in rows if isinstance(r.get(key), int | float)]
        if values:
            facts.append(f"{label} during the run: {max(values) - min(values):,.0f}")
    states = connection_states(rows)
    if states:
        facts.append("states seen: " + ", ".join(states))
    return f'<p class="facts">{escape("; ".join(facts))}</p>' if facts else ""


def _database_section(run: RunFolder, charts: dict[str, Any]) -> str:
    parts = []
    if run.postgres:
        parts += [
            figure("db-connections", charts),
            figure("db-transactions", charts),
            figure("db-cache", charts),
            figure("db-waits", charts),
            _database_facts(run.postgres),
        ]
    else:
        parts.append(missing("PostgreSQL activity", f" (no {POSTGRES})"))
    parts.append("<h3>Top queries by total time</h3>")
    table = top_queries_table(run.top_queries or [])
    if table is not None:
        parts.append(table_html(table, {0: "query"}))
    elif run.top_queries is None:
        parts.append(missing("Top queries", f" (no {TOP_QUERIES})"))
    else:
        parts.append('<p class="missing">pg_stat_statements recorded no queries.</p>')
    return f'<section id="database"><h2>Database activity</h2>{"".join(parts)}</section>'


def _bench_section(run: RunFolder) -> str:
    table = bench_table(run.results)
    if table is None:
        body = missing("Benchmarks", " (the suite did not run)")
    else:
        body = table_html(table)
        comparison = run.results.comparison
        if comparison is not None:
            body = (
                f"<p>Compared with baseline <strong>{escape(comparison.baseline)}"
                "</strong>: change = current / baseline median - 1; the band is the 95 % "
                "prediction interval of one run from the baseline's runs (run-level: each "
                "run is one value); only a regression fails.</p>" + body
            )
    return f'<section id="benchmarks"><h2>Benchmarks</h2>{body}</section>'


def _model_section(run: RunFolder) -> str:
    lines = model_lines(run.results)
    if not lines:
        return ""
    body = "".join(f'<p class="facts">{escape(line)}</p>' for line in lines)
    line = capacity_line(run.results)
    if line is not None:
        body = f"<p><strong>{escape(line)}</strong></p>{body}"
    table = capacity_table(run.results)
    if table is not None:
        body += table_html(table)
    title = "Capacity search" if run.results.capacity is not None else "Load model"
    return f'<section id="model"><h2>{title}</h2>{body}</section>'


def _meta_section(run: RunFolder) -> str:
    pairs = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in metadata(run.results))
    return f'<section id="run"><h2>Run</h2><dl class="meta">{pairs}</dl></section>'


def render_page(run: RunFolder) -> str:
    charts = build_charts(run)
    data = {"config": CONFIG, "charts": {name: c["figure"] for name, c in charts.items()}}
    # a page without charts (a benchmark-only run) is spared plotly.js's 4.8 MB
    library = plotly_js() if charts else ""
    library_tag = f"<script>{library}</script>" if library else ""
    hashes = [script_hash(library)] if library else []
    sources = " ".join(f"'{h}'" for h in [*hashes, script_hash()])
    run_id = run.results.run.id
    policy = (
        f"default-src 'none'; script-src {sources}; "
        "style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
    )
    sections = [
        _verdict_section(run),
        invalid_section(run),
        why_section(run),
        _slo_section(run),
        _model_section(run),
        window_section(run),
        _warnings_section(run),
        _incidents_section(run),
        _endpoints_section(run),
        _failures_section(run),
        _load_section(run, charts),
        _resources_section(run, charts),
        _database_section(run, charts),
        testbed_section(run, charts),
        profile_section(run, charts),
        _bench_section(run),
        _meta_section(run),
    ]
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{escape(policy)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(run.results.verdict)} - ContraVento run {escape(run_id)}</title>
<style>{STYLE}</style>
</head>
<body>
<h1>ContraVento performance run {escape(run_id)}</h1>
{"".join(sections)}
<noscript><p class="missing">The charts need JavaScript; the tables above do not.</p></noscript>
<footer>Built by <code>harness report</code> from the files saved in this run folder.</footer>
<script type="application/json" id="report-data">{embed_json(data)}</script>
{library_tag}
<script>{SCRIPT}</script>
</body>
</html>
"""
