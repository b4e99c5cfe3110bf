"""ContraVento load scenarios (locust + standard library only; they run in the load image).

Environment (all optional):
  CV_USERNAMES_FILE   seeded usernames, one per line (the seeder's seed-usernames.txt)
  CV_SEED_PASSWORD    the seeded users' password
  CV_REGISTER_FRACTION  share of ContraVentoUsers that register instead of logging in (0.1)
  CV_HTTP_CLIENT      fast (FastHttpUser, default) or stock (HttpUser), to compare the two
  CV_WAIT_SCALE       multiplies every think time (1.0); 0 means no think time (capacity tests)
  CV_NEW_SESSION_WEIGHT  weight of a ContraVentoUser's task of logging in again (1); 0 turns it
                      off (a test of token refresh alone, whose schedule each new login resets)
  CV_SHAPE            with "model": "open", a user runs one task per iteration the schedule
                      hands it (open_model.py) instead of thinking between tasks

Every user reports whether its start (on_start: register, log in) worked: a user whose start
fails stops, and Locust's own statistics would not say so. Workers send the reports to the
master, which writes their tally next to Locust's CSVs (<csv prefix>_user_starts.json): users
started, users that could not start, and the first start error (endpoint, status, message).

A failed request's message carries its status and the API's error code and message
("403 PRIVATE_PROFILE: This profile is private"), so Locust's failures CSV groups them.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from functools import lru_cache
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, tag, task
from locust.contrib.fasthttp import FastHttpUser
from locust.runners import WorkerRunner

log = logging.getLogger("harness.scenario")

BaseUser: Any = HttpUser if os.environ.get("CV_HTTP_CLIENT") == "stock" else FastHttpUser
WAIT_SCALE = float(os.environ.get("CV_WAIT_SCALE", "1.0"))
NEW_SESSION_WEIGHT = int(os.environ.get("CV_NEW_SESSION_WEIGHT", "1"))


# The open model (CV_SHAPE "model": "open", see open_model.py): users take iterations as they
# are due instead of thinking between tasks.
OPEN_MODEL = (json.loads(os.environ.get("CV_SHAPE", "{}") or "{}") or {}).get("model") == "open"


def next_iteration(user: Any) -> float:
    """The open model's wait: until this process's schedule hands the user an iteration."""
    user.environment.cv_arrivals.take()
    return 0.0


def think(low: float, high: float) -> Any:
    return next_iteration if OPEN_MODEL else between(low * WAIT_SCALE, high * WAIT_SCALE)


PASSWORD = os.environ.get("CV_SEED_PASSWORD", "Seeded!Rider1")
REFRESH_MARGIN_S = 60.0  # renew this long (at most a quarter of its life) before expiry
NEW_PASSWORD = "Load!Test1234"  # noqa: S105 -- accounts the load test creates
EMAIL_DOMAIN = "load.example.com"  # RFC 2606, never delivered to, yet strict validators accept it
MESSAGE_CHARS = 200
START_MESSAGE = "cv_user_start"
STARTS_SUFFIX = "_user_starts.json"  # after Locust's --csv prefix: locust_user_starts.json
DESCRIPTION = (
    "A load-test ride along quiet lanes and forest tracks, with a long climb before lunch "
    "and a fast descent into the valley at the end of the day."
)


@lru_cache(maxsize=1)
def seeded_usernames() -> tuple[str, ...]:
    path = Path(os.environ.get("CV_USERNAMES_FILE") or "/nonexistent")
    if not path.is_file():
        return ()
    return tuple(line.strip() for line in path.read_text("utf-8").splitlines() if line.strip())


def register_fraction() -> float:
    return float(os.environ.get("CV_REGISTER_FRACTION", "0.1")) if seeded_usernames() else 1.0


def new_username() -> str:
    return f"lt_{uuid.uuid4().hex[:20]}"


def new_email(username: str) -> str:
    # Not .test/.invalid/.local: a strict validator (email-validator) refuses those with 400.
    return f"{username}@{EMAIL_DOMAIN}"


def failure_message(response: Any) -> str:
    """The status and the API's error code and message: "403 PRIVATE_PROFILE: ...".

    Kept free of per-request values where the API gives a code, so failures group by
    endpoint, status and message. No response at all (a refused connection) says why.
    """
    status = int(response.status_code or 0)
    if status == 0:
        return f"no response: {getattr(response, 'error', None) or 'connection failed'}"
    body = json_of(response)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and (error.get("code") or error.get("message")):
        code = str(error.get("code") or "ERROR")
        text = " ".join(str(error.get("message") or "").split())
        return f"{status} {code}: {text}"[:MESSAGE_CHARS]
    detail = body.get("detail") if isinstance(body, dict) else None
    text = " ".join(str(detail if detail is not None else (response.text or "")).split())
    return f"{status}: {text}"[:MESSAGE_CHARS] if text else str(status)


def expect(response: Any, *statuses: int) -> Any:
    """Mark the request failed unless its status is one the contract names for it."""
    if response.status_code in statuses:
        response.success()
    else:
        response.failure(failure_message(response))
    return response


def json_of(response: Any) -> Any:
    """The body's JSON, or None when there is no response (unexpected status) or no JSON."""
    if response is None:
        return None
    try:
        return response.json()
    except Exception:  # a failed request has no usable body; the failure is already counted
        return None


