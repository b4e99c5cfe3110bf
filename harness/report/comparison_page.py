"""comparison.html: the verdict of A against B first, then the repetitions behind it, drawn.

Built from the run page's parts (its stylesheet, chart script, escaping table markup and
Content-Security-Policy), so the two pages read alike: every string from comparison.json is
escaped here, the figures travel as inert JSON, and plotly.js is inlined once.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote

from harness.comparison_record import ComparisonFile, Repetition
from harness.report.assets import SCRIPT, STYLE, script_hash
from harness.report.charts import CONFIG, plotly_js
from harness.report.comparison_charts import Chart, comparison_charts
from harness.report.comparison_tables import (
    BENCH_COUNT_CLASSES,
    COUNT_CLASSES,
    bench_cost_table,
    headline,
    noise_table,
    reasons,
    resource_table,
    sensitivity_line,
    settings_pairs,
    verdict_class,
    verdict_table,
    versions_table,
)
from harness.report.figures import duration, number
from harness.report.markup import embed_json, figure, items, missing, table_html

# Added to the run page's stylesheet: a metric not judged is greyed, exact counts that
# differ between A and B are marked in their cell, a row's metric lines read as one row.
STYLE_EXTRA = """
#rows { overflow-x: auto; }
#rows table.data { font-size: 12px; }
#rows td:nth-child(1), #rows td:nth-child(4) { white-space: nowrap; }
table.data tr.info td { color: var(--muted); }
table.data tr.joined td { border-bottom-style: dotted; }
table.data tr.qdiff td.q, table.data tr.rdiff td.r { background: var(--invalid-bg);
  color: var(--invalid); font-weight: 700; }
