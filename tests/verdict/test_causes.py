"""The diagnosis names causes only from measurements, ranked, and says when it found none."""

from __future__ import annotations

from harness.record import EndpointStats, ProfileFunction, SloRow
from harness.verdict.causes import Measured, cause_lines, diagnose


def stats(name: str, min_ms: float, requests: int = 100, method: str = "GET") -> EndpointStats:
    return EndpointStats(
        method=method,
        name=name,
        requests=requests,
        failures=0,
        failure_rate=0.0,
        p95_ms=900.0,
        avg_ms=400.0,
        min_ms=min_ms,
        rps=requests / 60,
    )


def failing(endpoint: str) -> SloRow:
    return SloRow(
        endpoint=endpoint,
        group="reads",
        target_p95_ms=200,
        p95_ms=900,
        failure_rate=0,
        max_failure_rate=0.01,
        passed=False,
        reason="p95 900 ms > 200 ms",
    )


ENDPOINTS = [
    stats("/users/[username]/stats", 204.0),
    stats("/users/[username]/profile", 2.1),
    stats("/trips/public", 3.5),
    stats("/achievements", 1.9),
]
AGGREGATE = EndpointStats(
    method="ALL", name="Aggregated", requests=2400, failures=0, failure_rate=0, avg_ms=400, rps=40
)
SLOW = ProfileFunction(
    function="_slow_down_for_testing",
    file="app/api/users.py",
    own_share=0.71,
    total_share=0.72,
    own_samples=2130,
)


def test_a_slow_endpoint_and_a_pinned_event_loop_are_named_with_their_evidence() -> None:
    m = Measured(
        failing=[failing("GET /users/[username]/stats"), failing("GET /trips/public")],
        endpoints=ENDPOINTS,
        aggregate=AGGREGATE,
        window_s=60,
        users=50,
        backend_cpu=[0.97, 0.99, 1.01, 0.98] * 15,
        backend_cores=2,
        backend_workers=1,
        host_busy=0.62,
        profile=[SLOW],
    )
    causes = diagnose(m)
    codes = [c.code for c in causes]
    assert codes[0] == "slow_endpoint" and "backend_cpu" in codes and "queueing" in codes
    slow = causes[0]
    assert slow.endpoints == ["GET /users/[username]/stats"]
    assert "fastest request took 204 ms" in slow.evidence[0]
    assert any("_slow_down_for_testing" in e for e in slow.evidence)
    cpu = next(c for c in causes if c.code == "backend_cpu")
    assert "idle cores" in cpu.summary and "add backend workers" in (cpu.hint or "")
    little = next(c for c in causes if c.code == "queueing")
    assert "40.0 rps x 400 ms mean latency = 16.0 requests" in little.evidence[0]


def test_password_hashing_is_weighed_from_logins_and_the_hash_cost() -> None:
    logins = stats("/auth/login", 240.0, requests=180, method="POST")
    m = Measured(
        failing=[failing("POST /auth/login")],
        endpoints=[logins, *ENDPOINTS[1:]],
        aggregate=AGGREGATE,
        window_s=60,
        backend_cpu=[0.95] * 60,
        backend_cores=2,
        hash_ms=250.0,
        hash_rounds=12,
    )
    hashing = next(c for c in diagnose(m) if c.code == "password_hashing")
    assert "180 logins and registrations in 60 s x 250 ms" in hashing.evidence[0]
    assert "= 0.75 cores" in hashing.evidence[0]


def test_database_causes_come_from_the_postgres_samples() -> None:
    rows = [
        {
            "t": i,
            "connections": {"active": 8, "idle in transaction": 3},
            "max_connections": 10,
            "wait_events": {"Lock": 4, "CPU": 2},
        }
        for i in range(30)
    ]
    top = [
        {
            "query": "SELECT * FROM trips WHERE owner = $1",
            "calls": 4800,
            "total_ms": 720000.0,
            "mean_ms": 150.0,
            "rows": 4800,
        }
    ]
    m = Measured(
        failing=[failing("GET /trips/public")],
        endpoints=ENDPOINTS,
        aggregate=AGGREGATE,
        window_s=60,
        postgres=rows,
        top_queries=top,
    )
    codes = {c.code: c for c in diagnose(m)}
    assert {"lock_waits", "idle_in_transaction", "connection_limit", "database_time"} <= set(codes)
    assert (
        "300.0 ms per request against a mean latency of 400 ms"
        in codes["database_time"].evidence[0]
    )


def test_nothing_measured_means_no_cause_found() -> None:
    m = Measured(failing=[failing("GET /trips/public")], endpoints=[], aggregate=None, window_s=60)
    assert diagnose(m) == []
    assert cause_lines([]) == ["no cause found in what this run measured"]


def test_a_slow_endpoint_that_passed_is_named_when_the_failing_ones_waited_behind_it() -> None:
    """The measured run: stats burned 156 ms per call and passed at p95 170 ms; achievements,
    3.6 ms at its best, failed at 260 ms from waiting behind the burns."""
    m = Measured(
        failing=[failing("GET /users/[username]/achievements")],
        endpoints=[
            stats("/users/[username]/stats", 156.0, requests=25),
            stats("/users/[username]/achievements", 3.6, requests=12),
            stats("/users/[username]/profile", 1.9, requests=107),
            stats("/trips/public", 4.5, requests=66),
        ],
        aggregate=AGGREGATE,
        window_s=30,
        backend_workers=1,
        profile=[SLOW],
    )
    causes = diagnose(m)
    slow = next(c for c in causes if c.code == "slow_endpoint")
    assert slow.endpoints == ["GET /users/[username]/stats"]
    assert "waited behind it" in slow.summary
    assert "fastest request took 156 ms" in slow.evidence[0]
    assert "25 calls x at least 156 ms = 3.9 s of the 30 s window (13% of 1" in slow.evidence[1]
    assert "GET /users/[username]/achievements 4 ms" in slow.evidence[2]
    assert any("_slow_down_for_testing" in e for e in slow.evidence)


def test_a_slow_endpoint_with_little_time_is_not_blamed_for_others() -> None:
    m = Measured(
        failing=[failing("GET /users/[username]/achievements")],
        endpoints=[
            stats("/users/[username]/stats", 156.0, requests=2),  # 0.3 s of 60 s
            stats("/users/[username]/achievements", 3.6),
            stats("/trips/public", 4.5),
        ],
        aggregate=AGGREGATE,
        window_s=60,
        backend_workers=1,
    )
    assert [c.code for c in diagnose(m)] == []