class StartTally:
    """The master's count of user starts, from every worker's reports (or a lone process's)."""

    def __init__(self) -> None:
        self.started: dict[str, int] = {}
        self.failed: dict[str, int] = {}
        self.first_error: dict[str, Any] | None = None

    def add(self, report: dict[str, Any]) -> None:
        user_class = str(report.get("user_class") or "?")
        tally = self.started if report.get("ok") else self.failed
        tally[user_class] = tally.get(user_class, 0) + 1
        error = report.get("error")
        if isinstance(error, dict):
            first = self.first_error
            if first is None or float(error.get("at", 0)) < float(first.get("at", 0)):
                self.first_error = {**error, "user_class": user_class}

    def finished(self) -> int:
        """Users whose start is over, whether it worked or not (a staged shape waits for all)."""
        return sum(self.started.values()) + sum(self.failed.values())

    def reset(self, **_kwargs: Any) -> None:
        """A new test (the Locust UI can start several in one master) counts afresh."""
        self.started, self.failed, self.first_error = {}, {}, None

    def as_json(self) -> dict[str, Any]:
        return {
            "started": sum(self.started.values()),
            "failed": sum(self.failed.values()),
            "by_class": {
                name: {"started": self.started.get(name, 0), "failed": self.failed.get(name, 0)}
                for name in sorted({*self.started, *self.failed})
            },
            "first_error": self.first_error,
        }


TALLY = StartTally()


def starts_path(environment: Any) -> Path | None:
    prefix = getattr(environment.parsed_options, "csv_prefix", None)
    return Path(f"{prefix}{STARTS_SUFFIX}") if prefix else None


def _count_starts(environment: Any, **_kwargs: Any) -> None:
    """The master (or a lone process) keeps the tally; workers only send their reports."""
    runner = environment.runner
    if runner is None or isinstance(runner, WorkerRunner):
        return

    def on_report(msg: Any, **_: Any) -> None:
        TALLY.add(msg.data or {})
        # Written at once, not only as Locust quits: a master stopped by SIGTERM during a
        # shape run exits without running its quitting handlers.
        _write_starts(environment)

    runner.register_message(START_MESSAGE, on_report)
    environment.user_starts = TALLY  # the staged shape's warm-up waits for every start


def _write_starts(environment: Any, **_kwargs: Any) -> None:
    path = starts_path(environment)
    if path is None or isinstance(environment.runner, WorkerRunner):
        return
    partial = path.with_name(f".{path.name}.tmp")  # the harness never reads half a file
    try:
        partial.write_text(json.dumps(TALLY.as_json(), indent=2) + "\n", encoding="utf-8")
        partial.replace(path)
    except OSError as exc:  # the results folder went away; Locust's own files say the rest
        log.warning("could not write %s: %s", path, exc)


events.init.add_listener(_count_starts)  # type: ignore[no-untyped-call]
events.test_start.add_listener(TALLY.reset)  # type: ignore[no-untyped-call]
events.test_stop.add_listener(_write_starts)  # type: ignore[no-untyped-call]
events.quitting.add_listener(_write_starts)  # type: ignore[no-untyped-call]