.legend-a { color: #0072b2; font-weight: 600; }
.legend-b { color: #d55e00; font-weight: 600; }
"""
ROWS_NOTE = (
    '<p class="facts">Change = B against A over the pairs (B\'s repetition against the A that '
    "ran next to it); the interval is corrected for every metric judged. The noise floor is "
    "what A moved against itself; detectable is the smallest change the repetitions could "
    "have shown. Greyed metrics are shown for information and do not count.</p>"
)
COLOURS_NOTE = (
    '<p class="facts">Each line or point is one repetition: '
    '<span class="legend-a">A (base)</span> and <span class="legend-b">B (candidate)</span>.'
    "</p>"
)


def _verdict_section(comparison: ComparisonFile) -> str:
    lines = items(reasons(comparison))
    return (
        f'<section id="verdict" class="verdict {verdict_class(comparison)}">'
        f'<div class="word">{escape(headline(comparison))}</div><div>{lines}</div></section>'
    )


def _invalid_section(comparison: ComparisonFile) -> str:
    parts = []
    if comparison.invalid:
        listed = "".join(f"<li>{escape(r)}</li>" for r in comparison.invalid)
        parts.append(
            '<section id="invalid"><h2>Why this comparison is INVALID</h2>'
            "<p>Its repetitions describe the test bed rather than the two versions.</p>"
            f'<ol class="reasons invalid">{listed}</ol></section>'
        )
    if comparison.notes:
        parts.append(
            f'<section id="notes"><h2>Notes</h2>{items(comparison.notes, "warnings")}</section>'
        )
    return "".join(parts)


def _versions_section(comparison: ComparisonFile) -> str:
    pairs = "".join(
        f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in settings_pairs(comparison)
    )
    return (
        '<section id="versions"><h2>Versions and settings</h2>'
        f'{table_html(versions_table(comparison))}<dl class="meta">{pairs}</dl></section>'
    )


def _rows_section(comparison: ComparisonFile) -> str:
    table = verdict_table(comparison)
    body = table_html(table, COUNT_CLASSES) if table.rows else "<p>No rows were compared.</p>"
    return f'<section id="rows"><h2>Verdict by row (failed first)</h2>{ROWS_NOTE}{body}</section>'


def _sensitivity_section(comparison: ComparisonFile) -> str:
    table = noise_table(comparison)
    return (
        '<section id="sensitivity"><h2>Sensitivity</h2>'
        f"<p>{escape(sensitivity_line(comparison))}</p>"
        f"{table_html(table) if table is not None else ''}</section>"
    )


def _chart_section(
    section: str, title: str, names: tuple[str, ...], charts: dict[str, Chart], absent: str
) -> str:
    body = "".join(figure(name, charts) for name in names)
    return (
        f'<section id="{section}"><h2>{escape(title)}</h2>'
        f"{COLOURS_NOTE + body if body else missing(absent)}</section>"
    )


def _resources_section(comparison: ComparisonFile, charts: dict[str, Chart]) -> str:
    table = resource_table(comparison)
    body = figure("cpu", charts) + figure("memory", charts)
    if table is None:
        body = missing("Container samples")
    else:
        body = COLOURS_NOTE + body + table_html(table)
    return f'<section id="resources"><h2>Resource use of each</h2>{body}</section>'


def _database_section(comparison: ComparisonFile, charts: dict[str, Chart]) -> str:
    table = bench_cost_table(comparison)
    if table is None:
        return (
            '<section id="database"><h2>Database cost per request of each</h2>'
            f"{missing('Benchmarks', ' (the suite did not run)')}</section>"
        )
    note = (
        '<p class="facts">Per call, from pg_stat_statements: queries and rows as the comparison '
        "judged them (exact: a marked cell differs between A and B), times as the median of "
        "each version's repetitions.</p>"
    )
    body = figure("db-queries", charts) + figure("db-time", charts)
    return (
        '<section id="database"><h2>Database cost per request of each</h2>'
        f"{note}{table_html(table, BENCH_COUNT_CLASSES)}{body}</section>"
    )


def _folder_link(folder: str) -> str:
    # quoted, so a folder name cannot become a javascript: or other absolute address
    return f'<a href="{escape(quote(folder.rstrip("/"), safe="/") + "/")}">{escape(folder)}</a>'


def _cell(content: str, numeric: bool = False, tag: str = "td") -> str:
    """A cell whose `content` is already markup."""
    return f'<{tag} class="num">{content}</{tag}>' if numeric else f"<{tag}>{content}</{tag}>"


def _repetition_row(rep: Repetition) -> str:
    requests = rep.aggregate.requests if rep.aggregate is not None else None
    cells = [
        _cell(str(rep.order), numeric=True),
        _cell(str(rep.pair), numeric=True),
        _cell(escape(rep.version)),
        _cell(_folder_link(rep.folder)),
        _cell(number(rep.restore_s, 1), numeric=True),
        _cell(number(rep.window_s, 0), numeric=True),
        _cell(number(rep.users), numeric=True),
        _cell(number(requests), numeric=True),
        _cell(escape("; ".join(rep.invalid))),
    ]
    status = ' class="warn"' if rep.invalid else ""
    return f"<tr{status}>{''.join(cells)}</tr>"


REPETITION_COLUMNS = (
    ("order", True),
    ("pair", True),
    ("version", False),
    ("folder", False),
    ("restore s", True),
    ("window s", True),
    ("users", True),
    ("requests", True),
    ("invalid because", False),
)


def _repetitions_section(comparison: ComparisonFile) -> str:
    reps = sorted(comparison.repetitions, key=lambda r: r.order)
    if not reps:
        return missing("Repetitions")
    head = "".join(_cell(name, numeric, "th") for name, numeric in REPETITION_COLUMNS)
    body = "".join(_repetition_row(r) for r in reps)
    restored = [r.restore_s for r in reps if r.restore_s is not None]
    total = f" Restoring the database took {duration(sum(restored))} in all." if restored else ""
    return (
        '<section id="repetitions"><h2>Repetitions</h2>'
        '<p class="facts">Each repetition keeps its own folder (Locust CSVs, monitor samples).'
        f"{escape(total)}</p>"
        f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        "</section>"
    )


def render_comparison_page(comparison: ComparisonFile) -> str:
    charts = comparison_charts(comparison)
    data: dict[str, Any] = {
        "config": CONFIG,
        "charts": {name: c["figure"] for name, c in charts.items()},
    }
    library = plotly_js() if charts else ""
    library_tag = f"<script>{library}</script>" if library else ""
    hashes = [script_hash(library)] if library else []
    sources = " ".join(f"'{h}'" for h in [*hashes, script_hash()])
    policy = (
        f"default-src 'none'; script-src {sources}; "
        "style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
    )
    sections = [
        _verdict_section(comparison),
        _invalid_section(comparison),
        _versions_section(comparison),
        _rows_section(comparison),
        _sensitivity_section(comparison),
        _chart_section(
            "distributions",
            "Latency distributions",
            ("percentiles",),
            charts,
            "Latency percentiles",
        ),
        _chart_section(
            "over-time",
            "Throughput and p95 over time",
            ("rps-time", "p95-time"),
            charts,
            "Locust history",
        ),
        _chart_section(
            "per-repetition",
            "Per-repetition values",
            ("per-repetition",),
            charts,
            "Per-repetition p95 and requests/s",
        ),
        _resources_section(comparison, charts),
        _database_section(comparison, charts),
        _repetitions_section(comparison),
    ]
    title = f"{headline(comparison)} - ContraVento comparison {comparison.id}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{escape(policy)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{STYLE}{STYLE_EXTRA}</style>
</head>
<body>
<h1>ContraVento comparison {escape(comparison.id)}</h1>
{"".join(sections)}
<noscript><p class="missing">The charts need JavaScript; the tables above do not.</p></noscript>
<footer>Built by <code>harness report</code> from comparison.json in this folder.</footer>
<script type="application/json" id="report-data">{embed_json(data)}</script>
{library_tag}
<script>{SCRIPT}</script>
</body>
</html>
"""
