"""index.html's issue-15 sections: INVALID and why it failed first, window, test bed, profile."""

from __future__ import annotations

import re
from pathlib import Path

from harness.report import build_report
from tests.report.run_folders import (
    DIAGNOSED_CHARTS,
    PROFILE,
    SKIPPED_PROFILE,
    WINDOW,
    WINDOW_LINE,
    XSS_NAME,
    edit_results,
    page_data,
)


def _page(run_dir: Path) -> str:
    build_report(run_dir)
    return (run_dir / "index.html").read_text()


def _section(html: str, name: str) -> str:
    match = re.search(rf'<section id="{name}".*?</section>', html, re.DOTALL)
    assert match is not None, f"no section {name}"
    return match[0]


def _order(html: str, *names: str) -> list[int]:
    return [html.index(f'<section id="{name}"') for name in names]


def test_an_invalid_run_is_amber_with_its_reasons_straight_under_the_verdict(invalid: Path) -> None:
    html = _page(invalid)
    verdict = _section(html, "verdict")
    assert 'class="verdict invalid"' in verdict and '<div class="word">INVALID</div>' in verdict
    assert "<title>INVALID - ContraVento run" in html
    assert "not judged: 2 reasons the numbers describe the test bed" in verdict
    positions = _order(html, "verdict", "invalid", "slo")
    assert positions == sorted(positions)
    assert html.index("</section>", positions[0]) < positions[1]  # nothing between them
    reasons = _section(html, "invalid")
    items = re.findall(r"<li data-code=\"(\w+)\"><strong>(.*?)</strong>", reasons)
    assert items == [
        ("host_busy", "other programs used 35% of the machine during the window"),
        ("samples_missing", "the monitors missed part of the window"),
    ]
    assert "outside: &lt;b&gt;backup&lt;/b&gt;.sh (pid 4711) 0.70 cores" in reasons
    assert '<p class="hint">close the programs named above, then run again</p>' in reasons
    assert 'id="why"' not in html  # an INVALID run is not diagnosed


def test_the_invalid_style_is_neither_red_nor_green(invalid: Path) -> None:
    style = re.search(r"<style>(.*?)</style>", _page(invalid), re.DOTALL)
    assert style is not None
    rule = re.search(r"\.verdict\.invalid \{([^}]*)\}", style[1])
    assert rule is not None and "--invalid-bg" in rule[1] and "--fail" not in rule[1]
    assert "--invalid-line: #d98e04" in style[1]  # amber


def test_why_it_failed_comes_first_under_the_verdict_ranked(diagnosed: Path) -> None:
    html = _page(diagnosed)
    positions = _order(html, "verdict", "why", "slo")
    assert positions == sorted(positions)
    why = _section(html, "why")
    assert "<h2>Why it failed</h2>" in why
    codes = re.findall(r'<li data-code="(\w+)">', why)
    assert codes == ["bcrypt", "db_waits"]  # by weight, not by the order written
    assert "explains POST /auth/login" in why
    assert "explains GET /search?q=&lt;script&gt;alert(1)&lt;/script&gt;" in why
    assert XSS_NAME not in html
    assert "<li>hashpw: 41 % of the profile&#x27;s samples</li>" in why
    assert '<p class="hint">lower the bcrypt rounds for the test, or add backend workers</p>' in why


def test_no_cause_found_is_said_not_guessed(diagnosed: Path) -> None:
    edit_results(diagnosed, causes=[])
    why = _section(_page(diagnosed), "why")
    assert "No cause found in what this run measured" in why
    assert "<ol" not in why


def test_an_undiagnosed_run_has_no_why_section(full_run: Path) -> None:
    html = _page(full_run)
    for section in ("why", "invalid", "window"):
        assert f'id="{section}"' not in html, section


def test_the_measured_window_is_a_line_under_the_verdict_and_its_checks_a_table(
    diagnosed: Path,
) -> None:
    html = _page(diagnosed)
    assert f'<p class="window">{WINDOW_LINE}</p>' in _section(html, "verdict")
    window = _section(html, "window")
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", window)
    cells = [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r) for r in rows]
    assert cells[0] == ["metric", "first third", "last third", "change", "trend (tau)", "steady"]
    assert cells[1] == ["requests/s", "141.2", "137.9", "-2.3 %", "-0.20", "yes"]
    assert len(cells) == 4


def test_a_ramp_says_it_measured_its_ramp_on_purpose(diagnosed: Path) -> None:
    edit_results(diagnosed, window=WINDOW | {"ramp_measured": True, "steady": None, "checks": []})
    html = _page(diagnosed)
    assert "the ramp measured on purpose" in _section(html, "verdict")
    assert "ramps its users on purpose" in _section(html, "window")


