"""The console: aligned plain tables, the progress sink off and on a terminal, the load view."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from harness.console import (
    Column,
    Console,
    EndpointLoad,
    LoadSnapshot,
    Table,
    show_load,
    show_table,
)
from harness.load.runner import LoadPlan, load_snapshot
from tests.stack.cli import measured

TABLE = Table(
    title="two endpoints",
    columns=(
        Column("endpoint", width=12),
        Column("p95 ms", "right"),
        Column("result", gap=2),
    ),
    rows=(("GET /feed", "31", "ok"), ("POST /auth/login", "900", "FAIL p95")),
    footer=("verdict: FAIL",),
)


def snapshot(
    elapsed: float, rps: float = 0.0, final: bool = False, phase: str = "measuring"
) -> LoadSnapshot:
    return LoadSnapshot(
        phase=phase,
        elapsed_s=elapsed,
        total_s=60,
        users=10,
        rps=rps,
        p95_ms=31.0 if rps else None,
        requests=200 if rps else 0,
        failures=2 if rps else 0,
        endpoints=(EndpointLoad("GET /trips/public", 200, 2, rps, 31.0),) if rps else (),
        final=final,
    )


def test_plain_lines_align_columns_under_their_headers() -> None:
    assert TABLE.plain_lines() == [
        "two endpoints",
        "endpoint         p95 ms  result",
        "GET /feed            31  ok",
        "POST /auth/login    900  FAIL p95",
        "verdict: FAIL",
    ]


def test_a_column_keeps_its_least_width() -> None:
    narrow = Table(
        columns=(Column("a", width=4), Column("b", "right", width=3)), rows=(("x", "1"),)
    )
    assert narrow.plain_lines() == ["a      b", "x      1"]
    assert TABLE.plain_lines()[-1] == "verdict: FAIL"


def test_a_row_of_the_wrong_width_is_refused() -> None:
    with pytest.raises(ValueError, match="2 columns"):
        Table(columns=(Column("a"), Column("b")), rows=(("only one",),))


def test_off_a_terminal_the_sink_writes_plain_lines() -> None:
    out = io.StringIO()
    sink = Console(out, is_terminal=False)
    sink("== load")
    sink.table(TABLE)
    assert out.getvalue().splitlines() == ["== load", *TABLE.plain_lines()]
    assert "\x1b[" not in out.getvalue()


def test_on_a_terminal_the_sink_renders_a_rich_table() -> None:
    out = io.StringIO()
    Console(out, is_terminal=True).table(TABLE)
    text = out.getvalue()
    assert "┃" in text and "│ POST /auth/login │" in text  # a boxed table, not aligned text
    assert "\x1b[1m" in text  # bold headers: rendered for a terminal
    assert "endpoint         p95 ms  result" not in text
    assert text.rstrip().endswith("verdict: FAIL")  # lines after the table stay lines


def test_off_a_terminal_load_ticks_become_a_plain_line_every_five_seconds() -> None:
    now = [0.0]
    out = io.StringIO()
    sink = Console(out, is_terminal=False, clock=lambda: now[0])
    for t in (0.0, 1.0, 4.9, 5.0, 6.0, 10.5):
        now[0] = t
        sink.load_tick(snapshot(t))
    sink.load_tick(snapshot(11.0, final=True))  # the results follow; nothing more here
    lines = out.getvalue().splitlines()
    assert lines == [snapshot(t).plain_line() for t in (0.0, 5.0, 10.5)]
    assert (
        lines[0] == "[    0s/60s] measuring users   10  rps     0.0  p95     - ms  failures 0.00%"
    )
    assert not measured(out.getvalue())  # what the crash tests grep for: no requests yet
    sink.load_tick(snapshot(12.0, rps=52.3))
    assert measured(out.getvalue())


def test_on_a_terminal_load_ticks_update_one_live_table() -> None:
    out = io.StringIO()
    sink = Console(out, is_terminal=True)
    sink.load_tick(snapshot(12.0, rps=52.3))
    sink("stopping the load: backend down")  # printed above the live view
    sink.load_tick(snapshot(13.0, rps=50.0, final=True))
    text = out.getvalue()
    assert "│ GET /trips/public │" in text and "52.3" in text and "50.0" in text
    assert "\x1b[2K" in text  # the earlier table is erased: updated in place
    assert text.index("\x1b[?25l") < text.rindex("\x1b[?25h")  # the view ended with the load
    assert "stopping the load: backend down" in text


def test_a_sink_that_takes_only_lines_gets_plain_lines() -> None:
    lines: list[str] = []
    show_table(lines.append, TABLE)
    show_load(lines.append, snapshot(7.0, rps=10.0))
    show_load(lines.append, snapshot(8.0, rps=10.0, final=True))
    assert lines == [*TABLE.plain_lines(), snapshot(7.0, rps=10.0).plain_line()]


STATS = """Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%
GET,/trips/public,200,2,12,15.5,3,90,1000,10.0,0.1,12,14,15,16,20,31,40,55,90,90,90
POST,/auth/login,0,0,0,0.0,0,0,0,0.0,0.0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A
,Aggregated,200,2,12,15.5,3,90,1000,10.0,0.1,12,14,15,16,20,31,40,55,90,90,90
"""


def test_the_load_runner_reads_a_snapshot_from_locusts_files(tmp_path: Path) -> None:
    plan = LoadPlan(tmp_path, ("A",), [], 5, 20, workers=1, usernames_file=None, password="x")
    early = load_snapshot(tmp_path, 1.0, plan)
    assert early.plain_line() == (
        "[    1s/20s] warm-up   users    ?  rps     0.0  p95     - ms  failures 0.00%"
    )
    (tmp_path / "locust_stats.csv").write_text(STATS)
    (tmp_path / "locust_stats_history.csv").write_text("Timestamp,User Count\n1,10\n")
    later = load_snapshot(tmp_path, 7.0, plan)
    assert later.plain_line() == (
        "[    7s/20s] measuring users   10  rps    10.0  p95    31 ms  failures 1.00%"
    )
    assert later.table().plain_lines()[1:] == [
        "endpoint          requests fail %  rps p95 ms",
        "GET /trips/public      200  1.00% 10.0     31",
        "POST /auth/login         0  0.00%  0.0      -",
    ]
