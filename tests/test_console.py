"""The console: aligned plain tables, the progress sink off and on a terminal, the load view."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from harness.console import (
    Column,
    Console,
    EndpointLoad,
    LoadSnapshot,
    Prefixed,
    Table,
    folded_details,
    progress_task,
    show_load,
    show_table,
)
from harness.images.docker_cli import DockerCli
from harness.load.runner import LoadPlan, load_snapshot
from harness.seed import generate, seeder
from harness.seed.profiles import PROFILES, Profile
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
    plan = LoadPlan(tmp_path, ("A",), {}, 5, 20, workers=1, usernames_file=None, password="x")
    early = load_snapshot(tmp_path, 1.0, plan)
    assert early.plain_line() == (
        "[    1s/20s] warm-up   users    ?  rps     0.0  p95     - ms  failures 0.00%"
    )
    (tmp_path / "locust_stats.csv").write_text(STATS)
    (tmp_path / "locust_stats_history.csv").write_text("Timestamp,User Count\n1,10\n")
    assert load_snapshot(tmp_path, 7.0, plan).phase == "warm-up"  # until the window begins
    (tmp_path / "locust_window.json").write_text('{"start": 1796230000.0, "users": 10}')
    later = load_snapshot(tmp_path, 7.0, plan)
    assert later.plain_line() == (
        "[    7s/20s] measuring users   10  rps    10.0  p95    31 ms  failures 1.00%"
    )
    assert later.table().plain_lines()[1:] == [
        "endpoint          requests fail %  rps p95 ms",
        "GET /trips/public      200  1.00% 10.0     31",
        "POST /auth/login         0  0.00%  0.0      -",
    ]


SHOWN_CURSOR, HIDDEN_CURSOR = "\x1b[?25h", "\x1b[?25l"


def plain(text: str) -> str:
    """What a terminal shows of rich's output, colours and cursor moves aside."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


def test_on_a_terminal_a_task_is_a_bar_that_leaves_its_final_line() -> None:
    out = io.StringIO()
    sink = Console(out, is_terminal=True)
    task = progress_task(sink, "trips", 2000, unit="rows")
    task.advance(500, line="  trips 500 rows")
    sink("a line above the bar")
    task.advance(500, line="  trips 1,000 rows")
    task.done("  trips 2,000 rows")
    sink("next")
    text = out.getvalue()
    assert "trips" in plain(text) and "━" in text and "1,000/2,000 rows" in plain(text)
    assert re.search(r"\d[\d,]* rows/s", plain(text))  # the rate beside the count
    assert "  trips 500 rows" not in text  # the bar stands for the plain lines
    after = text[text.rindex("  trips 2,000 rows") :]
    assert "━" not in after and "next" in after  # the bar went, its final line stayed
    assert text.index("a line above the bar") < text.index("  trips 2,000 rows")
    assert text.rindex(HIDDEN_CURSOR) < text.rindex(SHOWN_CURSOR)  # the terminal as before


def test_on_a_terminal_each_task_has_its_own_bar_until_the_last_is_done() -> None:
    out = io.StringIO()
    sink = Console(out, is_terminal=True)
    backend = progress_task(sink, "backend", paced=False)
    locust = progress_task(sink, "locust", paced=False)
    backend.update(completed=3, total=13, status="RUN pip install", line="  Step 3/13 : RUN")
    locust.update(completed=2, total=9, status="COPY . /app", line="  Step 2/9 : COPY")
    shown = plain(out.getvalue())
    assert "3/13" in shown and "2/9" in shown and "RUN pip install" in shown
    assert "Step 3/13" not in shown
    backend.done()
    assert out.getvalue().count(SHOWN_CURSOR) == 0  # one bar still runs
    locust.done()
    assert out.getvalue().rindex(HIDDEN_CURSOR) < out.getvalue().rindex(SHOWN_CURSOR)


def test_closing_the_console_ends_the_bars_and_restores_the_terminal() -> None:
    out = io.StringIO()
    with Console(out, is_terminal=True) as sink:
        task = progress_task(sink, "users", 200, unit="rows")
        task.advance(100)
    text = out.getvalue()
    assert "100/200 rows" in plain(text) and text.rindex(HIDDEN_CURSOR) < text.rindex(SHOWN_CURSOR)
    task.done("  users 200 rows")  # after the close: a line, no bar started again
    assert out.getvalue().endswith("  users 200 rows\n")


def test_bars_and_the_live_load_view_take_turns_on_one_terminal() -> None:
    out = io.StringIO()
    sink = Console(out, is_terminal=True)
    seeding = progress_task(sink, "likes", unit="rows")
    seeding.advance(1200)
    seeding.done("  likes 1,200 rows")
    sink.load_tick(snapshot(12.0, rps=52.3))
    sink.load_tick(snapshot(13.0, rps=50.0, final=True))
    text = out.getvalue()
    assert text.index("  likes 1,200 rows") < text.index("│ GET /trips/public │")
    assert text.count(HIDDEN_CURSOR) == text.count(SHOWN_CURSOR) == 2  # each one ended