def test_the_test_bed_shows_host_cpu_outside_processes_and_coverage(diagnosed: Path) -> None:
    html = _page(diagnosed)
    testbed = _section(html, "testbed")
    assert 'data-chart="host-cpu"' in testbed
    assert "2 cores, 41 samples over the window" in testbed
    assert re.search(
        r"<td>busy</td><td class=\"num\">62.00 %</td><td class=\"num\">1.24</td>", testbed
    )
    assert "&lt;b&gt;backup&lt;/b&gt;.sh" in testbed and "<b>backup" not in testbed
    assert '<td>cv-a1b2c3d4-postgres</td><td class="num">97.50 %</td>' in testbed
    positions = _order(html, "database", "testbed", "profile", "benchmarks")
    assert positions == sorted(positions)


def test_a_load_run_without_host_data_says_so(full_run: Path) -> None:
    testbed = _section(_page(full_run), "testbed")
    assert "Host CPU: not recorded in this run (no monitor/host.jsonl)" in testbed
    assert "Monitor samples per container: not recorded in this run" in testbed


def test_a_recorded_profile_has_a_flame_graph_and_top_functions(diagnosed: Path) -> None:
    html = _page(diagnosed)
    profile = _section(html, "profile")
    assert "Profile recorded: 4,000 samples at 100 Hz over 41 s from 2 backend processes" in profile
    assert 'data-chart="flame"' in profile
    rows = re.findall(r"<tr>(.*?)</tr>", profile)
    assert '<td class="query">hashpw</td>' in rows[1]
    assert "&lt;lambda&gt;" in rows[3]
    flame = page_data(html)["charts"]["flame"]["data"][0]
    assert flame["type"] == "icicle" and flame["tiling"]["flip"] == "y"
    assert "&lt;img src=x onerror=alert(1)&gt;" in flame["labels"]


def test_a_skipped_profile_shows_why(diagnosed: Path) -> None:
    edit_results(diagnosed, profile=SKIPPED_PROFILE)
    html = _page(diagnosed)
    profile = _section(html, "profile")
    assert "Profile skipped: py-spy needs SYS_PTRACE on this host" in profile
    assert "data-chart" not in profile
    assert "flame" not in page_data(html)["charts"]


def test_a_profile_without_its_summary_file_still_lists_its_top_functions(
    diagnosed: Path,
) -> None:
    (diagnosed / "profile" / "summary.json").unlink()
    profile = _section(_page(diagnosed), "profile")
    assert "Flame graph: not recorded in this run (no profile/summary.json)" in profile
    assert "hashpw" in profile


def test_a_summary_path_outside_the_run_folder_is_not_read(diagnosed: Path) -> None:
    (diagnosed.parent / "summary.json").write_text(
        (diagnosed / "profile" / "summary.json").read_text()
    )
    edit_results(diagnosed, profile=PROFILE | {"summary": "../summary.json"})
    html = _page(diagnosed)
    assert "flame" not in page_data(html)["charts"]
    assert "../summary.json: outside the run folder; left out" in _section(html, "warnings")


def test_a_diagnosed_run_draws_host_wait_event_and_flame_charts(diagnosed: Path) -> None:
    html = _page(diagnosed)
    names = re.findall(r'<div class="chart" data-chart="([\w-]+)"', html)
    assert names == list(DIAGNOSED_CHARTS)
    waits = page_data(html)["charts"]["db-waits"]
    assert [t["name"] for t in waits["data"]] == ["CPU", "Lock", "IO", "Client"]
    assert all(t["stackgroup"] == "stack" for t in waits["data"])


def test_time_charts_shade_the_warmup_apart_from_the_measured_window(diagnosed: Path) -> None:
    charts = page_data(_page(diagnosed))["charts"]
    for name in DIAGNOSED_CHARTS:
        if name in ("knee", "flame"):
            continue
        layout = charts[name]["layout"]
        bands = [s for s in layout["shapes"] if s["type"] == "rect"]
        assert len(bands) == 2, name
        warmup, measured = bands
        assert warmup["x1"] == measured["x0"] and warmup["fillcolor"] != measured["fillcolor"]
        labels = [a["text"] for a in layout["annotations"]]
        assert labels == ["warm-up", "measured window"], name


def test_a_bench_run_has_no_test_bed_or_profile_section(bench_run: Path) -> None:
    html = _page(bench_run)
    assert 'id="testbed"' not in html and 'id="profile"' not in html
