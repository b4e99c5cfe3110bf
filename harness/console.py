"""What the harness shows while it runs: lines, tables, progress bars and the live load view."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Protocol, TextIO

import rich.console
import rich.progress
import rich.table
from rich.console import Group
from rich.live import Live
from rich.text import Text

# Off a terminal (CI logs, files) the load's progress is one plain line this often.
PLAIN_EVERY_S = 5.0

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Column:
    header: str
    align: Literal["left", "right"] = "left"
    width: int = 0  # the least width in plain text, so a file keeps its layout from run to run
    gap: int = 1  # spaces before the column in plain text


@dataclass(frozen=True)
class Table:
    """Rows of text under aligned columns, with lines after them (warnings, a verdict).

    Plain text for files and logs (`plain_lines`), a rich table on a terminal.
    """

    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...] = ()
    title: str | None = None
    footer: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"{row} has {len(row)} cells for {len(self.columns)} columns")

    def plain_lines(self) -> list[str]:
        widths = [
            max(column.width, len(column.header), *(len(row[i]) for row in self.rows))
            for i, column in enumerate(self.columns)
        ]

        def line(cells: Sequence[str]) -> str:
            parts = []
            for i, (cell, column) in enumerate(zip(cells, self.columns, strict=True)):
                width = widths[i]
                aligned = cell.ljust(width) if column.align == "left" else cell.rjust(width)
                parts.append((" " * column.gap if i else "") + aligned)
            return "".join(parts).rstrip()

        headers = [column.header for column in self.columns]
        title = [self.title] if self.title else []
        return [*title, line(headers), *(line(row) for row in self.rows), *self.footer]

    def __rich__(self) -> Group:
        title = Text(self.title) if self.title else None
        view = rich.table.Table(title=title, title_justify="left")
        for column in self.columns:
            view.add_column(Text(column.header), justify=column.align)
        for row in self.rows:
            view.add_row(*(Text(cell) for cell in row))  # text, never rich markup
        return Group(view, *(Text(line) for line in self.footer))


@dataclass(frozen=True)
class EndpointLoad:
    """One endpoint's figures so far."""

    name: str  # method and path, e.g. "GET /trips/public"
    requests: int
    failures: int
    rps: float
    p95_ms: float | None  # None: no samples yet


@dataclass(frozen=True)
class LoadSnapshot:
    """The load as it runs: where it is, the figures so far in all and per endpoint."""

    phase: str  # warm-up | measuring
    elapsed_s: float
    total_s: int
    users: int | None  # None: not known yet
    rps: float
    p95_ms: float | None
    requests: int
    failures: int
    endpoints: tuple[EndpointLoad, ...] = ()
    final: bool = False  # the load is over: the live view stops at this one

    def plain_line(self) -> str:
        users = "?" if self.users is None else str(self.users)
        return (
            f"[{self.elapsed_s:5.0f}s/{self.total_s}s] {self.phase:<9} users {users:>4}  "
            f"rps {self.rps:7.1f}  p95 {_ms(self.p95_ms):>5} ms  "
            f"failures {_rate(self.failures, self.requests):.2%}"
        )

    def table(self) -> Table:
        return Table(
            title=self.plain_line(),
            columns=(
                Column("endpoint"),
                Column("requests", "right"),
                Column("fail %", "right"),
                Column("rps", "right"),
                Column("p95 ms", "right"),
            ),
            rows=tuple(
                (
                    e.name,
                    str(e.requests),
                    f"{_rate(e.failures, e.requests):.2%}",
                    f"{e.rps:.1f}",
                    _ms(e.p95_ms),
                )
                for e in self.endpoints
            ),
        )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _rate(failures: int, requests: int) -> float:
    return failures / requests if requests else 0.0


