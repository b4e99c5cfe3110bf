"""Users that cannot start are counted, and failures grouped, by a real Locust run (no Docker).

The target is a stub speaking the contract's error envelope: every registration is refused
as a strict e-mail validator refuses a special-use domain, and every trip detail is 403.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from harness.load.runner import LoadPlan, read_endpoints, read_failures, read_users, run_locally
from harness.pipeline.judge import judge
from harness.pipeline.load_phase import LoadResult
from harness.verdict import load_slo

pytestmark = pytest.mark.slow

REFUSED = "The part after the @-sign is a special-use or reserved name that cannot be used."


class Stub(BaseHTTPRequestHandler):
    def _answer(self, status: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _error(self, status: int, code: str, message: str) -> None:
        self._answer(
            status, {"success": False, "data": None, "error": {"code": code, "message": message}}
        )

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/auth/register":
            self._error(400, "VALIDATION_ERROR", REFUSED)
        else:
            self._error(404, "HTTP_404", "Not Found")

    def do_GET(self) -> None:
        if self.path.startswith("/trips/public"):
            trip = {"trip_id": "t1", "author": {"username": "ana"}}
            self._answer(200, {"trips": [trip], "pagination": {"total": 1}})
        elif self.path == "/trips/t1":
            self._error(403, "FORBIDDEN", "This trip is not visible to you")
        elif self.path == "/users/ana/profile":
            self._answer(200, {"username": "ana"})
        else:
            self._error(404, "HTTP_404", "Not Found")

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def stub() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_users_that_cannot_register_are_counted_and_the_run_cannot_pass(
    stub: str, tmp_path: Path
) -> None:
    planned = 4  # three ContraVentoUsers (weight 3) that must register, one feed browser
    plan = LoadPlan(
        run_dir=tmp_path,
        classes=("ContraVentoUser", "FeedBrowsingUser"),
        shape={
            "warmup": {
                "users": planned,
                "spawn_rate": planned,
                "min_s": 2,
                "max_s": 30,
                "wait_for_starts": True,  # failed starts count: the window still begins
            },
            "stages": [{"for_s": 7, "users": planned, "spawn_rate": planned}],
        },
        warmup_s=2,
        total_s=37,
        workers=1,
        usernames_file=None,  # not seeded: every ContraVentoUser registers
        password="unused",
    )
    outcome = run_locally(plan, target=stub, progress=lambda _: None)
    assert not outcome.interrupted and outcome.aborted is None

    users = read_users(tmp_path, planned)
    assert users["planned"] == planned and users["reached"] == 1
    assert (users["started"], users["start_failures"]) == (1, 3)
    assert users["first_start_error"] == {
        "user_class": "ContraVentoUser",
        "endpoint": "POST /auth/register",
        "status": 400,
        "message": f"VALIDATION_ERROR: {REFUSED}",
    }

    failures = read_failures(tmp_path)
    assert failures is not None
    trip = next(f for f in failures if f["name"] == "/trips/[trip_id]")
    assert (trip["method"], trip["status"]) == ("GET", 403)
    assert trip["message"] == "FORBIDDEN: This trip is not visible to you" and trip["count"] >= 1

    endpoints, aggregate = read_endpoints(tmp_path)
    judgement = judge(load_slo(), LoadResult(endpoints, aggregate), None, users)
    assert judgement.verdict == "INVALID"  # a lighter load than planned says little
    assert [r.code for r in judgement.invalid] == ["users_not_reached"]
    assert judgement.warnings[0].startswith("users: reached 1 of 4 planned; 3 could not start")
    assert "POST /auth/register -> 400 VALIDATION_ERROR" in judgement.warnings[0]
