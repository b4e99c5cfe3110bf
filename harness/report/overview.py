"""The run at a glance: its verdict and why, the warnings worth reading first, its metadata.

The wording of a run's users (planned vs reached), its first start error and its failure
groups lives here alone: the pipeline's warnings and console lines use these functions too.
"""

from __future__ import annotations

from collections.abc import Mapping

from harness.record import (
    FailureGroup,
    Incident,
    RunRecord,
    SeedInfo,
    Shape,
    StartError,
    UserCounts,
)
from harness.report.figures import duration, number, text
from harness.report.inputs import RunFolder
from harness.report.tables import bench_rows, slo_rows


def reasons(record: RunRecord) -> list[str]:
    """One line per part of the verdict: validity, incidents, SLO rows, benchmarks, the gate."""
    lines = []
    if record.invalid:
        count = len(record.invalid)
        lines.append(
            f"not judged: {count} reason{'s' if count != 1 else ''} the numbers describe the "
            "test bed rather than the backend"
        )
    lines += [f"service incident: {incident_line(i)}" for i in record.incidents or []]
    if record.users is not None:
        lines.append(users_line(record.users))
    rows = slo_rows(record)
    failed = [r for r in rows if not r.passed]
    if rows:
        lines.append(
            f"{len(failed)} of {len(rows)} SLO rows failed"
            if failed
            else f"all {len(rows)} SLO rows passed"
        )
    elif record.run.kind == "load":
        lines.append("no SLO rows: the load recorded no requests")
    benches = bench_rows(record)
    if benches:
        bad = [b.name for b in benches if b.outcome in ("failed", "error")]
        lines.append(
            f"{len(bad)} of {len(benches)} benchmarks failed: {', '.join(bad)}"
            if bad
            else f"no benchmark failed ({len(benches)} run)"
        )
    comparison = record.comparison
    if comparison is not None and comparison.rows:
        regressed = [r.name for r in comparison.rows if r.verdict == "regression"]
        lines.append(
            f"regression against baseline {comparison.baseline!r}: {', '.join(regressed)}"
            if regressed
            else f"no regression against baseline {comparison.baseline!r}"
        )
    return lines


def users_line(users: UserCounts | Mapping[str, object]) -> str:
    """The users a load ran against those it planned; with the first start error if any.

    Also takes the counts as a plain dict (results.json's "users" before it is written).
    """
    users = UserCounts.model_validate(users)
    shown = "?" if users.ran is None else number(users.ran)
    if users.planned is None:
        line = f"users: {shown} reached (set by hand, none planned)"
    elif users.short:
        line = f"users: reached {shown} of {number(users.planned)} planned"
    else:
        line = f"users: {number(users.planned)} planned, {shown} reached"
    if users.start_failures:
        line += f"; {number(users.start_failures)} could not start"
        if not users.short:
            line += " (Locust started others in their place)"
    error = users.first_start_error
    return line + (f"; first error: {start_error_line(error)}" if error is not None else "")


def start_error_line(error: StartError) -> str:
    """ "POST /auth/register -> 400 VALIDATION_ERROR: ..." ("-> no response: ..." without one)."""
    answer = " ".join(p for p in (text(error.status), error.message) if p) or "failed"
    return f"{error.endpoint} -> {answer}"


def failure_line(group: FailureGroup | Mapping[str, object]) -> str:
    """ "12 x GET /trips/[trip_id] -> 403 PRIVATE_PROFILE: ..." """
    group = FailureGroup.model_validate(group)
    answer = " ".join(p for p in (text(group.status), group.message) if p) or "failed"
    return f"{number(group.count)} x {group.endpoint} -> {answer}"


def incident_line(incident: Incident | Mapping[str, object]) -> str:
    """A stack service that went down during the load, as results.json records it.

    Also takes the incident as a plain dict (ServiceWatch.records()), for the load's own
    progress lines before the record is written.
    """
    incident = Incident.model_validate(incident)
    code = incident.exit_code
    what = (
        "was killed for lack of memory"
        if incident.event == "oom"
        else "exited" + (f" with code {code}" if code is not None else "")
    )
    back = incident.back_after_s
    after = f"restarted {number(back, 0)} s later" if back is not None else "did not come back"
    return f"{incident.service} {what} {number(incident.at_s, 0)} s into the load and {after}"


def warnings(run: RunFolder) -> list[str]:
    """The run's own warnings, plus what the saved data says and the warnings do not."""
    record = run.results
    said_first = set(reasons(record))  # a warning the verdict already gives is not repeated
    found = [w for w in record.warnings if w and w not in said_first]
    said = " ".join(found).lower()
    if record.load_generator_saturated and "saturated" not in said:
        found.append("load generator saturated: results are not trustworthy")
    if record.run.partial and "partial" not in said:
        found.append("partial run: it was interrupted; results cover only part of it")
    unstable = [b.name for b in bench_rows(record) if b.unstable]
    if unstable:
        found.append(
            "unstable benchmarks (rounds too noisy to trust the median): " + ", ".join(unstable)
        )
    found += [f"{name}: {what}" for name, what in sorted(run.unreadable.items())]
    return list(dict.fromkeys(found))


def _shape(shape: Shape) -> str:
    parts = [shape.name, f"{number(shape.users)} users", f"{duration(shape.duration_s)} measured"]
    if shape.warmup_s:
        parts.append(f"after {duration(shape.warmup_s)} warm-up")
    parts += [f"spawn {number(shape.spawn_rate, 1)}/s", shape.kind]
    return ", ".join(parts)


def _seed(seed: SeedInfo | None) -> str:
    if seed is None:
        return "not seeded (or not recorded)"
    parts = [f"profile {seed.profile or '?'}"]
    if seed.seed is not None:
        parts.append(f"seed {seed.seed}")
    if seed.total_rows is not None:
        parts.append(f"{number(seed.total_rows)} rows")
    if seed.checksum:
        parts.append(f"checksum {seed.checksum[:16]}")
    return ", ".join(parts)


def metadata(record: RunRecord) -> list[tuple[str, str]]:
    """(label, value) pairs, in reading order; absent fields are left out."""
    run = record.run
    bench_only = run.kind == "bench"
    pairs: list[tuple[str, str]] = [
        ("run", run.id),
        ("kind", "benchmark suite only" if bench_only else "load"),
        ("commit", text(run.commit)),
        ("shape", _shape(run.shape) if run.shape is not None else ""),
        ("scenario", text(run.scenario)),
        ("user classes", ", ".join(run.user_classes)),
        ("workers", text(run.workers)),
        ("HTTP client", text(run.http_client)),
        ("provider", run.provider),
        ("stack", run.stack_id),
        ("target", run.target),
        ("host", run.host),
        ("python", run.python),
        ("started", run.started_at.isoformat()),
        ("finished", run.finished_at.isoformat()),
        ("wall time", duration((run.finished_at - run.started_at).total_seconds())),
        ("seed", "" if bench_only else _seed(run.seed)),
        ("SLO file", text(run.slo_file)),
        ("partial", "yes: interrupted" if run.partial else ""),
    ]
    bench = record.benchmarks
    if bench is not None:
        pairs.append(
            (
                "benchmarks",
                f"{number(bench.rounds)} rounds (+{number(bench.warmup_rounds)} warm-up), "
                f"bcrypt rounds {number(bench.bcrypt_rounds)}, {duration(bench.seconds)}",
            )
        )
    if record.comparison is not None:
        pairs.append(("baseline", record.comparison.baseline))
    return [(k, v) for k, v in pairs if v and v != "-"]