def test_off_a_terminal_a_task_prints_its_lines_at_most_every_five_seconds() -> None:
    now = [0.0]
    out = io.StringIO()
    sink = Console(out, is_terminal=False, clock=lambda: now[0])
    task = progress_task(sink, "trips", 500_000, unit="rows")
    for t in (0.0, 1.0, 4.9, 5.0, 6.0, 10.5, 12.0):
        now[0] = t
        task.advance(100_000, line=f"line at {t}")
    task.done("line at 12.0")  # the final one: out, since the last tick was held back
    task.done("twice")  # a task ends once
    assert out.getvalue().splitlines() == [
        "line at 0.0",
        "line at 5.0",
        "line at 10.5",
        "line at 12.0",
    ]
    assert "\x1b[" not in out.getvalue()


def test_off_a_terminal_a_one_step_task_prints_its_line_once() -> None:
    out = io.StringIO()
    sink = Console(out, is_terminal=False)
    task = progress_task(sink, "users", 200, unit="rows")
    task.advance(200, line="  users 200 rows")
    task.done("  users 200 rows")  # the same line: not repeated
    assert out.getvalue() == "  users 200 rows\n"


def test_an_unpaced_task_prints_every_line_it_is_given() -> None:
    now = [0.0]
    out = io.StringIO()
    sink = Console(out, is_terminal=False, clock=lambda: now[0])
    task = progress_task(sink, "backend", paced=False)
    steps = [f"  Step {n}/3 : RUN step {n}" for n in (1, 2, 3)]
    for n, line in enumerate(steps, 1):
        task.update(completed=n, total=3, status=line, line=line)
    task.done()
    assert out.getvalue().splitlines() == steps


def test_a_sink_that_takes_only_lines_gets_the_task_lines() -> None:
    lines: list[str] = []
    task = progress_task(lines.append, "trips", 300, unit="rows")
    for n in (100, 200, 300):  # well within 5 s: the first, then only the final one
        task.advance(100, line=f"  trips {n} rows")
    task.done("  trips 300 rows")
    steps = progress_task(lines.append, "backend", paced=False)
    steps.update(completed=1, total=2, line="  Step 1/2 : FROM x")
    steps.update(completed=2, total=2, line="  Step 2/2 : RUN y")
    steps.done()
    assert lines == [
        "  trips 100 rows",
        "  trips 300 rows",
        "  Step 1/2 : FROM x",
        "  Step 2/2 : RUN y",
    ]


def test_a_prefixed_sink_prefixes_task_lines_and_keeps_the_bars() -> None:
    out = io.StringIO()
    report = Prefixed(Console(out, is_terminal=False), lambda: "[   1.0s] ")
    task = progress_task(report, "backend", paced=False)
    task.update(completed=1, total=2, line="  Step 1/2 : FROM x")
    task.done()
    report("backend: built")
    assert out.getvalue().splitlines() == [
        "[   1.0s]   Step 1/2 : FROM x",
        "[   1.0s] backend: built",
    ]
    lines: list[str] = []
    progress_task(Prefixed(lines.append, lambda: "> "), "x").advance(line="one")
    assert lines == ["> one"]
    on_terminal = io.StringIO()
    bar = progress_task(Prefixed(Console(on_terminal, True), lambda: "> "), "backend")
    bar.update(completed=1, total=2, line="  Step 1/2 : FROM x")
    bar.done()
    assert "1/2" in plain(on_terminal.getvalue()) and "Step 1/2" not in on_terminal.getvalue()


def test_folded_details_become_a_spinner_status_on_a_terminal_only() -> None:
    said = [
        "base x: debootstrap bookworm from http://deb.example into /var/tmp/r",
        "  debootstrap: I: Retrieving Packages",
        "  debootstrap: I: Base system installed successfully.",
        "base x: importing the rootfs into Docker",
    ]
    lines: list[str] = []
    with folded_details(lines.append, "base python") as sink:
        for line in said:
            sink(line)
    assert lines == said
    out = io.StringIO()
    with folded_details(Console(out, True), "base python") as sink:
        for line in said:
            sink(line)
    shown = plain(out.getvalue())
    assert "base python" in shown and "debootstrap: I: Retr" in shown  # the spinner's status
    assert "  debootstrap: I: Retrieving Packages\n" not in shown  # not a line of its own
    assert said[0] + "\n" in shown and said[3] + "\n" in shown


