"""The two faults the harness's tests plant in the backend: off by default, exact when on."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest

from backend.app import create_app
from backend.routes.users import _slow_down_for_testing
from backend.settings import Settings, SettingsError, load_settings
from tests.backend.api import account, count_queries, create_trip, publish

GOOD = "k3y-" + "abcdefghijklmnopqrstuvwxyz0123456789"
AppWith = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def app_with(backend_settings: Settings) -> AppWith:
    """A client of the app on the test database, with some settings changed."""

    @asynccontextmanager
    async def client(**changes: object) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(dataclasses.replace(backend_settings, **changes))  # type: ignore[arg-type]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://backend.test") as c:
            c.app = app  # type: ignore[attr-defined]
            yield c
        await app.state.engine.dispose()

    return client


def test_the_knobs_are_off_by_default_and_read_from_the_environment() -> None:
    default = load_settings({"SECRET_KEY": GOOD})
    assert default.cv_n_plus_one is False and default.cv_slow_stats_ms == 0
    assert default.cv_delay_achievements_ms == 0
    delayed = load_settings({"SECRET_KEY": GOOD, "CV_DELAY_ACHIEVEMENTS_MS": "120"})
    assert delayed.cv_delay_achievements_ms == 120
    on = load_settings({"SECRET_KEY": GOOD, "CV_N_PLUS_ONE": "1", "CV_SLOW_STATS_MS": "200"})
    assert on.cv_n_plus_one is True and on.cv_slow_stats_ms == 200
    assert load_settings({"SECRET_KEY": GOOD, "CV_N_PLUS_ONE": "0"}).cv_n_plus_one is False


@pytest.mark.parametrize(
    ("name", "value", "message", "hint"),
    [
        ("CV_N_PLUS_ONE", "maybe", "CV_N_PLUS_ONE='maybe' is not a yes or no", "1 or 0"),
        ("CV_SLOW_STATS_MS", "-1", "CV_SLOW_STATS_MS=-1 is out of range", "0..60000"),
        ("CV_SLOW_STATS_MS", "fast", "CV_SLOW_STATS_MS='fast' is not a whole number", "0..60000"),
        (
            "CV_DELAY_ACHIEVEMENTS_MS",
            "-5",
            "CV_DELAY_ACHIEVEMENTS_MS=-5 is out of range",
            "0..60000",
        ),
    ],
)
def test_a_bad_knob_is_refused(name: str, value: str, message: str, hint: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"SECRET_KEY": GOOD, name: value})
    assert caught.value.message == message and hint in caught.value.hint


async def _trips_queries(client: httpx.AsyncClient, trips: int) -> tuple[int, list[list[str]]]:
    """A user with `trips` published trips: the statements of one GET of their trips, and the
    tags the list shows."""
    who = await account(client)
    for i in range(trips):
        trip = await create_trip(client, who, title=f"Ride {i}", tags=[f"t{i}", "shared"])
        await publish(client, who, trip["trip_id"])
    with count_queries(client) as statements:
        response = await client.get(f"/users/{who.username}/trips", headers=who.auth)
        assert response.status_code == 200, response.text
    tags = [t["tag_names"] for t in response.json()["data"]["trips"]]
    return len(statements), tags


async def test_n_plus_one_makes_the_trips_list_cost_one_query_per_trip(app_with: AppWith) -> None:
    async with app_with() as plain:
        fixed = [await _trips_queries(plain, n) for n in (1, 5)]
    async with app_with(cv_n_plus_one=True) as faulty:
        growing = [await _trips_queries(faulty, n) for n in (1, 5)]
    assert fixed[0][0] == fixed[1][0] == 3  # the user, the page of trips, their tags
    assert [count for count, _ in growing] == [3, 7]  # the user, the page, a tags query each
    # the same answer either way: only the cost differs
    assert [tags for _, tags in growing] == [tags for _, tags in fixed]
    assert fixed[1][1] == [["shared", f"t{i}"] for i in reversed(range(5))]


async def test_slow_stats_burns_cpu_on_the_event_loop(app_with: AppWith) -> None:
    """The burn runs on the thread that runs the event loop (not a worker thread, not a sleep):
    that thread's own CPU time grows by the knob's figure."""

    async def stats_call(client: httpx.AsyncClient, username: str) -> tuple[float, float]:
        cpu, wall = time.thread_time(), time.perf_counter()
        response = await client.get(f"/users/{username}/stats")
        assert response.status_code == 200, response.text
        assert response.json()["data"]["total_trips"] == 0
        return time.thread_time() - cpu, time.perf_counter() - wall

    async with app_with() as plain:
        who = await account(plain)
        await stats_call(plain, who.username)  # the first call creates the stats row
        plain_cpu, plain_wall = await stats_call(plain, who.username)
    async with app_with(cv_slow_stats_ms=150) as slow:
        slow_cpu, slow_wall = await stats_call(slow, who.username)
    assert slow_cpu >= 0.15 and slow_wall >= 0.15
    assert plain_cpu < 0.1 and plain_wall < slow_wall


def test_the_burn_is_named_and_takes_the_time_asked() -> None:
    cpu = time.thread_time()
    _slow_down_for_testing(50)
    assert time.thread_time() - cpu >= 0.05


async def test_delayed_achievements_wait_without_holding_the_event_loop(app_with: AppWith) -> None:
    """The delay is a wait: the call takes the knob's time, its thread burns no CPU for it, and
    another request served meanwhile is not held up."""
    async with app_with(cv_delay_achievements_ms=300) as slow:
        who = await account(slow)
        cpu, wall = time.thread_time(), time.perf_counter()

        async def quick() -> float:
            began = time.perf_counter()
            response = await slow.get("/achievements")
            assert response.status_code == 200, response.text
            return time.perf_counter() - began

        delayed, other = await asyncio.gather(
            slow.get(f"/users/{who.username}/achievements"), quick()
        )
        took, burnt = time.perf_counter() - wall, time.thread_time() - cpu
    assert delayed.status_code == 200, delayed.text
    assert took >= 0.3 and burnt < 0.2 and other < 0.2
    async with app_with() as plain:
        who = await account(plain)
        began = time.perf_counter()
        response = await plain.get(f"/users/{who.username}/achievements")
        assert response.status_code == 200 and time.perf_counter() - began < 0.3