class NoCookies(CookieJar):
    """The contract's auth is a bearer token, never a cookie: skip the jar's per-request work.

    Both clients run every response through http.cookiejar (about a fifth of FastHttpUser's
    CPU per request in a profile of the mixed scenario), for cookies this API never sets.
    """

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None

    def add_cookie_header(self, request: Any) -> None:
        return None


class _Api:
    """Calls shared by every user class, each named by its endpoint group."""

    client: Any  # these three come from the Locust user class it is mixed into
    environment: Any
    stop: Callable[..., Any]
    token: str | None = None
    refresh_token: str | None = None
    token_expires: float = 0.0  # time.monotonic() when the access token runs out
    username: str | None = None
    password: str = NEW_PASSWORD
    last_error: dict[str, Any] | None = None  # the latest failed call: endpoint, status, message

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if hasattr(self.client, "cookies"):  # HttpUser: a requests Session
            self.client.cookies = NoCookies()
        else:  # FastHttpUser: geventhttpclient skips cookie handling without a jar
            self.client.cookiejar = self.client.client.cookiejar = None

    def auth(self) -> dict[str, str]:
        """The bearer header; renews the access token first when it is about to run out.

        Access tokens live 15 minutes (expires_in 900): a user of a longer run refreshes, as a
        real client does, instead of sending an expired token and counting 401s.
        """
        if self.token and self.refresh_token and time.monotonic() >= self.token_expires:
            self.refresh()
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def keep_tokens(self, data: dict[str, Any]) -> None:
        self.token = data.get("access_token")
        self.refresh_token = data.get("refresh_token")
        lifetime = float(data.get("expires_in") or 0)
        self.token_expires = time.monotonic() + lifetime - min(REFRESH_MARGIN_S, lifetime / 4)

    def refresh(self) -> None:
        response = self.call(
            "POST",
            "/auth/refresh",
            "/auth/refresh",
            params={"refresh_token": self.refresh_token},
        )
        self.keep_tokens((json_of(response) or {}).get("data") or {})

    def call(self, method: str, path: str, name: str, *expected: int, **kwargs: Any) -> Any:
        """One request grouped under `name`, failed unless its status is expected.

        Returns the response when its status was expected, else None; callers that use the
        body parse it (json_of), the others do not pay for parsing it.
        """
        with self.client.request(method, path, name=name, catch_response=True, **kwargs) as r:
            expect(r, *(expected or (200,)))
            if r.status_code in (expected or (200,)):
                return r
            status = int(r.status_code or 0)
            self.last_error = {
                "endpoint": f"{method} {name}",
                "status": status or None,
                "message": failure_message(r),
                "at": time.time(),
            }
            return None

    def on_start(self) -> None:
        """Start the user (begin()), report whether it worked, stop it when it did not."""
        self.last_error = None
        ok = self.begin()
        report: dict[str, Any] = {"user_class": type(self).__name__, "ok": ok}
        if not ok:
            report["error"] = self.last_error or {
                "endpoint": "on_start",
                "status": None,
                "message": "the user could not start",
                "at": time.time(),
            }
        try:
            self.environment.runner.send_message(START_MESSAGE, report)
        except Exception as exc:  # a lost report must not stop a user that did start
            log.warning("could not report a user start: %s", exc)
        if not ok:
            self.stop()
        elif OPEN_MODEL:
            next_iteration(self)  # the first task waits for its iteration too

    def begin(self) -> bool:
        """What a user does before its tasks; False: it could not (the failed call is counted)."""
        return True

    def register(self) -> str | None:
        name = new_username()
        body = {"username": name, "email": new_email(name), "password": NEW_PASSWORD}
        created = self.call("POST", "/auth/register", "/auth/register", 201, json=body)
        return name if created is not None else None

    def login(self, login: str, password: str) -> bool:
        """A new session; a failed login keeps the session the user already has."""
        body = {"login": login, "password": password}
        response = self.call("POST", "/auth/login", "/auth/login", json=body)
        data = (json_of(response) or {}).get("data") or {}
        if not data.get("access_token"):
            return False
        self.keep_tokens(data)
        return True

    def public_feed(self) -> list[dict[str, Any]]:
        page = random.randint(1, 20)
        response = self.call("GET", f"/trips/public?page={page}", "/trips/public")
        return list((json_of(response) or {}).get("trips") or [])

    def other_username(self) -> str | None:
        names = seeded_usernames()
        return random.choice(names) if names else self.username


