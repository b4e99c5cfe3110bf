"""Why a load run failed: ranked causes for its failing endpoints, from what the run measured.

Each rule looks at one kind of measurement and, when it explains the failure, says so with
the figures it read. A rule that finds nothing says nothing; when no rule finds anything the
answer is [] ("no cause found"), never a guess. Weights rank the causes: roughly the share of
the latency (or of the backend's CPU) the cause accounts for.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.record import Cause, EndpointStats, ProfileFunction, SloRow

CPU_BOUND = 0.85  # of the cores the backend can use: its processes are the bottleneck
SLOW_ALONE_MS = 50.0  # an endpoint whose fastest request took this long is slow by itself
HOLDING_SHARE = 0.05  # of the window x server processes: a slow endpoint others may wait behind
LOGIN_ENDPOINTS = ("POST /auth/login", "POST /auth/register")


@dataclass(frozen=True)
class Measured:
    """A load run's measurements over its window, as plain values."""

    failing: list[SloRow]
    endpoints: list[EndpointStats]
    aggregate: EndpointStats | None
    window_s: float
    users: int | None = None
    backend_cpu: list[float] = field(default_factory=list)  # cores, one per monitor sample
    backend_cores: float | None = None  # the cores it may use (its quota, or the machine's)
    backend_workers: int | None = None  # its server processes (uvicorn --workers), if known
    host_busy: float | None = None  # median share of the machine busy
    postgres: list[dict[str, Any]] = field(default_factory=list)  # postgres.jsonl rows
    top_queries: list[dict[str, Any]] = field(default_factory=list)
    hash_ms: float | None = None  # CPU of one password hash at the backend's cost, timed here
    hash_rounds: int | None = None
    profile: list[ProfileFunction] = field(default_factory=list)
    generator_saturated: bool = False


def diagnose(m: Measured) -> list[Cause]:
    """The causes found for the failing endpoints, most weighty first; [] when none was found."""
    if not m.failing:
        return []
    causes = [
        *_slow_endpoints(m),
        _backend_cpu(m),
        _hashing(m),
        _database_time(m),
        _lock_waits(m),
        _idle_in_transaction(m),
        _connection_limit(m),
        _queueing(m),
        _generator(m),
    ]
    found = [c for c in causes if c is not None]
    return sorted(found, key=lambda c: -c.weight)


def _names(m: Measured) -> list[str]:
    return [row.endpoint for row in m.failing]


def _key(e: EndpointStats) -> str:
    return f"{e.method} {e.name}"


def _slow_alone(m: Measured) -> dict[str, tuple[float, float]]:
    """Endpoints slow by themselves: name -> (their fastest request, the others' median fastest)."""
    mins = {_key(e): e.min_ms for e in m.endpoints if e.min_ms is not None and e.requests}
    slow = {}
    for name, own in mins.items():
        others = [v for k, v in mins.items() if k != name]
        if not others:
            continue
        typical = statistics.median(others)
        if own >= SLOW_ALONE_MS and own >= 10 * max(typical, 1.0):
            slow[name] = (own, typical)
    return slow


def _slow_endpoints(m: Measured) -> list[Cause]:
    """Endpoints slow by themselves: even their fastest request took long, unlike the others'.

    A failing endpoint that is slow by itself is its own cause. One that passed its target
    is still named when the failing endpoints are not slow by themselves (they were fast at
    their best, so they waited) and its calls took a noticeable share of the backend's time:
    a slow handler on an event loop holds every request behind it.
    """
    slow = _slow_alone(m)
    failing = _names(m)
    causes = []
    for name in failing:
        if name not in slow:
            continue
        own, typical = slow[name]
        causes.append(
            Cause(
                code="slow_endpoint",
                summary=f"{name} is slow by itself (at least {own:.0f} ms per call)",
                endpoints=[name],
                evidence=[_fastest_line(own, typical), *_top_profile(m)],
                hint="profile this endpoint alone (`harness bench`) and look at its code path",
                weight=1.0 + own / 1000,
            )
        )
    queued = [name for name in failing if name not in slow]
    for name, (own, typical) in slow.items():
        if name in failing or not queued or m.window_s <= 0:
            continue
        calls = next(e.requests for e in m.endpoints if _key(e) == name)
        held_s = calls * own / 1000
        share = held_s / (m.window_s * (m.backend_workers or 1))
        if share < HOLDING_SHARE:
            continue
        processes = f"{m.backend_workers} server process(es)" if m.backend_workers else "its server"
        causes.append(
            Cause(
                code="slow_endpoint",
                summary=(
                    f"{name} is slow by itself (at least {own:.0f} ms per call); "
                    f"the failing endpoints waited behind it"
                ),
                endpoints=[name],
                evidence=[
                    _fastest_line(own, typical),
                    f"{calls} calls x at least {own:.0f} ms = {held_s:.1f} s of the "
                    f"{m.window_s:.0f} s window ({share:.0%} of {processes})",
                    f"the failing endpoints were fast at their best ({_their_fastest(m, queued)}):"
                    " their time was spent waiting",
                    *_top_profile(m),
                ],
                hint="profile this endpoint alone (`harness bench`); move its work off the "
                "event loop, or make it cheaper",
                weight=0.5 + share,
            )
        )
    return causes


