"""What the harness shows while it runs: lines, tables and the live load view, terminal or log."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, TextIO

import rich.console
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

    def close(self) -> None:
        """Stop the live view (its last state stays on the screen)."""
        if self._live is not None:
            self._live.stop()
            self._live = None

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
