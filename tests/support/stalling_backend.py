"""A backend fixture that stalls for a known time at a known period.

It answers the feed scenario's one request (GET /trips/public, an empty page, so a
FeedBrowsingUser's iteration is that request alone) and /health, at once. Every EVERY_S seconds
its event loop is blocked for STALL_MS: every request in flight or arriving then waits.

    python -m tests.support.stalling_backend PORT STALL_MS EVERY_S [SERVICE_MS]

GET /fixture/served answers how many feed requests it has served: what a load run's own
count must match. SERVICE_MS (default 0) is CPU each feed request spends on the event loop, so the fixture
completes at most 1000 / SERVICE_MS requests a second: a known capacity. STALL_MS 0: no stalls.

With arrivals at a steady rate, a stall of T every N seconds (T < N) delays the requests that
arrive during it by T - u (u uniform in [0, T]): a share T/N of all requests, so the latency
exceeded by a share q < T/N of them is T - q N (plus the service time). Its p99 is
T - 0.01 N; a closed model, whose users each wait for their own response, sends at most one
request per user into each stall and under-reports it.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import uvicorn

PAGE = json.dumps({"trips": [], "pagination": {"page": 1, "total": 0}}).encode()


def _busy(seconds: float) -> None:
    deadline = time.thread_time() + seconds
    while time.thread_time() < deadline:
        pass


async def _stall_forever(stall_s: float, every_s: float) -> None:
    if stall_s <= 0:
        return
    next_stall = time.monotonic() + every_s
    while True:
        await asyncio.sleep(max(next_stall - time.monotonic(), 0))
        time.sleep(stall_s)  # blocks the event loop on purpose: the stall
        next_stall += every_s


def make_app(stall_s: float, every_s: float, service_s: float = 0.0) -> Any:
    served = 0

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        nonlocal served
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    app.stalls = asyncio.create_task(_stall_forever(stall_s, every_s))  # type: ignore[attr-defined]
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    app.stalls.cancel()  # type: ignore[attr-defined]
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        path = scope.get("path", "")
        if path == "/trips/public" and service_s:
            _busy(service_s)  # on the event loop: one request at a time
        known = path in ("/health", "/trips/public", "/fixture/served")
        body = PAGE if path == "/trips/public" else b'{"status": "ok"}'
        if path == "/trips/public":
            served += 1
        elif path == "/fixture/served":
            body = json.dumps({"served": served}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200 if known else 404,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body if known else b"{}"})

    return app


def main() -> None:
    port, stall_ms, every_s = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    service_ms = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    uvicorn.run(
        make_app(stall_ms / 1000, every_s, service_ms / 1000),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
