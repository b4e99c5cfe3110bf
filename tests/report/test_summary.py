"""summary.md: verdict line, failed SLO rows first and bold, valid tables, escaped, link-free."""

from __future__ import annotations

import json
import re
from pathlib import Path

from harness.report import build_report
from harness.report.summary import md
from tests.report.run_folders import (
    FAILURE_GROUPS,
    SHORT_USERS,
    SHORT_USERS_LINE,
    WINDOW_LINE,
    XSS_NAME,
    edit_results,
)

CODE_SPAN = re.compile(r"`[^`]*`")
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def _summary(run_dir: Path) -> str:
    build_report(run_dir)
    return (run_dir / "summary.md").read_text()


def _table(summary: str, heading: str) -> list[str]:
    """The first table after `heading`, as its lines."""
    after = summary.split(heading, 1)[1]
    block = next(b for b in after.split("\n\n") if b.startswith("|"))
    return block.splitlines()


def test_the_first_line_is_the_verdict(full_run: Path, bench_run: Path) -> None:
    assert _summary(full_run).splitlines()[0] == "## ❌ FAIL: ContraVento run 20261129-101500-load"
    assert _summary(bench_run).startswith("## ❌ FAIL: ContraVento run 20261124-030837-bench")
    edit_results(full_run, verdict="PASS")
    assert _summary(full_run).startswith("## ✅ PASS")


def test_failed_slo_rows_come_first_in_bold(full_run: Path) -> None:
    rows = _table(_summary(full_run), "### SLO")
    assert rows[1] == "| --- | --- | --- | ---: | ---: | ---: | ---: | --- |"
    assert rows[2].startswith("| **FAIL** | POST /auth/login | auth | 640 | 500 |")
    assert rows[3].startswith("| **FAIL** | GET /search?q=&lt;script&gt;")
    assert all(r.startswith("| ok |") for r in rows[4:])
    assert len(rows) == 2 + 11


def test_every_table_row_has_as_many_cells_as_its_header(full_run: Path) -> None:
    summary = _summary(full_run)
    for heading in ("### SLO", "### Benchmarks"):
        rows = _table(summary, heading)
        widths = {len(UNESCAPED_PIPE.findall(CODE_SPAN.sub("", r))) for r in rows}
        assert len(widths) == 1, (heading, widths)


def test_text_from_the_run_is_escaped(full_run: Path) -> None:
    summary = _summary(full_run)
    assert XSS_NAME not in summary and "<script>" not in summary
    assert md("a|b *c* [x](y) <i> `z`") == "a\\|b \\*c\\* \\[x\\](y) &lt;i&gt; \\`z\\`"


def test_the_summary_is_link_free(full_run: Path, bench_run: Path) -> None:
    for run_dir in (full_run, bench_run):
        summary = _summary(run_dir)
        outside_code = CODE_SPAN.sub("", summary)
        assert "](" not in outside_code
        assert "://" not in outside_code and "www." not in outside_code
    assert "`postgresql://cv:***@127.0.0.1:55432/contravento`" in _summary(full_run)


def test_benchmarks_and_warnings_are_there(full_run: Path) -> None:
    summary = _summary(full_run)
    bench = _table(summary, "### Benchmarks")
    login = next(r for r in bench if "test\\_login\\_endpoint\\_latency" in r)
    assert login.startswith("| **REGRESSION** |") and "+41.9 %" in login
    assert "- ⚠️ load generator saturated" in summary
    assert summary.index("### SLO") < summary.index("### Warnings") < summary.index("### Bench")


def test_a_bench_only_summary_says_the_slo_was_not_recorded(bench_run: Path) -> None:
    summary = _summary(bench_run)
    assert "SLO rows: not recorded in this run" in summary
    failed = [r for r in _table(summary, "### Benchmarks") if r.startswith("| **FAILED** |")]
    assert len(failed) == 2
    assert "AssertionError: assert 'draft' == 'DRAFT'" in failed[0]


def test_failures_are_a_table_by_endpoint_status_and_message(full_run: Path) -> None:
    edit_results(full_run, failures=FAILURE_GROUPS, users=SHORT_USERS)
    summary = _summary(full_run)
    table = _table(summary, "### Failures by endpoint, status and message")
    assert table[0] == "| count | method | endpoint | status | message |"
    assert table[2] == (
        "| 37 | GET | /trips/\\[trip\\_id\\] | 403 | "
        "FORBIDDEN: &lt;script&gt;alert(1)&lt;/script&gt; \\| private |"
    )
    assert all(len(UNESCAPED_PIPE.findall(line)) == 6 for line in table)
    assert f"- {md(SHORT_USERS_LINE)}" in summary.splitlines()


