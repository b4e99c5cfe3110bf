"""The page's building blocks: escaped tables, notes on what was not recorded, chart slots.

Every piece of text from the run passes through html.escape here; data for the charts
travels as JSON that nothing in it can break out of (embed_json).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from html import escape
from typing import Any

from harness.report.tables import Table

MISSING = "not recorded in this run"


def embed_json(data: Any) -> str:
    """JSON safe inside <script>: nothing in it can end the element or start a comment."""
    raw = json.dumps(data, separators=(",", ":"), allow_nan=False, ensure_ascii=True)
    return raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def table_html(table: Table, cell_class: dict[int, str] | None = None) -> str:
    extra = cell_class or {}

    def cls(i: int) -> str:
        names = (["num"] if i in table.numeric else []) + ([extra[i]] if i in extra else [])
        return f' class="{" ".join(names)}"' if names else ""

    head = "".join(f"<th{cls(i)}>{escape(c)}</th>" for i, c in enumerate(table.columns))
    body = []
    for row in table.rows:
        status = f' class="{escape(row.status)}"' if row.status else ""
        cells = "".join(f"<td{cls(i)}>{escape(c)}</td>" for i, c in enumerate(row.cells))
        body.append(f"<tr{status}>{cells}</tr>")
    return (
        f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


def missing(what: str, why: str = "") -> str:
    return f'<p class="missing">{escape(what)}: {MISSING}{escape(why)}.</p>'


def items(lines: Iterable[str], cls: str = "") -> str:
    """An escaped <ul>; "" when there are no lines."""
    listed = "".join(f"<li>{escape(line)}</li>" for line in lines)
    if not listed:
        return ""
    return f'<ul class="{escape(cls)}">{listed}</ul>' if cls else f"<ul>{listed}</ul>"


def figure(name: str, charts: dict[str, Any]) -> str:
    """A chart's slot, which the page's script fills with plotly; "" without its figure."""
    chart = charts.get(name)
    if chart is None:
        return ""
    title = escape(str(chart["title"]))
    return (
        f"<figure><figcaption>{title}</figcaption>"
        f'<div class="chart" data-chart="{escape(name)}" role="img" aria-label="{title}">'
        "</div></figure>"
    )