class Console:
    """The progress sink: a callable taking a line, plus tables and the live load view.

    On a terminal, rich renders tables and keeps one load table updated in place; anywhere
    else the same information goes out as plain lines, the load's at a steady pace.
    """

    def __init__(
        self,
        stream: TextIO,
        is_terminal: bool,
        *,
        every_s: float = PLAIN_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._rich = (
            rich.console.Console(file=stream, force_terminal=True, highlight=False, soft_wrap=True)
            if is_terminal
            else None
        )
        self._live: Live | None = None
        self._bars: rich.progress.Progress | None = None  # while any task runs, on a terminal
        self._every_s = every_s
        self._clock = clock
        self._last_plain: float | None = None
        self._lock = threading.Lock()  # monitors report from their own threads

    def __call__(self, line: str) -> None:
        if self._rich is not None:
            self._rich.print(line, markup=False, emoji=False)  # above a live view, if one runs
        else:
            self._write(line)

    def table(self, table: Table) -> None:
        if self._rich is not None:
            self._rich.print(table)
        else:
            for line in table.plain_lines():
                self._write(line)

    def load_tick(self, snapshot: LoadSnapshot) -> None:
        if self._rich is None:
            self._plain_tick(snapshot)
            return
        if self._live is None:
            self._live = Live(
                console=self._rich,
                auto_refresh=False,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()
        self._live.update(snapshot.table(), refresh=True)
        if snapshot.final:
            self.close()

    def task(
        self,
        description: str,
        total: int | None = None,
        *,
        unit: str = "",
        paced: bool = True,
        emit: Progress | None = None,
    ) -> Task:
        """A bar on a terminal; elsewhere the task's plain lines, through `emit` (default: here)."""
        if self._rich is None:
            return _PlainTask(emit or self, paced=paced, every_s=self._every_s, clock=self._clock)
        with self._lock:
            if self._bars is None:
                self._bars = _progress_bars(self._rich)
                self._bars.start()
            bars = self._bars
            task_id = bars.add_task(description, total=total, unit=unit, status="")
        bars.refresh()
        return _BarTask(self, bars, task_id)

    def _task_ended(self, bars: rich.progress.Progress, final_line: str | None) -> None:
        bars.refresh()  # without the finished task's bar, before a line goes above the rest
        if final_line is not None:
            self(final_line)  # above the bars still running
        with self._lock:
            if bars is self._bars and not bars.tasks:
                bars.stop()  # transient: the bars go, the terminal is as before
                self._bars = None

    def close(self) -> None:
        """Stop the live view (its last state stays on the screen) and any bars left running."""
        if self._live is not None:
            self._live.stop()
            self._live = None
        with self._lock:
            if self._bars is not None:
                self._bars.stop()
                self._bars = None

    def __enter__(self) -> Console:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _plain_tick(self, snapshot: LoadSnapshot) -> None:
        if snapshot.final:  # the load's figures follow in its results
            self._last_plain = None
            return
        now = self._clock()
        if self._last_plain is not None and now - self._last_plain < self._every_s:
            return
        self._last_plain = now
        self._write(snapshot.plain_line())

    def _write(self, line: str) -> None:
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()


def show_table(progress: Progress, table: Table) -> None:
    """Through the sink's table view when it has one, else as plain lines."""
    view = getattr(progress, "table", None)
    if callable(view):
        view(table)
    else:
        for line in table.plain_lines():
            progress(line)


def has_load_view(progress: Progress) -> bool:
    """The sink takes load snapshots itself (and keeps its own pace off a terminal)."""
    return callable(getattr(progress, "load_tick", None))


def show_load(progress: Progress, snapshot: LoadSnapshot) -> None:
    """To the sink's live view when it has one, else the plain line (none for the last one)."""
    tick = getattr(progress, "load_tick", None)
    if callable(tick):
        tick(snapshot)
    elif not snapshot.final:
        progress(snapshot.plain_line())


class Task(Protocol):
    """One piece of work with a count: a bar on a terminal, its plain lines anywhere else.

    `line` is what the work printed as plain text at that moment; off a terminal it goes out at
    the task's pace (a paced task: the first line, then at most one every 5 s; the final line
    always, unless it just went out). On a terminal the bar shows the figures instead.
    """

    def advance(self, n: int = 1, *, line: str | None = None) -> None: ...

    def update(
        self,
        *,
        description: str | None = None,
        completed: int | None = None,
        total: int | None = None,
        status: str | None = None,  # what it is doing now: shown beside the bar
        line: str | None = None,
    ) -> None: ...

    def done(self, final_line: str | None = None) -> None: ...


def progress_task(
    progress: Progress,
    description: str,
    total: int | None = None,
    *,
    unit: str = "",
    paced: bool = True,
    emit: Progress | None = None,
) -> Task:
    """A task on any sink: the sink's own (a bar on a terminal) when it has them, else plain lines.

    `unit` names what is counted (rows: the bar also shows a rate); `paced=False` sends every
    line out off a terminal (a build's steps: each one is news); `emit` is where plain lines go
    when it is not the sink itself (a wrapper adding a prefix).
    """
    maker = getattr(progress, "task", None)
    if callable(maker):
        task: Task = maker(description, total, unit=unit, paced=paced, emit=emit)
        return task
    return _PlainTask(emit or progress, paced=paced, every_s=PLAIN_EVERY_S, clock=time.monotonic)


@contextmanager
def folded_details(progress: Progress, description: str) -> Iterator[Progress]:
    """A sink for one long step without a count (a debootstrap): its detail lines (indented by
    two spaces) become a spinner's status on a terminal, other lines go out as lines; off a
    terminal every line goes out as it comes."""
    task: list[Task] = []  # made at the first detail: a quick step shows no spinner

    def sink(line: str) -> None:
        if not line.startswith("  "):
            progress(line)
            return
        if not task:
            task.append(progress_task(progress, description, paced=False))
        task[0].update(status=line.strip(), line=line)

    try:
        yield sink
    finally:
        for started in task:
            started.done()


class Prefixed:
    """A sink putting a prefix (e.g. the seconds elapsed) before each plain line, whose tasks are
    the inner sink's: bars on a terminal, prefixed plain lines elsewhere."""

    def __init__(self, inner: Progress, prefix: Callable[[], str]) -> None:
        self._inner = inner
        self._prefix = prefix

    def __call__(self, line: str) -> None:
        self._inner(self._prefix() + line)

    def task(
        self,
        description: str,
        total: int | None = None,
        *,
        unit: str = "",
        paced: bool = True,
        emit: Progress | None = None,
    ) -> Task:
        return progress_task(
            self._inner, description, total, unit=unit, paced=paced, emit=emit or self
        )


class _PlainTask:
    """A task as plain lines: the first at once, then at most one per `every_s` if paced."""

    def __init__(
        self, emit: Progress, *, paced: bool, every_s: float, clock: Callable[[], float]
    ) -> None:
        self._emit = emit
        self._paced = paced
        self._every_s = every_s
        self._clock = clock
        self._last_at: float | None = None
        self._last_line: str | None = None
        self._ended = False

    def advance(self, n: int = 1, *, line: str | None = None) -> None:
        self._offer(line)

    def update(
        self,
        *,
        description: str | None = None,
        completed: int | None = None,
        total: int | None = None,
        status: str | None = None,
        line: str | None = None,
    ) -> None:
        self._offer(line)

    def done(self, final_line: str | None = None) -> None:
        if self._ended:
            return
        self._ended = True
        if final_line is not None and final_line != self._last_line:
            self._emit(final_line)

    def _offer(self, line: str | None) -> None:
        if line is None or self._ended:
            return
        now = self._clock()
        if self._paced and self._last_at is not None and now - self._last_at < self._every_s:
            return
        self._last_at, self._last_line = now, line
        self._emit(line)


class _BarTask:
    """A task as one row of the console's bars; gone when done, its final line left above."""

    def __init__(
        self, console: Console, bars: rich.progress.Progress, task_id: rich.progress.TaskID
    ) -> None:
        self._console = console
        self._bars = bars
        self._id = task_id
        self._ended = False

    def advance(self, n: int = 1, *, line: str | None = None) -> None:
        if not self._ended:
            self._bars.update(self._id, advance=n, refresh=True)

    def update(
        self,
        *,
        description: str | None = None,
        completed: int | None = None,
        total: int | None = None,
        status: str | None = None,
        line: str | None = None,
    ) -> None:
        if self._ended:
            return
        if status is not None:
            self._bars.update(self._id, status=status)
        self._bars.update(
            self._id, description=description, completed=completed, total=total, refresh=True
        )

    def done(self, final_line: str | None = None) -> None:
        if self._ended:
            return
        self._ended = True
        self._bars.remove_task(self._id)
        self._console._task_ended(self._bars, final_line)


class _Count(rich.progress.ProgressColumn):
    """12,000/50,000 rows; 3/13 for steps; 12,000 rows while the total is not known."""

    def render(self, task: rich.progress.Task) -> Text:
        unit = f" {task.fields['unit']}" if task.fields.get("unit") else ""
        if not unit and not task.total:
            return Text("")  # nothing counted: a spinner and its status
        done = f"{int(task.completed):,}"
        return Text(f"{done}/{int(task.total):,}{unit}" if task.total else f"{done}{unit}")


class _Rate(rich.progress.ProgressColumn):
    """Units per second so far, for tasks that count a unit (rows), none for steps."""

    def render(self, task: rich.progress.Task) -> Text:
        elapsed = task.elapsed or 0.0
        if not task.fields.get("unit") or not task.completed or elapsed <= 0:
            return Text("")
        return Text(f"{task.completed / elapsed:,.0f} {task.fields['unit']}/s")


def _progress_bars(console: rich.console.Console) -> rich.progress.Progress:
    return rich.progress.Progress(
        rich.progress.SpinnerColumn(),
        rich.progress.TextColumn("{task.description}", markup=False),
        rich.progress.BarColumn(bar_width=30),
        _Count(),
        _Rate(),
        rich.progress.TimeElapsedColumn(),
        rich.progress.TextColumn(
            "{task.fields[status]}",
            markup=False,
            table_column=rich.table.Column(no_wrap=True, overflow="ellipsis", ratio=1),
        ),
        console=console,
        transient=True,  # a finished task leaves its final line, not its bar
        expand=True,
        redirect_stdout=False,
        redirect_stderr=False,
    )