FAKE_DOCKER = """#!/bin/sh
if [ "$1" = build ]; then
  echo "Sending build context to Docker daemon  2.048kB"
  echo "Step 1/3 : FROM python:3.11-slim"
  echo " ---> 1234"
  echo "Step 2/3 : COPY . /app"
  echo "Step 3/3 : RUN pip install ."
  echo "Successfully built 5678"
  exit 0
fi
echo sha256:5678
"""


@pytest.fixture
def fake_docker(tmp_path: Path) -> DockerCli:
    script = tmp_path / "docker"
    script.write_text(FAKE_DOCKER)
    script.chmod(0o755)
    return DockerCli(executable=str(script))


def test_an_image_build_prints_its_step_lines_off_a_terminal(
    fake_docker: DockerCli, tmp_path: Path
) -> None:
    out = io.StringIO()
    fake_docker.build(
        tag="contravento-harness/backend:abc", context=tmp_path, progress=Console(out, False)
    )
    assert out.getvalue().splitlines() == [  # as before the bars: the step lines, nothing else
        "  Step 1/3 : FROM python:3.11-slim",
        "  Step 2/3 : COPY . /app",
        "  Step 3/3 : RUN pip install .",
    ]


def test_an_image_build_is_a_bar_of_its_steps_on_a_terminal(
    fake_docker: DockerCli, tmp_path: Path
) -> None:
    out = io.StringIO()
    fake_docker.build(
        tag="contravento-harness/backend:abc", context=tmp_path, progress=Console(out, True)
    )
    shown = plain(out.getvalue())
    assert re.search(r"backend .*3/3 .*RUN pip install \.", shown)  # name, step N/M, the step
    assert "Step 3/3" not in shown and "contravento-harness" not in shown
    assert out.getvalue().rindex(HIDDEN_CURSOR) < out.getvalue().rindex(SHOWN_CURSOR)


def seed_lines(profile: Profile, progress: seeder.Progress) -> list[tuple[str, int]]:
    """Feed the seeder's meter the generator's chunks as a load would; the chunks it saw."""
    meter = seeder._Meter(progress, profile)
    seen = []
    for chunk in generate.Generator(profile, 1, "-").chunks():
        meter.begin(chunk.table)
        meter.record(chunk.table, chunk.rows, 0.01)
        seen.append((chunk.table, chunk.rows))
    meter.close()
    return seen


def old_line(table: str, rows: int, seconds: float) -> str:
    return f"  {table:<18} {rows:>10,} rows  {rows / seconds:>12,.0f} rows/s"


def test_seeding_off_a_terminal_prints_a_line_per_table_as_before() -> None:
    lines: list[str] = []
    chunks = seed_lines(PROFILES["tiny"], lines.append)
    assert len({table for table, _ in chunks}) == len(chunks)  # one chunk per table
    assert lines == [old_line(table, rows, 0.01) for table, rows in chunks]


def test_seeding_a_large_table_prints_its_first_and_last_chunk_within_five_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for module in (generate, seeder):
        monkeypatch.setattr(module, "TRIP_CHUNK", 2)  # 5 trips: 3 chunks of each trip table
    profile = Profile("t", users=20, trips=5, follows=30, likes=10, tags=5)
    lines: list[str] = []
    chunks = seed_lines(profile, lines.append)
    totals: dict[str, list[int]] = {}
    for table, rows in chunks:
        totals.setdefault(table, []).append(rows)
    trip_tables = ("trips", "trip_tags", "trip_locations", "trip_photos")
    assert all(len(totals[t]) == 3 for t in trip_tables)

    def line(table: str, chunks: int) -> str:
        rows = sum(totals[table][:chunks])
        return old_line(table, rows, 0.01 * chunks)

    firsts = [line(t, 1) for t in trip_tables]
    finals = [line(t, 3) for t in trip_tables]  # each right after its last chunk
    before = [line(t, 1) for t in ("users", "user_profiles", "follows", "tags")]
    after = [line(t, 1) for t in ("likes", "user_stats", "user_achievements")]
    assert lines == [*before, *firsts, *finals, *after]


def test_seeding_on_a_terminal_shows_bars_and_leaves_each_tables_line() -> None:
    out = io.StringIO()
    with Console(out, is_terminal=True) as sink:
        chunks = seed_lines(PROFILES["tiny"], sink)
    text = out.getvalue()
    shown = plain(text)
    assert re.search(r"users +━+ 0/200 rows", shown)  # the profile's count, before the chunk
    assert re.search(r"trips +━+ 0/600 rows", shown)
    finals = [old_line(table, rows, 0.01) for table, rows in chunks]
    positions = [text.index(final) for final in finals]
    assert positions == sorted(positions)  # in the order the tables were loaded
    assert "━" not in text[positions[-1] :]  # no bar left behind
