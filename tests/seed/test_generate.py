"""The generator's data has production's shape, consistent counters, and is deterministic."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest

from harness.errors import ConfigError
from harness.seed.columns import Chunk, fingerprint
from harness.seed.generate import ANCHOR_US, DAY_US, SPAN_US, Generator
from harness.seed.profiles import PROFILES, resolve_profile

HASH = "$2b$04$" + "a" * 53


def run(profile: str = "small", seed: int = 3) -> tuple[Generator, dict[str, Chunk], str]:
    gen = Generator(PROFILES[profile], seed, HASH)
    digest = hashlib.sha256()
    tables: dict[str, Chunk] = {}
    for chunk in gen.chunks():
        fingerprint(chunk, digest)
        if chunk.table in tables:  # several trip chunks: keep the first, count them all
            continue
        tables[chunk.table] = chunk
    return gen, tables, digest.hexdigest()


def test_same_seed_same_data_other_seed_other_data() -> None:
    assert run("tiny", 5)[2] == run("tiny", 5)[2]
    assert run("tiny", 5)[2] != run("tiny", 6)[2]


def test_followers_follow_a_power_law() -> None:
    gen, _, _ = run()
    followers = gen.followers_count
    assert followers.max() > 1000  # a few users with thousands
    assert np.median(followers) < 20  # most with a handful
    assert gen.follower.size == PROFILES["small"].follows
    assert not np.any(gen.follower == gen.followee)
    pairs = gen.follower.astype(np.int64) * 10**6 + gen.followee
    assert np.unique(pairs).size == pairs.size


def test_trips_shape() -> None:
    gen, tables, _ = run()
    tr = gen.trips
    per_user = np.bincount(tr.owner, minlength=PROFILES["small"].users)
    assert (per_user == 0).mean() > 0.25 and per_user.max() > 20 * max(np.median(per_user), 1)
    assert 0.67 < tr.published.mean() < 0.73
    assert np.all(tr.published_at >= tr.created) and np.all(tr.published_at <= ANCHOR_US)
    assert np.all(tr.created >= ANCHOR_US - SPAN_US)
    assert np.all(tr.start_day <= tr.end_day) and np.all(tr.end_day * DAY_US <= ANCHOR_US)
    assert tr.distance.min() >= 0.1 and tr.distance.max() <= 10000
    descriptions = tables["trips"].columns["description"].values
    assert np.char.str_len(descriptions).min() >= 50  # long enough to publish


def test_usernames_are_valid_and_unique() -> None:
    gen, _, _ = run()
    names = [n.decode() for n in gen.usernames.tolist()]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[A-Za-z0-9_]{3,30}", n) for n in names)


def test_counters_match_rows() -> None:
    gen, tables, _ = run()
    tags = tables["tags"].columns
    assert tags["usage_count"].values.sum() == gen.tag_trip.size
    stats = tables["user_stats"].columns
    published_per_user = np.bincount(gen.trips.owner[gen.trips.published], minlength=gen.p.users)
    assert stats["total_trips"].values.sum() == published_per_user.sum()
    assert stats["achievements_count"].values.sum() == tables["user_achievements"].rows
    assert tags["usage_count"].values[0] == tags["usage_count"].values.max()  # skewed usage


@pytest.mark.parametrize(
    ("name", "overrides", "needle"),
    [
        ("huge", {}, "unknown seed profile"),
        ("tiny", {"users": 1}, "too small"),
        ("tiny", {"trips": -5}, "too small"),
    ],
)
def test_bad_profiles(name: str, overrides: dict[str, int | None], needle: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_profile(name, overrides)
    assert needle in caught.value.message and caught.value.hint


def test_overrides_apply() -> None:
    profile = resolve_profile("tiny", {"users": 50, "trips": None})
    assert profile.users == 50 and profile.trips == PROFILES["tiny"].trips
