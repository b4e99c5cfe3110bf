"""index.html: verdict first, failing rows marked, text escaped, self-contained, gaps noted."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html import escape
from pathlib import Path

from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

from harness.report import build_report
from harness.report.inputs import CONTAINERS
from harness.report.page import embed_json
from tests.report.run_folders import (
    CHARTS,
    FAILURE_GROUPS,
    SHORT_USERS,
    SHORT_USERS_LINE,
    VALID_CONTAINER_LINES,
    XSS_NAME,
    edit_results,
    page_data,
)

SECTIONS = (
    "verdict",
    "slo",
    "warnings",
    "endpoints",
    "failures",
    "load",
    "resources",
    "database",
    "benchmarks",
    "run",
)


def _page(run_dir: Path) -> str:
    build_report(run_dir)
    return (run_dir / "index.html").read_text()


def _section(html: str, name: str) -> str:
    match = re.search(rf'<section id="{name}".*?</section>', html, re.DOTALL)
    assert match is not None, f"no section {name}"
    return match[0]


def test_the_verdict_comes_first_then_the_slo_table(full_run: Path) -> None:
    html = _page(full_run)
    positions = [html.index(f'<section id="{name}"') for name in SECTIONS]
    assert positions == sorted(positions)
    verdict = _section(html, "verdict")
    assert 'class="verdict fail"' in verdict and '<div class="word">FAIL</div>' in verdict
    assert "2 of 11 SLO rows failed" in verdict
    assert "regression against baseline &#x27;main-2026-11&#x27;" in verdict
    assert "<title>FAIL - ContraVento run 20261129-101500-load</title>" in html


def test_failing_slo_rows_come_first_and_are_marked(full_run: Path) -> None:
    rows = re.findall(r"<tr( class=\"\w+\")?>(.*?)</tr>", _section(_page(full_run), "slo"))
    body = rows[1:]  # after the header
    assert [cls for cls, _ in body[:2]] == [' class="fail"'] * 2
    assert "POST /auth/login" in body[0][1] and "p95 640 ms &gt; 500 ms" in body[0][1]
    assert all(cls == ' class="ok"' for cls, _ in body[2:])
    assert len(body) == 11


def test_endpoint_names_are_escaped_everywhere(full_run: Path) -> None:
    html = _page(full_run)
    assert XSS_NAME not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in _section(html, "slo")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in _section(html, "endpoints")
    assert len(re.findall(r"<script\b", html)) == 3  # the figures, plotly.js, the page's script


def test_a_value_cannot_close_the_data_script() -> None:
    hostile = {"label": "</script><script>alert(1)</script><!--", "amp": "a & b"}
    embedded = embed_json(hostile)
    assert not set("<>&") & set(embedded)
    assert json.loads(embedded) == hostile


def test_container_names_reach_the_chart_data_only_as_json(full_run: Path) -> None:
    samples = (full_run / CONTAINERS).read_text().splitlines()[:-1]
    hostile = {**json.loads(samples[-1]), "container": "</script><b>x</b>"}
    (full_run / CONTAINERS).write_text("\n".join([*samples, json.dumps(hostile)]) + "\n")
    html = _page(full_run)
    assert "</script><b>" not in html
    names = [trace["name"] for trace in page_data(html)["charts"]["cpu"]["data"]]
    # as entities, which plotly shows as text rather than reading as its own markup
    assert "&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;" in names


def test_the_page_needs_nothing_from_the_network(full_run: Path) -> None:
    html = _page(full_run)
    scripts = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    assert len(scripts) == 2
    library, own = scripts
    assert library == get_plotlyjs(), "plotly.js comes from the installed plotly package"
    assert "Plotly.newPlot" in own
    rest = html.replace(library, "")
    for needle in ("src=", "<link", "href=", "@import", "url(", "<iframe", "<img"):
        assert needle not in rest, needle
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html)
    assert policy is not None and "default-src &#x27;none&#x27;" in policy[1]
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"sha256-{digest}" in policy[1], (
            "the CSP hash must match the script, or it won't run"
        )
    config = page_data(html)["config"]
    assert config["showSendToCloud"] is False and config["plotlyServerURL"] == ""


def test_plotly_is_inlined_once_and_charts_are_json(full_run: Path) -> None:
    html = _page(full_run)
    assert html.count("plotly.js v") == 1
    assert len(html) < len(get_plotlyjs()) + 200_000  # the figures add little to the library


def test_every_chart_has_a_slot_and_a_figure(full_run: Path) -> None:
    html = _page(full_run)
    names = re.findall(r'<div class="chart" data-chart="([\w-]+)"', html)
    assert names == list(CHARTS)
    charts = page_data(html)["charts"]
    assert set(names) == set(charts)
    points = sum(len(trace["x"]) for trace in charts["cpu"]["data"])
    assert points == VALID_CONTAINER_LINES  # the cut-short line is not among them


def test_warnings_include_saturation_and_the_skipped_line(full_run: Path) -> None:
    warnings = _section(_page(full_run), "warnings")
    assert "load generator saturated" in warnings
    assert "unstable benchmarks" in warnings and "test_token_refresh_latency" in warnings
    assert "monitor/containers.jsonl: 1 unreadable line skipped" in warnings


def test_benchmarks_show_deltas_to_the_baseline(full_run: Path) -> None:
    bench = _section(_page(full_run), "benchmarks")
    assert "<strong>main-2026-11</strong>" in bench
    login = re.search(r'<tr class="fail">(.*?test_login_endpoint_latency.*?)</tr>', bench)
    assert login is not None
    assert "REGRESSION" in login[1] and "+41.9 %" in login[1] and "1.26-1.59x" in login[1]
    assert re.search(r"NOT RUN</td><td>test_feed_pagination_latency", bench)


def test_the_database_section_has_the_top_queries(full_run: Path) -> None:
    database = _section(_page(full_run), "database")
    assert "peak 39 connections of max_connections 100" in database
    assert database.index("SELECT trips.id") < database.index("SELECT follows.follower_id")


def test_run_metadata_is_listed(full_run: Path) -> None:
    meta = _section(_page(full_run), "run")
    for shown in (
        "e6d4462",
        "load, 50 users, 45 s measured, after 15 s warm-up",
        "mixed",
        "docker",
        "ci-runner-7",
        "3.11.7",
        "2026-11-29T10:14:58+00:00",
        "profile small, seed 42, 48,210 rows",
    ):
        assert shown in meta, shown


def test_a_bench_only_run_notes_what_was_not_recorded(bench_run: Path) -> None:
    html = _page(bench_run)
    assert '<div class="chart"' not in html
    assert "plotly.js v" not in html and len(html) < 100_000  # no charts: no chart library
    for section in ("slo", "endpoints", "load", "resources", "database"):
        assert "not recorded in this run" in _section(html, section), section
    assert "2 of 12 benchmarks failed" in _section(html, "verdict")
    assert html.count('<tr class="fail">') == 2


def test_process_samples_make_a_per_process_section(full_run: Path) -> None:
    rows = [json.loads(line) for line in (full_run / CONTAINERS).read_text().splitlines()[:-1]]
    backend = [
        {**r, "container": "backend (pid 4242)", "role": "process", "mem_limit_bytes": None}
        for r in rows
        if r["role"] == "backend"
    ]
    (full_run / CONTAINERS).write_text("".join(json.dumps(r) + "\n" for r in backend))
    resources = _section(_page(full_run), "resources")
    assert "CPU and memory per process" in resources
    assert 'data-chart="cpu"' in resources and "backend (pid 4242)" in resources


def test_without_postgres_samples_the_top_queries_still_show(full_run: Path) -> None:
    (full_run / "monitor" / "postgres.jsonl").unlink()
    database = _section(_page(full_run), "database")
    assert "PostgreSQL activity: not recorded in this run" in database
    assert "SELECT trips.id" in database


def test_failures_are_listed_by_endpoint_status_and_message_escaped(full_run: Path) -> None:
    edit_results(full_run, failures=FAILURE_GROUPS, users=SHORT_USERS)
    html = _page(full_run)
    section = _section(html, "failures")
    assert html.index('<section id="endpoints"') < html.index('<section id="failures"')
    rows = re.findall(r"<tr>(.*?)</tr>", section)[1:]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in rows]
    assert cells[0] == [
        "37",
        "GET",
        "/trips/[trip_id]",
        "403",
        "FORBIDDEN: &lt;script&gt;alert(1)&lt;/script&gt; | private",
    ]
    assert cells[2][3:] == [
        "no response",
        "ConnectionRefusedError(111, &#x27;Connection refused&#x27;)",
    ]
    assert len(re.findall(r"<script\b", html)) == 3  # the figures, plotly.js, the page's script


def test_users_planned_and_reached_are_in_the_verdict_once(full_run: Path) -> None:
    edit_results(full_run, users=SHORT_USERS, warnings=[SHORT_USERS_LINE])
    html = _page(full_run)
    assert escape(SHORT_USERS_LINE) in _section(html, "verdict")
    assert escape(SHORT_USERS_LINE) not in _section(html, "warnings")  # said once, first


def test_a_run_with_no_failures_says_so_and_an_older_one_that_it_did_not_record(
    full_run: Path,
) -> None:
    assert "Failures by endpoint, status and message: not recorded" in _page(full_run)
    edit_results(full_run, failures=[])
    assert "No request failed after the warm-up." in _section(_page(full_run), "failures")