class ContraVentoUser(_Api, BaseUser):  # type: ignore[misc]
    """The guide's mixed user: logs in (a fraction registers), then the weighted tasks."""

    weight = 3
    wait_time = think(0.5, 2.0)

    def begin(self) -> bool:
        names = seeded_usernames()
        if random.random() < register_fraction() or not names:
            self.username = self.register()
            self.password = NEW_PASSWORD
        else:
            self.username = random.choice(names)
            self.password = PASSWORD
        return self.username is not None and self.login(self.username, self.password)

    @task(NEW_SESSION_WEIGHT)
    def new_session(self) -> None:
        """The user comes back in a new session and logs in again.

        Logins otherwise happen only as users start, which is all in the warm-up of a shape
        whose users all start there (baseline): this keeps login measured in every shape.
        """
        if self.username is not None:
            self.login(self.username, self.password)

    @task(10)
    def own_profile(self) -> None:
        self.call(
            "GET",
            f"/users/{self.username}/profile",
            "/users/[username]/profile",
            headers=self.auth(),
        )

    @task(5)
    def stats(self) -> None:
        self.call("GET", f"/users/{self.username}/stats", "/users/[username]/stats")

    @task(3)
    def achievements(self) -> None:
        self.call("GET", f"/users/{self.username}/achievements", "/users/[username]/achievements")

    @task(2)
    def update_profile(self) -> None:
        body = {"bio": f"Riding since {random.randint(1990, 2024)}", "cycling_type": "gravel"}
        self.call(
            "PUT",
            f"/users/{self.username}/profile",
            "/users/[username]/profile",
            json=body,
            headers=self.auth(),
        )

    @task(1)
    def all_achievements(self) -> None:
        self.call("GET", "/achievements", "/achievements")

    @task(4)
    def browse_feed(self) -> None:
        self.public_feed()

    @task(3)
    def other_users_trips(self) -> None:
        self.call(
            "GET",
            f"/users/{self.other_username()}/trips?limit=20",
            "/users/[username]/trips",
            headers=self.auth(),
        )

    @task(1)
    def create_and_publish_trip(self) -> None:
        start = date(2025, 1, 1) + timedelta(days=random.randint(0, 300))
        body = {
            "title": "Load test ride",
            "description": DESCRIPTION,
            "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=1)).isoformat(),
            "distance_km": 42.5,
            "difficulty": "moderate",
            "tags": ["loadtest", "gravel"],
            "locations": [{"name": "Madrid", "latitude": 40.4, "longitude": -3.7}],
        }
        created = self.call("POST", "/trips", "/trips", 201, json=body, headers=self.auth())
        trip_id = ((json_of(created) or {}).get("data") or {}).get("trip_id")
        if trip_id:
            self.call(
                "POST", f"/trips/{trip_id}/publish", "/trips/[trip_id]/publish", headers=self.auth()
            )


class FeedBrowsingUser(_Api, BaseUser):  # type: ignore[misc]
    """Anonymous visitors: the public feed, a trip from it, its author's profile."""

    weight = 1
    wait_time = think(1.0, 3.0)

    @task(5)
    def feed(self) -> None:
        trips = self.public_feed()
        if not trips:
            return
        item = random.choice(trips)
        self.call("GET", f"/trips/{item['trip_id']}", "/trips/[trip_id]")
        author = (item.get("author") or {}).get("username")
        if author:  # 403: the author made the profile private since the feed was read
            self.call("GET", f"/users/{author}/profile", "/users/[username]/profile", 200, 403)


class RegistrationLoadTest(_Api, BaseUser):  # type: ignore[misc]
    """The guide's registration test: concurrent sign-ups."""

    weight = 0
    wait_time = think(0.5, 1.5)

    @tag("registration")
    @task
    def register_task(self) -> None:
        self.register()


class AuthenticationLoadTest(_Api, BaseUser):  # type: ignore[misc]
    """The guide's authentication test: repeated logins as seeded users."""

    weight = 0
    wait_time = think(0.5, 1.5)

    def begin(self) -> bool:
        names = seeded_usernames()
        self.username = random.choice(names) if names else self.register()
        self.password = PASSWORD if names else NEW_PASSWORD
        return self.username is not None

    @tag("authentication")
    @task
    def login_task(self) -> None:
        if self.username is not None:
            self.login(self.username, self.password)