def test_without_failures_there_is_no_failures_table(full_run: Path) -> None:
    edit_results(full_run, failures=[])
    assert "### Failures" not in _summary(full_run)


def test_an_invalid_run_heads_its_summary_and_lists_its_reasons(invalid: Path) -> None:
    summary = _summary(invalid)
    assert summary.splitlines()[0] == "## ⚠️ INVALID: ContraVento run 20261129-101500-load"
    block = summary.split("### Why this run is INVALID", 1)[1].split("###", 1)[0]
    assert "1. **other programs used 35% of the machine during the window**" in block
    assert "   - outside: &lt;b&gt;backup&lt;/b&gt;.sh (pid 4711) 0.70 cores" in block
    assert "   - what to do: close the programs named above, then run again" in block
    assert "1. **the monitors missed part of the window**" in block
    assert summary.index("### Why this run is INVALID") < summary.index("### SLO")
    assert "### Why it failed" not in summary


def test_why_it_failed_follows_the_verdict_ranked(diagnosed: Path) -> None:
    summary = _summary(diagnosed)
    why = summary.split("### Why it failed", 1)[1].split("###", 1)[0]
    lines = [line for line in why.splitlines() if line.strip()]
    assert lines[:6] == [
        "1. **bcrypt hashing took the backend's CPU**",
        "   - explains: POST /auth/login",
        "   - hashpw: 41 % of the profile's samples",
        "   - backend CPU at 98 % of its cores",
        "   - what to do: lower the bcrypt rounds for the test, or add backend workers",
        "1. **sessions waited on row locks**",
    ]
    assert "explains: GET /search?q=&lt;script&gt;" in why
    assert summary.index("- 2 of 11 SLO rows failed") < summary.index("### Why it failed")
    assert summary.index("### Why it failed") < summary.index("### SLO")
    assert f"\n{WINDOW_LINE}\n" in summary


def test_no_cause_found_is_said_in_the_summary(diagnosed: Path) -> None:
    edit_results(diagnosed, causes=[])
    why = _summary(diagnosed).split("### Why it failed", 1)[1].split("###", 1)[0]
    assert why.strip().splitlines()[0] == "_No cause found in what this run measured._"


def test_a_run_not_diagnosed_has_no_why(full_run: Path) -> None:
    summary = _summary(full_run)
    assert "### Why" not in summary and "Measured window" not in summary


def test_a_capacity_search_shows_its_answer_steps_and_model(full_run: Path) -> None:
    results = json.loads((full_run / "results.json").read_text())
    shape = results["run"]["shape"] | {"kind": "capacity", "model": "open", "rate": 10, "steps": 3}
    arrivals = {"scheduled": 600, "started": 590, "dropped": 10, "late": 2, "max_lag_ms": 80.0}
    figures = {"count": 400, "p50": 12.0, "p95": 150.0, "failures": 0}
    steps = [
        {"index": 0, "rate": 10, "sent_per_s": 10.2, "held": True, "judged": True,
         "closest": "GET /trips/public p95 61 ms of 200"},
        {"index": 1, "rate": 20, "sent_per_s": 19.8, "held": False, "judged": True,
         "reasons": ["GET /trips/public: p95 202.9 ms > 200 ms"], "dropped": 4, "late": 0},
        {"index": 2, "rate": 30, "sent_per_s": 3.0, "held": False, "judged": False},
    ]  # fmt: skip
    edit_results(
        full_run,
        run=results["run"] | {"shape": shape},
        latency={
            "model": "open",
            "significant_figures": 3,
            "arrivals": arrivals,
            "stages": [{"index": 0, "for_s": 20, "rate": 10, "endpoints": {}, "all": figures}],
        },
        capacity={"rate": 10, "steps": steps, "stopped": "step 2: GET /trips/public p95 203 ms"},
    )
    summary = _summary(full_run)
    assert "**Capacity: 10 iterations/s, the highest rate whose step held." in summary
    table = _table(summary, "### Capacity search")
    assert len(table) == 2 + 3 and "p95 202.9 ms &gt; 200 ms" in table[3]  # escaped
    assert "Open model: 10 to 30 iterations/s in steps of 10" in summary
    assert "600 due, 590 started, 10 dropped (no free user), 2 late" in summary
    assert "HDR histograms per endpoint" in summary
    page = (full_run / "index.html").read_text()
    assert '<section id="model"><h2>Capacity search</h2>' in page


def test_a_closed_run_with_locusts_percentiles_says_so(full_run: Path) -> None:
    summary = _summary(full_run)
    assert "Closed model: 50 users" in summary
    assert "Percentiles: Locust's (exact below 100 ms, 10 ms steps to 1 s" in summary
