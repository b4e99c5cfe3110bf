"""ContraVento load scenarios (locust + standard library only; they run in the load image).

Environment (all optional):
  CV_USERNAMES_FILE   seeded usernames, one per line (the seeder's seed-usernames.txt)
  CV_SEED_PASSWORD    the seeded users' password
  CV_REGISTER_FRACTION  share of ContraVentoUsers that register instead of logging in (0.1)
  CV_HTTP_CLIENT      fast (FastHttpUser, default) or stock (HttpUser), to compare the two
  CV_WAIT_SCALE       multiplies every think time (1.0); 0 means no think time (capacity tests)
"""

from __future__ import annotations

import os
import random
import time
import uuid
from datetime import date, timedelta
from functools import lru_cache
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

from locust import HttpUser, between, tag, task
from locust.contrib.fasthttp import FastHttpUser

BaseUser: Any = HttpUser if os.environ.get("CV_HTTP_CLIENT") == "stock" else FastHttpUser
WAIT_SCALE = float(os.environ.get("CV_WAIT_SCALE", "1.0"))


def think(low: float, high: float) -> Any:
    return between(low * WAIT_SCALE, high * WAIT_SCALE)


PASSWORD = os.environ.get("CV_SEED_PASSWORD", "Seeded!Rider1")
REFRESH_MARGIN_S = 60.0  # renew this long (at most a quarter of its life) before expiry
NEW_PASSWORD = "Load!Test1234"  # noqa: S105 -- accounts the load test creates
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


def expect(response: Any, *statuses: int) -> Any:
    """Mark the request failed unless its status is one the contract names for it."""
    if response.status_code in statuses:
        response.success()
    else:
        body = (response.text or "")[:200]
        response.failure(f"HTTP {response.status_code} (expected {statuses}): {body}")
    return response


def json_of(response: Any) -> Any:
    """The body's JSON, or None when there is no response (unexpected status) or no JSON."""
    if response is None:
        return None
    try:
        return response.json()
    except Exception:  # a failed request has no usable body; the failure is already counted
        return None


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

    client: Any
    token: str | None = None
    refresh_token: str | None = None
    token_expires: float = 0.0  # time.monotonic() when the access token runs out
    username: str | None = None

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
            return r if r.status_code in (expected or (200,)) else None

    def register(self) -> str | None:
        name = new_username()
        body = {"username": name, "email": f"{name}@load.test", "password": NEW_PASSWORD}
        created = self.call("POST", "/auth/register", "/auth/register", 201, json=body)
        return name if created is not None else None

    def login(self, login: str, password: str) -> bool:
        body = {"login": login, "password": password}
        response = self.call("POST", "/auth/login", "/auth/login", json=body)
        self.keep_tokens((json_of(response) or {}).get("data") or {})
        return bool(self.token)

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

    def on_start(self) -> None:
        names = seeded_usernames()
        if random.random() < register_fraction() or not names:
            self.username = self.register()
            ok = self.username is not None and self.login(self.username, NEW_PASSWORD)
        else:
            self.username = random.choice(names)
            ok = self.login(self.username, PASSWORD)
        if not ok:
            self.stop()

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

    def on_start(self) -> None:
        names = seeded_usernames()
        name = random.choice(names) if names else self.register()
        self.credentials = (name, PASSWORD if names else NEW_PASSWORD)

    @tag("authentication")
    @task
    def login_task(self) -> None:
        name, password = self.credentials
        if name:
            self.login(name, password)
