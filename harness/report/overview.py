"""The run at a glance: its verdict and why, the warnings worth reading first, its metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from harness.report.figures import duration, number, text
from harness.report.inputs import RunFolder
from harness.report.tables import bench_rows, dicts, items, mapping, slo_rows


def verdict(results: dict[str, Any]) -> str:
    value = results.get("verdict")
    return value if value in ("PASS", "FAIL") else "UNKNOWN"


def is_bench_only(results: dict[str, Any]) -> bool:
    run = results.get("run")
    return isinstance(run, dict) and run.get("kind") == "bench"


def reasons(results: dict[str, Any]) -> list[str]:
    """One line per part of the verdict: incidents, SLO rows, benchmarks, the baseline gate."""
    lines = [f"service incident: {incident_line(i)}" for i in dicts(results.get("incidents"))]
    rows = slo_rows(results)
    failed = [r for r in rows if not r.get("passed")]
    if rows:
        lines.append(
            f"{len(failed)} of {len(rows)} SLO rows failed"
            if failed
            else f"all {len(rows)} SLO rows passed"
        )
    elif not is_bench_only(results):
        lines.append("no SLO rows: the load recorded no requests")
    benches = bench_rows(results)
    if benches:
        bad = [text(b.get("name")) for b in benches if b.get("outcome") in ("failed", "error")]
        lines.append(
            f"{len(bad)} of {len(benches)} benchmarks failed: {', '.join(bad)}"
            if bad
            else f"no benchmark failed ({len(benches)} run)"
        )
    comparison = results.get("comparison")
    if isinstance(comparison, dict) and comparison.get("rows"):
        regressed = [
            text(r.get("name"))
            for r in dicts(comparison["rows"])
            if r.get("verdict") == "regression"
        ]
        baseline = text(comparison.get("baseline"))
        lines.append(
            f"regression against baseline {baseline!r}: {', '.join(regressed)}"
            if regressed
            else f"no regression against baseline {baseline!r}"
        )
    return lines


def incident_line(incident: dict[str, Any]) -> str:
    """A stack service that went down during the load, as results.json recorded it."""
    service = text(incident.get("service"))
    code = incident.get("exit_code")
    what = (
        "was killed for lack of memory"
        if incident.get("event") == "oom"
        else "exited" + (f" with code {code}" if isinstance(code, int) else "")
    )
    at = number(incident.get("at_s"), 0)
    back = incident.get("back_after_s")
    after = (
        f"restarted {number(back, 0)} s later"
        if isinstance(back, int | float)
        else "did not come back"
    )
    return f"{service} {what} {at} s into the load and {after}"


def warnings(run: RunFolder) -> list[str]:
    """The run's own warnings, plus what the saved data says and the warnings do not."""
    results = run.results
    found = [text(w) for w in items(results.get("warnings")) if w]
    said = " ".join(found).lower()
    if results.get("load_generator_saturated") and "saturated" not in said:
        found.append("load generator saturated: results are not trustworthy")
    meta = mapping(results.get("run"))
    if meta.get("partial") and "partial" not in said:
        found.append("partial run: it was interrupted; results cover only part of it")
    unstable = [text(b.get("name")) for b in bench_rows(results) if b.get("unstable")]
    if unstable:
        found.append(
            "unstable benchmarks (rounds too noisy to trust the median): " + ", ".join(unstable)
        )
    found += [f"{name}: {what}" for name, what in sorted(run.unreadable.items())]
    return list(dict.fromkeys(found))


def _shape(shape: Any) -> str:
    if not isinstance(shape, dict):
        return text(shape)
    parts = [text(shape.get("name")) or "?"]
    if shape.get("users") is not None:
        parts.append(f"{number(shape.get('users'))} users")
    if shape.get("duration_s") is not None:
        parts.append(f"{duration(shape.get('duration_s'))} measured")
    if shape.get("warmup_s"):
        parts.append(f"after {duration(shape.get('warmup_s'))} warm-up")
    if shape.get("spawn_rate") is not None:
        parts.append(f"spawn {number(shape.get('spawn_rate'), 1)}/s")
    if shape.get("kind"):
        parts.append(text(shape.get("kind")))
    return ", ".join(parts)


def _seed(seed: Any) -> str:
    if not isinstance(seed, dict):
        return text(seed) or "not seeded (or not recorded)"
    parts = [f"profile {text(seed.get('profile')) or '?'}"]
    if seed.get("seed") is not None:
        parts.append(f"seed {text(seed.get('seed'))}")
    if seed.get("total_rows") is not None:
        parts.append(f"{number(seed.get('total_rows'))} rows")
    if seed.get("checksum"):
        parts.append(f"checksum {text(seed.get('checksum'))[:16]}")
    return ", ".join(parts)


def _wall_time(started: Any, finished: Any) -> str:
    try:
        begin = datetime.fromisoformat(str(started))
        end = datetime.fromisoformat(str(finished))
    except ValueError:
        return "-"
    try:
        return duration((end - begin).total_seconds())
    except TypeError:  # one has a time zone, the other not
        return "-"


def metadata(results: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs, in reading order; absent fields are left out."""
    run = mapping(results.get("run"))
    pairs: list[tuple[str, str]] = [
        ("run", text(run.get("id"))),
        ("kind", "benchmark suite only" if is_bench_only(results) else "load"),
        ("commit", text(run.get("commit"))),
        ("shape", _shape(run.get("shape")) if run.get("shape") else ""),
        ("scenario", text(run.get("scenario"))),
        ("user classes", ", ".join(text(c) for c in items(run.get("user_classes")))),
        ("workers", text(run.get("workers"))),
        ("HTTP client", text(run.get("http_client"))),
        ("provider", text(run.get("provider"))),
        ("stack", text(run.get("stack_id"))),
        ("target", text(run.get("target"))),
        ("host", text(run.get("host"))),
        ("python", text(run.get("python"))),
        ("started", text(run.get("started_at"))),
        ("finished", text(run.get("finished_at"))),
        ("wall time", _wall_time(run.get("started_at"), run.get("finished_at"))),
        ("seed", "" if is_bench_only(results) else _seed(run.get("seed"))),
        ("SLO file", text(run.get("slo_file"))),
        ("partial", "yes: interrupted" if run.get("partial") else ""),
    ]
    bench = results.get("benchmarks")
    if isinstance(bench, dict):
        pairs.append(
            (
                "benchmarks",
                f"{number(bench.get('rounds'))} rounds (+{number(bench.get('warmup_rounds'))} "
                f"warm-up), bcrypt rounds {number(bench.get('bcrypt_rounds'))}, "
                f"{duration(bench.get('seconds'))}",
            )
        )
    comparison = results.get("comparison")
    if isinstance(comparison, dict):
        pairs.append(("baseline", text(comparison.get("baseline"))))
    return [(k, v) for k, v in pairs if v and v != "-"]