def _fastest_line(own: float, typical: float) -> str:
    return (
        f"its fastest request took {own:.0f} ms; the other endpoints' fastest took "
        f"{typical:.0f} ms (median): the time is spent in the endpoint, not in a queue"
    )


def _their_fastest(m: Measured, names: list[str]) -> str:
    mins = {_key(e): e.min_ms for e in m.endpoints if e.min_ms is not None}
    return ", ".join(f"{n} {mins[n]:.0f} ms" for n in names if n in mins)


def _top_profile(m: Measured) -> list[str]:
    return [_profile_line(f) for f in m.profile[:1] if f.own_share >= 0.10]


def _profile_line(f: ProfileFunction) -> str:
    where = f" ({f.file})" if f.file else ""
    return f"py-spy: {f.own_share:.0%} of the backend's samples in {f.function}{where}"


def _backend_cpu(m: Measured) -> Cause | None:
    if not m.backend_cpu or not m.backend_cores:
        return None
    median = statistics.median(m.backend_cpu)
    workers = m.backend_workers
    limit = min(float(workers), m.backend_cores) if workers else m.backend_cores
    if median < CPU_BOUND * limit:
        return None
    evidence = [
        f"backend CPU: median {median:.2f} cores over {len(m.backend_cpu)} samples"
        + (f", with {workers} server process(es)" if workers else "")
        + f", of {m.backend_cores:g} cores it may use"
    ]
    idle = m.host_busy is not None and m.host_busy < 0.9 and workers and workers < m.backend_cores
    if m.host_busy is not None:
        evidence.append(f"the host was {m.host_busy:.0%} busy (median)")
    evidence += [_profile_line(f) for f in m.profile[:3] if f.own_share >= 0.05]
    if idle:
        summary = (
            f"the backend's {workers} worker(s) ran at their limit ({median:.2f} cores) "
            "while the machine had idle cores: requests queued for a busy event loop"
        )
        hint = (
            "add backend workers (the backend's `workers` setting), or move the CPU work "
            "off the event loop"
        )
    else:
        summary = f"the backend was CPU-bound: {median:.2f} of {limit:g} cores"
        hint = "make the hot code path cheaper (see the profile), or give the backend more CPU"
    return Cause(
        code="backend_cpu",
        summary=summary,
        endpoints=_names(m),
        evidence=evidence,
        hint=hint,
        weight=median / limit,
    )


def _hashing(m: Measured) -> Cause | None:
    """Password hashing (logins, registrations) as a share of the backend's CPU."""
    if m.hash_ms is None or not m.backend_cpu or m.window_s <= 0:
        return None
    hashes = sum(e.requests for e in m.endpoints if _key(e) in LOGIN_ENDPOINTS)
    if not hashes:
        return None
    hash_cores = hashes * m.hash_ms / 1000 / m.window_s
    used = statistics.median(m.backend_cpu)
    share = hash_cores / used if used > 0 else 0.0
    if share < 0.25:
        return None
    rounds = f"bcrypt {m.hash_rounds} rounds, " if m.hash_rounds else ""
    return Cause(
        code="password_hashing",
        summary=f"password hashing took about {min(share, 1):.0%} of the backend's CPU",
        endpoints=_names(m),
        evidence=[
            f"{hashes} logins and registrations in {m.window_s:.0f} s x {m.hash_ms:.0f} ms of CPU "
            f"per hash ({rounds}timed on this machine) = {hash_cores:.2f} cores, of the "
            f"{used:.2f} the backend used"
        ],
        hint="hash off the event loop (a thread pool) and size the cost for the load; "
        "for a test stack, lower the backend's bcrypt rounds",
        weight=min(share, 1.0),
    )


