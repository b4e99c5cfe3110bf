"""The comparison report: comparison.html, .md and -junit.xml from a synthetic comparison.json."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

from harness.comparison_record import (
    ComparisonFile,
    ExactCount,
    Label,
    MetricName,
    MetricVerdict,
    Noise,
    RepBench,
    RepEndpoint,
    Repetition,
    RepResource,
    Row,
    Settings,
    VersionInfo,
    write_comparison,
)
from harness.errors import ConfigError
from harness.report import build_comparison_report, build_report
from harness.report.comparison_tables import short_ms, signed, spread
from tests.report.run_folders import XSS_NAME, page_data

SLOW = "GET /trips"  # B is 42 % slower at p95: the failed endpoint
# the failed rows are not first in the file: the report puts them first
ENDPOINTS = ("POST /auth/login", "GET /users/{username}", SLOW, XSS_NAME)
MORE_QUERIES = "feed_page"  # B runs 5 queries per call where A ran 3: the failed benchmark
BENCHMARKS = ("trip_detail", MORE_QUERIES)
ORDER = "AB BA AB"
SECRET = "hunter2secret"
OUTPUTS = ("comparison.html", "comparison.md", "comparison-junit.xml")
INVALID_REASONS = (
    "the host was busy outside the test: 1.4 cores on average during repetition 3",
    "repetition 3 has no monitor samples",
)


def _labels(order: str) -> list[tuple[int, Label]]:
    """(pair, version) of each repetition in the order run: "AB BA" -> (1,A) (1,B) (2,B) (2,A)."""
    return [
        (pair, "A" if c == "A" else "B") for pair, word in enumerate(order.split(), 1) for c in word
    ]


def _endpoint(base_ms: float, rps: float, failures: int = 0) -> RepEndpoint:
    quantiles = {"0.5": 0.5, "0.9": 0.85, "0.95": 1.0, "0.99": 1.6, "1.0": 2.4}
    return RepEndpoint(
        requests=int(rps * 60),
        failures=failures,
        p50_ms=base_ms * 0.5,
        p95_ms=base_ms,
        rps=rps,
        percentiles={q: round(base_ms * f, 2) for q, f in quantiles.items()},
    )


def _repetition(order: int, pair: int, version: Label, endpoints: list[str]) -> Repetition:
    slow = version == "B"
    wobble = 1 + 0.02 * (order % 3)
    measured = {
        name: _endpoint(
            (170.0 if slow and name == SLOW else 120.0) * wobble,
            20.0 / wobble,
            failures=1 if slow and name == SLOW else 0,
        )
        for name in endpoints
    }
    return Repetition(
        order=order,
        pair=pair,
        version=version,
        folder=f"rep-{order:02d}-{version}",
        restore_s=4.2,
        window_s=60.0,
        users=10,
        endpoints=measured,
        aggregate=_endpoint(130.0 * wobble, 20.0 * len(endpoints)),
        history=[(float(t), 80.0 + t % 5, 130.0 + t % 7) for t in range(60)],
        resources={
            "backend": RepResource(cpu_cores=0.8 * wobble, cpu_cores_peak=1.3, memory_mib_peak=210),
            "postgres": RepResource(cpu_cores=0.3, cpu_cores_peak=0.6, memory_mib_peak=90),
            "locust": RepResource(cpu_cores=0.2, cpu_cores_peak=0.3, memory_mib_peak=70),
        },
        benchmarks={
            MORE_QUERIES: RepBench(
                median_ms=9.0 if slow else 6.0, rounds=50, queries=5 if slow else 3, rows=20
            ),
            "trip_detail": RepBench(median_ms=4.0, rounds=50, queries=2, rows=1, exec_ms=0.4),
        },
        invalid=[],
    )


def _metric(
    metric: MetricName,
    a: float,
    b: float,
    change: float = 0.01,
    call: str = "no change",
    judged: bool = True,
) -> MetricVerdict:
    interval = (change - 0.19, change + 0.19) if call == "slower" else (change - 0.05, 0.06)
    return MetricVerdict.model_validate(
        {
            "metric": metric,
            "a": [a] * 3,
            "b": [b] * 3,
            "a_median": a,
            "b_median": b,
            "change": change,
            "interval": interval,
            "noise_floor": 0.031,
            "detectable": 0.082,
            "p_value": 0.01 if call == "slower" else 0.6,
            "call": call,
            "judged": judged,
        }
    )


def _endpoint_row(name: str, kind: str = "endpoint") -> Row:
    slow = name == SLOW
    return Row.model_validate(
        {
            "name": name,
            "kind": kind,
            "call": "slower" if slow else "no change",
            "failed": slow,
            "tolerance": 0.1,
            "metrics": [
                _metric("p50_ms", 60, 61),
                _metric("p95_ms", 120, 170.4, 0.42, "slower")
                if slow
                else _metric("p95_ms", 120, 121),
                _metric("rps", 20.0, 19.6, -0.02, judged=False),
            ],
            "failures": (0, 3) if slow else (0, 0),
            "note": "p95 beyond the tolerance" if slow else "",
        }
    )


def _bench_row(name: str) -> Row:
    more = name == MORE_QUERIES
    return Row(
        name=name,
        kind="benchmark",
        call="no change",
        failed=more,
        tolerance=0.1,
        metrics=[_metric("median_ms", 6.0, 9.0 if more else 6.0)],
        queries=ExactCount(a=3, b=5, differs=True) if more else ExactCount(a=2, b=2),
        rows=ExactCount(a=20, b=20),
        note="more queries per call" if more else "",
    )


def comparison(
    *,
    endpoints: tuple[str, ...] = ENDPOINTS,
    order: str = ORDER,
    invalid: tuple[str, ...] = (),
) -> ComparisonFile:
    """Two versions, a pair per word of `order`, every endpoint and both benchmarks."""
    labels = _labels(order)
    reps = [_repetition(i, pair, v, list(endpoints)) for i, (pair, v) in enumerate(labels, 1)]
    if invalid:
        reps[2] = reps[2].model_copy(update={"invalid": list(invalid)})
    rows = [_endpoint_row(e) for e in endpoints] + [_endpoint_row("Aggregated", "total")]
    rows += [_bench_row(b) for b in BENCHMARKS]
    return ComparisonFile(
        id="compare-20250101-120000",
        started_at="2025-01-01T12:00:00+00:00",
        finished_at="2025-01-01T12:20:00+00:00",
        wall_s=1200.0,
        host="ci-runner-7",
        cpus=2,
        settings=Settings(
            repeats=len(order.split()),
            shape="baseline",
            users=10,
            duration_s=60,
            warmup_s=10,
            scenario="contravento",
            profile="small",
            seed=1,
            bench_rounds=50,
            tolerance=0.1,
            confidence=0.95,
            order=order,
        ),
        versions=[
            VersionInfo(
                label="A",
                name="main",
                kind="git",
                image="cv-backend:1a2b3c4",
                project_file="harness/reference-backend.toml",
                revision="1a2b3c4d5e",
            ),
            VersionInfo(
                label="B",
                name="image:cv-backend:candidate",
                kind="image",
                image="cv-backend:candidate",
                project_file="harness/reference-backend.toml",
            ),
        ],
        repetitions=reps,
        rows=rows,
        noise=[
            Noise(metric="p95_ms", noise_floor=0.031, detectable=0.082, rows=5),
            Noise(metric="median_ms", noise_floor=0.012, detectable=0.04, rows=2),
        ],
        verdict="INVALID" if invalid else "slower",
        failed=not invalid,
        invalid=list(invalid),
        notes=[f"the seed cache was rebuilt (postgresql://cv:{SECRET}@127.0.0.1/cv)"],
    )


@pytest.fixture
def slower(tmp_path: Path) -> Path:
    """A comparison where B is slower on one endpoint and runs more queries in one benchmark."""
    folder = tmp_path / "slower"
    folder.mkdir()
    write_comparison(folder, comparison())
    return folder


@pytest.fixture
def invalid(tmp_path: Path) -> Path:
    """The same comparison judged INVALID: a busy host during one repetition."""
    folder = tmp_path / "invalid"
    folder.mkdir()
    write_comparison(folder, comparison(invalid=INVALID_REASONS))
    return folder


def _built(folder: Path) -> dict[str, str]:
    build_comparison_report(folder)
    return {name: (folder / name).read_text(encoding="utf-8") for name in OUTPUTS}


def _junit(xml: str) -> ET.Element:
    return ET.fromstring(xml)  # noqa: S314 -- our own file


def _first_body_row(html: str, section: str) -> str:
    start = html.index(f'<section id="{section}"')
    body = html.index("<tbody>", start)
    return html[body + len("<tbody>") : html.index("</tr>", body)]


# --- the files -----------------------------------------------------------------------------


def test_writes_the_three_files_into_the_folder(slower: Path) -> None:
    written = build_comparison_report(slower)
    assert written == [slower / name for name in OUTPUTS]
    assert all(p.stat().st_size > 1000 for p in written)
    assert not list(slower.glob(".*.tmp"))


def test_build_report_dispatches_to_the_comparison_report(slower: Path) -> None:
    assert build_report(slower) == [slower / name for name in OUTPUTS]
    assert not (slower / "index.html").exists()


def test_a_run_folder_still_gets_the_run_report(slower: Path) -> None:
    """comparison.json next to a results.json is not a comparison folder: the run wins."""
    (slower / "results.json").write_text("{}")
    with pytest.raises(ConfigError, match="schema_version"):
        build_report(slower)


def test_a_missing_comparison_is_a_config_error_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        build_comparison_report(tmp_path)
    assert "comparison.json" in raised.value.message
    assert "harness compare" in raised.value.hint
    with pytest.raises(ConfigError) as raised:
        build_comparison_report(tmp_path / "no-such-folder")
    assert "no comparison folder" in raised.value.message and raised.value.hint


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ('{"id": "cut sho', "not valid JSON"),
        ('{"id": "x"}', "does not fit the comparison model"),
        (b"\xff\xfe{}", "not UTF-8"),
    ],
)
def test_an_unusable_comparison_is_a_config_error(
    tmp_path: Path, content: str | bytes, said: str
) -> None:
    path = tmp_path / "comparison.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(ConfigError) as raised:
        build_comparison_report(tmp_path)
    assert said in raised.value.message and raised.value.hint
    assert not (tmp_path / "comparison.html").exists()


def test_no_secret_reaches_any_output(slower: Path) -> None:
    assert SECRET in (slower / "comparison.json").read_text()
    for content in _built(slower).values():
        assert SECRET not in content
    assert "postgresql://cv:***@127.0.0.1/cv" in (slower / "comparison.md").read_text()


# --- comparison.html -----------------------------------------------------------------------


def test_the_page_puts_the_verdict_table_before_the_first_chart(slower: Path) -> None:
    html = _built(slower)["comparison.html"]
    sections = re.findall(r'<section id="([a-z-]+)"', html)
    assert sections == [
        "verdict",
        "notes",
        "versions",
        "rows",
        "sensitivity",
        "distributions",
        "over-time",
        "per-repetition",
        "resources",
        "database",
        "repetitions",
    ]
    assert html.index('<section id="rows"') < html.index('<div class="chart"')


def test_the_verdict_shows_slower_in_red(slower: Path) -> None:
    html = _built(slower)["comparison.html"]
    assert '<section id="verdict" class="verdict fail"><div class="word">SLOWER</div>' in html
    assert "1a2b3c4d5e" in html and "cv-backend:candidate" in html  # A's revision, B's image


def test_the_failed_endpoint_comes_first_in_the_failed_style(slower: Path) -> None:
    html = _built(slower)["comparison.html"]
    first = _first_body_row(html, "rows")
    assert first.startswith('<tr class="fail')
    assert f"<td>FAIL</td><td>{SLOW}</td><td>p50 ms</td>" in first
    failed = re.findall(r'<tr class="fail[^"]*"><td>FAIL</td><td>([^<]+)</td>', html)
    assert failed == [SLOW, MORE_QUERIES]  # the endpoint, then the benchmark; nothing else
    assert "+42.0 % [+23.0, +61.0] %" in html


def test_a_metric_not_judged_is_greyed(slower: Path) -> None:
    html = _built(slower)["comparison.html"]
    greyed = re.findall(
        r'<tr class="([^"]*)"><td></td><td></td><td>requests/s \(not judged\)', html
    )
    assert greyed and all("info" in cls.split() for cls in greyed)
    assert not re.search(r'<tr class="[^"]*\binfo\b[^"]*"><td></td><td></td><td>p95 ms<', html)


def test_more_queries_per_call_are_marked(slower: Path) -> None:
    html = _built(slower)["comparison.html"]
    marked = re.findall(r'<tr class="([^"]*qdiff[^"]*)"><td[^>]*>(?:FAIL</td><td>)?([^<]+)<', html)
    assert {name for _, name in marked} == {MORE_QUERIES}
    assert '<td class="num q">3 → 5 (differs)</td>' in html  # the verdict table's cell
    assert '<td class="num q">2 → 2</td>' in html  # same counts: no mark


def test_user_given_names_are_escaped(slower: Path) -> None:
    html = _built(slower)["comparison.html"]
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert len(re.findall(r"<script\b", html)) == 3  # the figures, plotly.js, the page's script
    assert html.count("plotly.js v") == 1


def test_strings_from_every_field_are_escaped(tmp_path: Path) -> None:
    hostile = comparison()
    script = "<script>alert(1)</script>"
    hostile.versions[1].name = f"image:{script}"
    hostile.settings.scenario = script
    hostile.notes.append(script)
    hostile.repetitions[0].folder = f'rep-01"><img src=x onerror=alert(2)>{script}'
    hostile.repetitions[1].invalid = [script]
    hostile.repetitions[1].resources[script] = RepResource(cpu_cores=0.1)
    write_comparison(tmp_path, hostile)
    html = _built(tmp_path)["comparison.html"]
    assert len(re.findall(r"<script\b", html)) == 3
    assert "<img" not in html and "onerror=alert(2)>" not in html
    assert '<a href="rep-01%22%3E%3Cimg%20src%3Dx' in html  # the link stays relative and inert
    md = (tmp_path / "comparison.md").read_text()
    assert "<script>" not in md


def test_every_chart_is_drawn_from_the_repetitions(slower: Path) -> None:
    html = _built(slower)["comparison.html"]
    charts = page_data(html)["charts"]
    assert (
        set(re.findall(r'data-chart="([a-z0-9-]+)"', html))
        == set(charts)
        == {
            "percentiles",
            "rps-time",
            "p95-time",
            "per-repetition",
            "cpu",
            "memory",
            "db-queries",
            "db-time",
        }
    )
    percentiles = charts["percentiles"]
    # a line per repetition per endpoint with percentiles (4 endpoints and the total)
    assert len(percentiles["data"]) == 6 * 5
    shown = [t for t in percentiles["data"] if t["visible"]]
    assert len(shown) == 6 and all(t["x"][0] == "p50" for t in shown)
    assert {t["line"]["color"] for t in shown} == {"#0072b2", "#d55e00"}  # A and B
    assert percentiles["layout"]["yaxis"]["type"] == "log"
    buttons = percentiles["layout"]["updatemenus"][0]["buttons"]
    assert buttons[0]["label"] == SLOW  # the failed endpoint first, as in the table
    assert len(charts["rps-time"]["data"]) == 6
    assert [t["name"].startswith("A") for t in charts["cpu"]["data"]] == [True, False]


def test_the_repetitions_link_to_their_folders(slower: Path) -> None:
    html = _built(slower)["comparison.html"]
    links = re.findall(r'<a href="([^"]+)">', html)
    assert links == [f"rep-{i:02d}-{v}/" for i, v in zip(range(1, 7), "ABBAAB", strict=True)]


def test_many_endpoints_and_repetitions_keep_the_page_small(tmp_path: Path) -> None:
    """15 endpoints x 10 repetitions: the figures add well under a megabyte to plotly.js."""
    many = tuple(f"GET /resource-{i}" for i in range(15))
    write_comparison(tmp_path, comparison(endpoints=many, order="AB BA AB BA AB"))
    html = _built(tmp_path)["comparison.html"]
    assert len(page_data(html)["charts"]["percentiles"]["data"]) == 16 * 10
    assert len(html.encode()) - len(get_plotlyjs()) < 600_000


# --- comparison.md -------------------------------------------------------------------------


def test_the_summary_starts_with_the_verdict_and_the_failed_row(slower: Path) -> None:
    md = _built(slower)["comparison.md"]
    lines = md.splitlines()
    assert lines[0] == "## ❌ SLOWER: ContraVento comparison compare-20250101-120000"
    table = [line for line in lines if line.startswith("| ")]
    assert table[0].startswith("| result | name | metric |")
    assert table[2].startswith("| **FAIL** | GET /trips | p50 ms | no change | 60 → 61 |")
    failed = [line.split(" | ")[1] for line in table if line.startswith("| **FAIL**")]
    assert failed == [SLOW, "feed\\_page"]  # Markdown-escaped
    assert "| 120 → 170 | +42.0 % \\[+23.0, +61.0\\] % |" in md
    assert "A (base): main, git revision 1a2b3c4d5e" in md
    assert "±8.2 % in p95 ms" in md  # the sensitivity sentence
    assert "&lt;script&gt;" in md and "<script>" not in md


def test_the_invalid_summary_gives_its_reasons(invalid: Path) -> None:
    md = _built(invalid)["comparison.md"]
    assert md.startswith("## ⚠️ INVALID:")
    assert "### Why this comparison is INVALID" in md
    assert all(f"1. {reason}" in md for reason in INVALID_REASONS)


# --- comparison-junit.xml ------------------------------------------------------------------


def test_junit_fails_exactly_the_failed_rows(slower: Path) -> None:
    root = _junit(_built(slower)["comparison-junit.xml"])
    cases = root.findall("testsuite/testcase")
    assert len(cases) == len(ENDPOINTS) + 1 + len(BENCHMARKS)
    failed = {(c.get("classname"), c.get("name")): c.find("failure") for c in cases}
    failed = {k: f for k, f in failed.items() if f is not None}
    assert set(failed) == {("compare.endpoint", SLOW), ("compare.benchmark", MORE_QUERIES)}
    message = failed["compare.endpoint", SLOW].get("message", "")
    assert "p95 ms slower +42.0 % [+23.0, +61.0] %" in message
    assert "queries per call 3 → 5 (differs)" in failed["compare.benchmark", MORE_QUERIES].get(
        "message", ""
    )
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("7", "2", "0")
    assert root.find("testsuite/testcase/error") is None


def test_junit_of_an_invalid_comparison_has_one_error(invalid: Path) -> None:
    root = _junit(_built(invalid)["comparison-junit.xml"])
    errors = root.findall("testsuite/testcase/error")
    assert len(errors) == 1 and errors[0].get("type") == "invalid"
    assert errors[0].text == "\n".join(INVALID_REASONS)
    assert root.findall("testsuite/testcase/failure") == []
    assert (root.get("errors"), root.get("failures"), root.get("skipped")) == ("1", "0", "7")


def test_the_invalid_page_is_amber_with_its_reasons_first(invalid: Path) -> None:
    html = _built(invalid)["comparison.html"]
    assert '<section id="verdict" class="verdict invalid"><div class="word">INVALID</div>' in html
    assert html.index('<section id="invalid"') < html.index('<section id="rows"')
    assert f"<li>{INVALID_REASONS[0]}</li>" in html
    assert '<tr class="warn">' in html  # the repetition that was not evidence


# --- the figures ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [(1234.4, "1,234"), (12.4, "12"), (3.46, "3.5"), (0.04, "0.04"), (None, "-")],
)
def test_milliseconds_are_readable(value: float | None, shown: str) -> None:
    assert short_ms(value) == shown


def test_percentages_have_one_decimal_and_a_sign() -> None:
    assert (signed(0.1234), signed(-0.05), spread(0.082)) == ("+12.3 %", "-5.0 %", "±8.2 %")
