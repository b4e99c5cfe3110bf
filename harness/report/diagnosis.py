"""What a load run says about its own numbers, as plain text every output shares.

Why it is INVALID, why it failed (its ranked causes), the window it measured and how steady
that was, the test bed it ran on, and the backend's profile: each taken as the pipeline
recorded it (harness.record), never re-judged here.
"""

from __future__ import annotations

from typing import Any

from harness.record import Cause, HostLoad, InvalidReason, Profile, RunRecord, TrendCheck, Window
from harness.report.figures import MISSING, duration, finite, ms, number, percent, text
from harness.report.tables import Row, Table

NO_CAUSE = "No cause found in what this run measured"
METRICS = {"rps": "requests/s", "p95_ms": "p95 ms", "users": "users"}


def ranked_causes(record: RunRecord) -> list[Cause]:
    """The causes, heaviest first (ties keep the order the diagnosis gave them)."""
    return sorted(record.causes or [], key=lambda c: -c.weight)


def causes_of(record: RunRecord, endpoint: str) -> list[Cause]:
    """The ranked causes that name `endpoint` ("METHOD /path") among those they explain."""
    return [c for c in ranked_causes(record) if endpoint in c.endpoints]


def cause_lines(cause: Cause) -> list[str]:
    """A cause as lines: its summary, what it explains, its evidence, what to do."""
    lines = [cause.summary]
    if cause.endpoints:
        lines.append("explains: " + ", ".join(cause.endpoints))
    lines += [f"- {e}" for e in cause.evidence]
    if cause.hint:
        lines.append(f"what to do: {cause.hint}")
    return lines


def invalid_lines(reason: InvalidReason) -> list[str]:
    """An INVALID reason's evidence and hint, as lines (its message is said apart)."""
    return [*(f"- {e}" for e in reason.evidence), f"what to do: {reason.hint}"]


def _seconds(value: float) -> str:
    """ "34 s" up to two minutes (the window's figures read best so), then "12 min 05 s"."""
    return f"{round(value)} s" if value < 120 else duration(value)


def window_line(window: Window) -> str:
    """ "Measured window: 60 s after a 34 s warm-up (100 users running, all started)"."""
    line = f"Measured window: {_seconds(window.end - window.start)}"
    if window.warmup_s > 0:
        line += f" after a {_seconds(window.warmup_s)} warm-up"
    else:
        line += " from the load's start"
    if window.users is not None:
        started = {True: ", all started", False: ", not all started", None: ""}
        line += f" ({number(window.users)} users running{started[window.starts_done]})"
    if window.ramp_measured:
        line += "; the ramp measured on purpose"
    elif window.steady is True:
        line += "; steady"
    elif window.steady is False:
        line += "; not steady"
    return line


def _figure(metric: str, value: float | None) -> str:
    if metric == "p95_ms":
        return ms(value)
    return number(value, 1 if metric == "rps" else 0)


def _check_row(check: TrendCheck) -> Row:
    change = finite(check.change)
    tau = finite(check.tau)
    return Row(
        (
            METRICS.get(check.metric, check.metric),
            _figure(check.metric, check.first),
            _figure(check.metric, check.last),
            MISSING if change is None else f"{change * 100:+.1f} %",
            MISSING if tau is None else f"{tau:+.2f}",
            "yes" if check.steady else "no",
        ),
        "ok" if check.steady else "warn",
    )


def checks_table(window: Window) -> Table | None:
    """The steadiness checks: each figure's first third against its last third of the window."""
    if not window.checks:
        return None
    return Table(
        columns=("metric", "first third", "last third", "change", "trend (tau)", "steady"),
        rows=tuple(_check_row(c) for c in window.checks),
        numeric=frozenset({1, 2, 3, 4}),
    )


def host_table(host: HostLoad) -> Table:
    """The host's CPU over the window (medians), as shares of the machine and as cores."""
    parts = [
        ("busy", host.busy),
        ("outside the stack, generator and harness", host.outside),
        ("stolen by the hypervisor", host.steal),
        ("the harness itself (monitors, profiler)", host.harness),
    ]
    return Table(
        columns=("host CPU (median over the window)", "share of the machine", "cores"),
        rows=tuple(
            Row((what, percent(share), number(None if share is None else share * host.cores, 2)))
            for what, share in parts
        ),
        numeric=frozenset({1, 2}),
    )


def host_line(host: HostLoad) -> str:
    return f"{number(host.cores)} cores, {number(host.samples)} samples over the window"


def outside_table(host: HostLoad) -> Table | None:
    """The busiest processes outside the test, as the pipeline recorded them."""
    if not host.top_outside:
        return None
    return Table(
        columns=("pid", "process", "cores (mean)"),
        rows=tuple(Row((str(p.pid), p.name, number(p.cores, 2))) for p in host.top_outside),
        numeric=frozenset({0, 2}),
    )


def coverage_table(coverage: dict[str, float]) -> Table | None:
    """Monitor samples per container against the 1 Hz samples the window should have had."""
    if not coverage:
        return None
    return Table(
        columns=("container", "samples (share of 1 Hz)"),
        rows=tuple(Row((name, percent(share))) for name, share in sorted(coverage.items())),
        numeric=frozenset({1}),
    )


def profile_line(profile: Profile, summary: dict[str, Any] | None) -> str:
    """What the profile was: "Profile skipped: ..." or its samples, rate, length and processes."""
    if profile.status != "recorded":
        return f"Profile {profile.status}: {profile.reason or 'no reason given'}"
    parts = [f"{number(profile.samples)} samples"]
    if profile.rate_hz is not None:
        parts.append(f"at {number(profile.rate_hz)} Hz")
    seconds = finite((summary or {}).get("duration_s"))
    if seconds is not None:
        parts.append(f"over {duration(seconds)}")
    parts.append(f"from {number(profile.processes)} backend process")
    if profile.processes != 1:
        parts[-1] += "es"
    return "Profile recorded: " + " ".join(parts)


def top_functions_table(profile: Profile) -> Table | None:
    """The functions the backend spent its samples in, by their own time."""
    if not profile.top:
        return None
    ordered = sorted(profile.top, key=lambda f: -f.own_share)
    return Table(
        columns=("own %", "total %", "function", "file", "own samples"),
        rows=tuple(
            Row(
                (
                    percent(f.own_share),
                    percent(f.total_share),
                    f.function,
                    text(f.file),
                    number(f.own_samples),
                )
            )
            for f in ordered
        ),
        numeric=frozenset({0, 1, 4}),
    )