def _database_time(m: Measured) -> Cause | None:
    """The database's execution time per request against the requests' mean latency."""
    agg = m.aggregate
    if not m.top_queries or agg is None or not agg.requests or not agg.avg_ms:
        return None
    total = sum(float(q.get("total_ms") or 0) for q in m.top_queries)
    per_request = total / agg.requests
    share = per_request / agg.avg_ms
    if share < 0.2:
        return None
    top = max(m.top_queries, key=lambda q: float(q.get("total_ms") or 0))
    calls = int(top.get("calls") or 0)
    evidence = [
        f"the top {len(m.top_queries)} statements ran {total:,.0f} ms in the database: "
        f"{per_request:.1f} ms per request against a mean latency of {agg.avg_ms:.0f} ms",
        f"costliest: {str(top.get('query'))[:160]} ({calls} calls, "
        f"{float(top.get('mean_ms') or 0):.1f} ms each, {calls / agg.requests:.1f} per request)",
    ]
    return Cause(
        code="database_time",
        summary=f"database execution was {min(share, 1):.0%} of the mean latency",
        endpoints=_names(m),
        evidence=evidence,
        hint="look at the costliest statement's plan (EXPLAIN ANALYZE) and its indexes",
        weight=min(share, 1.0),
    )


def _waits(m: Measured, kind: str) -> list[float]:
    return [float((row.get("wait_events") or {}).get(kind, 0)) for row in m.postgres]


def _lock_waits(m: Measured) -> Cause | None:
    waits = _waits(m, "Lock")
    if not waits or statistics.median(waits) < 1:
        return None
    return Cause(
        code="lock_waits",
        summary="database sessions waited on locks",
        endpoints=_names(m),
        evidence=[
            f"sessions waiting on a lock: median {statistics.median(waits):.0f}, "
            f"max {max(waits):.0f} over {len(waits)} samples"
        ],
        hint="find the contended rows or tables (pg_locks) and shorten the transactions "
        "that hold them",
        weight=0.6,
    )


def _idle_in_transaction(m: Measured) -> Cause | None:
    idle = [
        float((row.get("connections") or {}).get("idle in transaction", 0)) for row in m.postgres
    ]
    if not idle or statistics.median(idle) < 1:
        return None
    return Cause(
        code="idle_in_transaction",
        summary="connections sat idle inside open transactions",
        endpoints=_names(m),
        evidence=[
            f"'idle in transaction' connections: median {statistics.median(idle):.0f}, "
            f"max {max(idle):.0f}: each holds a pool slot (and its locks) while the backend "
            "does other work"
        ],
        hint="commit before slow non-database work; check the session scope per request",
        weight=0.4,
    )


def _connection_limit(m: Measured) -> Cause | None:
    used = [
        (sum(int(v) for v in (row.get("connections") or {}).values()), row.get("max_connections"))
        for row in m.postgres
    ]
    full = [n for n, limit in used if isinstance(limit, int) and limit and n >= 0.9 * limit]
    if not used or len(full) < len(used) / 2:
        return None
    return Cause(
        code="connection_limit",
        summary="the database ran at its connection limit",
        endpoints=_names(m),
        evidence=[f"{len(full)} of {len(used)} samples at 90 % or more of max_connections"],
        hint="pool connections in the backend (or raise max_connections)",
        weight=0.5,
    )


def _queueing(m: Measured) -> Cause | None:
    """Little's law: requests in the system = throughput x latency; most of the latency is queue."""
    agg = m.aggregate
    if agg is None or not agg.rps or not agg.avg_ms or not m.backend_cpu:
        return None
    in_system = agg.rps * agg.avg_ms / 1000
    service_ms = 1000 / agg.rps * (m.backend_workers or 1)  # per request, per worker
    if in_system < 2 or agg.avg_ms < 3 * service_ms:
        return None
    users = f" of {m.users} users" if m.users else ""
    return Cause(
        code="queueing",
        summary=f"requests queued: on average {in_system:.0f} were in the system at once",
        endpoints=_names(m),
        evidence=[
            f"{agg.rps:.1f} rps x {agg.avg_ms:.0f} ms mean latency = {in_system:.1f} requests "
            f"in the system{users} (Little's law); at that throughput a worker completes a "
            f"request every {service_ms:.0f} ms, so most of the latency is waiting"
        ],
        hint="the backend's throughput is the limit: see the causes above for what uses it",
        weight=0.3,
    )


def _generator(m: Measured) -> Cause | None:
    if not m.generator_saturated:
        return None
    return Cause(
        code="load_generator",
        summary="the load generator was saturated (its latencies include its own delays)",
        endpoints=_names(m),
        evidence=["a Locust worker ran out of CPU (see Test bed)"],
        hint="add --workers",
        weight=0.2,
    )


def cause_lines(causes: Sequence[Cause]) -> list[str]:
    """Causes as plain lines: the console's and the summary's "why"."""
    if not causes:
        return ["no cause found in what this run measured"]
    return [f"{i}. {c.summary}" for i, c in enumerate(causes, 1)]
