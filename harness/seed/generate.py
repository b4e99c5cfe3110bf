"""Deterministic, production-shaped rows for the contract's tables, generated with numpy.

Shape: followers follow a power law, trips per user are heavy-tailed, ~70 % of trips are
published, dates spread over three years before a fixed anchor, tag usage and likes are
skewed, and the counters (followers, user_stats, achievements) are computed from the rows.
Same profile and seed -> the same rows; each table draws from its own child seed.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from harness.seed import vocab
from harness.seed.columns import Chunk, Col, new_uuids, text, uuid_text
from harness.seed.profiles import Profile

DAY_US = 86_400_000_000
ANCHOR_US = 1_780_272_000_000_000  # 2026-06-01T00:00:00Z: fixed, so data never depends on today
SPAN_US = 3 * 365 * DAY_US
TRIP_CHUNK = 100_000
STREAMS = ("users", "follows", "profiles", "trips", "tags", "likes", "chunks")

Ints = npt.NDArray[np.int64]


@dataclass
class Trips:
    ids: npt.NDArray[np.uint8]
    owner: Ints
    created: Ints
    published: npt.NDArray[np.bool_]
    private: npt.NDArray[np.bool_]
    published_at: Ints
    start_day: Ints
    end_day: Ints
    distance: npt.NDArray[np.float64]
    difficulty: Ints
    first_city: Ints
    n_locations: Ints
    n_photos: Ints


def _strs(values: tuple[str, ...]) -> np.ndarray:
    return np.array(values, dtype="S")


def _join(*parts: np.ndarray | str) -> np.ndarray:
    out = (
        np.asarray(parts[0], dtype="S")
        if not isinstance(parts[0], str)
        else np.array(parts[0], "S")
    )
    for part in parts[1:]:
        out = np.char.add(out, np.asarray(part, dtype="S"))
    return out


def _ts(values: Ints, null: npt.NDArray[np.bool_] | None = None) -> Col:
    return Col("ts", values.astype(np.int64), null)


def _seq_within(counts: Ints) -> Ints:
    """0, 1, ... within each group of a repeat(counts) layout."""
    starts = np.cumsum(counts) - counts
    return np.arange(int(counts.sum())) - np.repeat(starts, counts)


def _unique_pairs(a: Ints, b: Ints, base: int) -> tuple[Ints, Ints]:
    codes = np.unique(a.astype(np.int64) * base + b.astype(np.int64))
    return codes // base, codes % base


@functools.cache
def written_columns() -> dict[str, dict[str, str]]:
    """Each table the generator writes, in load order, with its columns and their kinds: learned
    from a two-user run of the generator itself, so it can never drift from `chunks()`."""
    probe = Profile("probe", users=2, trips=1, follows=1, likes=1, tags=1)
    found: dict[str, dict[str, str]] = {}
    for chunk in Generator(probe, 0, "-").chunks():
        found.setdefault(chunk.table, {name: col.kind for name, col in chunk.columns.items()})
    return found


class Generator:
    def __init__(self, profile: Profile, seed: int, password_hash: str) -> None:
        self.p = profile
        self.seed = seed
        self.password_hash = password_hash
        children = np.random.SeedSequence(seed).spawn(len(STREAMS))
        self.rng = {
            name: np.random.default_rng(s) for name, s in zip(STREAMS, children, strict=True)
        }

    def chunks(self) -> Iterator[Chunk]:
        yield self._users()
        self._follows()
        yield self._profiles()
        yield self._follow_chunk()
        self._plan_trips()
        yield self._tags()
        for start in range(0, self.p.trips, TRIP_CHUNK):
            yield from self._trip_chunk(start, min(start + TRIP_CHUNK, self.p.trips))
        yield self._likes()
        yield from self._stats()

    # -- users ---------------------------------------------------------------------------------
    def _users(self) -> Chunk:
        r, n = self.rng["users"], self.p.users
        self.user_ids = new_uuids(r, n)
        self.user_created = ANCHOR_US - (r.random(n) * SPAN_US).astype(np.int64)
        first = r.integers(0, len(vocab.FIRST_NAMES), n)
        self.first = first
        self.usernames = _join(_strs(vocab.FIRST_NAMES)[first], "_", np.arange(n).astype("S"))
        self.profile_private = r.random(n) < 0.05
        tv = r.random(n)
        self.trip_visibility = np.select([tv < 0.85, tv < 0.95], [0, 1], 2)
        last_login = self.user_created + (r.random(n) * (ANCHOR_US - self.user_created)).astype(
            np.int64
        )
        never = r.random(n) < 0.2
        return Chunk(
            "users",
            {
                "id": Col("uuid", self.user_ids),
                "username": text(self.usernames),
                "email": text(_join(self.usernames, "@seed.example.com")),
                "hashed_password": text(np.full(n, self.password_hash, dtype="S60")),
                "is_active": Col("bool", np.ones(n, dtype=bool)),
                "is_verified": Col("bool", np.ones(n, dtype=bool)),
                "created_at": _ts(self.user_created),
                "updated_at": _ts(self.user_created),
                "last_login_at": _ts(last_login, never),
                "locked_until": Col("ts", np.zeros(n, np.int64), np.ones(n, dtype=bool)),
                "failed_login_attempts": Col("int", np.zeros(n, np.int64)),
                "role": text(np.full(n, b"USER")),
                "profile_visibility": text(np.where(self.profile_private, b"private", b"public")),
                "trip_visibility": text(
                    np.array([b"public", b"followers", b"private"])[self.trip_visibility]
                ),
            },
        )

    # -- follows: a power law of popularity ------------------------------------------------------
    def _follows(self) -> None:
        r, n = self.rng["follows"], self.p.users
        popularity = 1.0 / (r.permutation(n) + 2.0) ** 0.95
        popularity /= popularity.sum()
        drawn = int(self.p.follows * 1.2) + 10
        activity = r.lognormal(0.0, 1.0, n)
        out_degree = r.multinomial(drawn, activity / activity.sum())
        follower = np.repeat(np.arange(n), out_degree)
        followee = r.choice(n, size=follower.size, p=popularity)
        keep = follower != followee
        follower, followee = _unique_pairs(follower[keep], followee[keep], n)
        if follower.size > self.p.follows:
            pick = np.sort(r.choice(follower.size, self.p.follows, replace=False))
            follower, followee = follower[pick], followee[pick]
        self.follower, self.followee = follower, followee
        since = np.maximum(self.user_created[follower], self.user_created[followee])
        self.follow_created = since + (r.random(follower.size) * (ANCHOR_US - since)).astype(
            np.int64
        )
        self.follow_ids = new_uuids(r, follower.size)
        self.followers_count = np.bincount(followee, minlength=n)
        self.following_count = np.bincount(follower, minlength=n)

    def _follow_chunk(self) -> Chunk:
        return Chunk(
            "follows",
            {
                "id": Col("uuid", self.follow_ids),
                "follower_id": Col("uuid", self.user_ids[self.follower]),
                "following_id": Col("uuid", self.user_ids[self.followee]),
                "created_at": _ts(self.follow_created),
            },
        )

    def _profiles(self) -> Chunk:
        r, n = self.rng["profiles"], self.p.users
        last = r.integers(0, len(vocab.LAST_NAMES), n)
        full_name = _join(
            np.char.capitalize(_strs(vocab.FIRST_NAMES)[self.first]),
            " ",
            _strs(vocab.LAST_NAMES)[last],
        )
        self.home_city = r.integers(0, len(vocab.CITIES), n)
        cities = _strs(tuple(c[0] for c in vocab.CITIES))
        has_photo = r.random(n) < 0.5
        return Chunk(
            "user_profiles",
            {
                "id": Col("uuid", new_uuids(r, n)),
                "user_id": Col("uuid", self.user_ids),
                "full_name": text(full_name, r.random(n) < 0.05),
                "bio": text(
                    _strs(vocab.BIO_LINES)[r.integers(0, len(vocab.BIO_LINES), n)],
                    r.random(n) < 0.4,
                ),
                "location": text(cities[self.home_city], r.random(n) < 0.1),
                "cycling_type": text(
                    _strs(vocab.CYCLING_TYPES)[r.integers(0, 6, n)], r.random(n) < 0.15
                ),
                "profile_photo_url": text(
                    _join("https://cdn.example.test/avatars/", self.usernames, ".jpg"), ~has_photo
                ),
                "show_email": Col("bool", r.random(n) < 0.1),
                "show_location": Col("bool", r.random(n) < 0.8),
                "followers_count": Col("int", self.followers_count.astype(np.int64)),
                "following_count": Col("int", self.following_count.astype(np.int64)),
                "created_at": _ts(self.user_created),
                "updated_at": _ts(self.user_created),
            },
        )

    # -- trips -----------------------------------------------------------------------------------
    def _plan_trips(self) -> None:
        r, n, t = self.rng["trips"], self.p.users, self.p.trips
        weights = r.lognormal(0.0, 1.1, n) * (r.random(n) < 0.65)
        if weights.sum() == 0:
            weights = np.ones(n)
        owner = np.repeat(np.arange(n), r.multinomial(t, weights / weights.sum()))
        created = self.user_created[owner] + (
            r.random(t) * (ANCHOR_US - self.user_created[owner])
        ).astype(np.int64)
        published = r.random(t) < 0.7
        published_at = np.minimum(created + (r.random(t) * 3 * DAY_US).astype(np.int64), ANCHOR_US)
        end_day = created // DAY_US - r.integers(0, 8, t)
        distance = np.clip(np.round(r.lognormal(np.log(60.0), 0.9, t), 1), 0.1, 10000.0)
        band = np.digitize(distance * r.lognormal(0.0, 0.35, t), [30.0, 80.0, 160.0, 400.0])
        self.trips = Trips(
            ids=new_uuids(r, t),
            owner=owner,
            created=created,
            published=published,
            private=r.random(t) < 0.05,
            published_at=published_at,
            start_day=end_day - r.integers(0, 11, t),
            end_day=end_day,
            distance=distance,
            difficulty=band,
            first_city=np.where(
                r.random(t) < 0.6, self.home_city[owner], r.integers(0, len(vocab.CITIES), t)
            ),
            n_locations=np.clip(1 + r.poisson(0.9, t), 1, 5),
            n_photos=np.where(
                published, np.clip(r.poisson(1.6, t), 0, 8), np.clip(r.poisson(0.3, t), 0, 2)
            ),
        )

    def _tags(self) -> Chunk:
        r, t = self.rng["tags"], self.p.trips
        v = min(self.p.tags, len(vocab.TAG_WORDS))
        per_trip = np.clip(r.poisson(1.8, t), 0, 6)
        skew = 1.0 / (np.arange(v) + 1.0) ** 1.05
        trip = np.repeat(np.arange(t), per_trip)
        tag = r.choice(v, size=trip.size, p=skew / skew.sum())
        self.tag_trip, self.tag_idx = _unique_pairs(trip, tag, v)
        self.tag_ids = new_uuids(r, v)
        words = _strs(vocab.TAG_WORDS[:v])
        return Chunk(
            "tags",
            {
                "tag_id": Col("uuid", self.tag_ids),
                "name": text(np.char.capitalize(words)),
                "normalized": text(words),
                "usage_count": Col("int", np.bincount(self.tag_idx, minlength=v).astype(np.int64)),
                "created_at": _ts(np.full(v, ANCHOR_US - SPAN_US, dtype=np.int64)),
            },
        )

    def _trip_chunk(self, lo: int, hi: int) -> Iterator[Chunk]:
        tr, n = self.trips, hi - lo
        r = np.random.default_rng(np.random.SeedSequence([self.seed, 99, lo]))
        idx = np.arange(lo, hi)
        cities = _strs(tuple(c[0] for c in vocab.CITIES))
        title = _join(
            _strs(vocab.ADJECTIVES)[r.integers(0, len(vocab.ADJECTIVES), n)],
            " ",
            cities[tr.first_city[idx]],
            " ",
            _strs(vocab.NOUNS)[r.integers(0, len(vocab.NOUNS), n)],
        )
        sentences = _strs(vocab.SENTENCES)
        count = r.integers(2, 7, n)
        description = sentences[r.integers(0, len(sentences), n)]
        for j in range(1, 6):
            extra = _join(description, " ", sentences[r.integers(0, len(sentences), n)])
            description = np.where(count > j, extra, description)
        published = tr.published[idx]
        yield Chunk(
            "trips",
            {
                "trip_id": Col("uuid", tr.ids[idx]),
                "user_id": Col("uuid", self.user_ids[tr.owner[idx]]),
                "title": text(title),
                "description": text(description),
                "status": text(np.where(published, b"PUBLISHED", b"DRAFT")),
                "start_date": Col("date", tr.start_day[idx]),
                "end_date": Col("date", tr.end_day[idx], r.random(n) < 0.1),
                "distance_km": Col("float", tr.distance[idx]),
                "difficulty": text(_strs(vocab.DIFFICULTIES)[tr.difficulty[idx]]),
                "is_private": Col("bool", tr.private[idx]),
                "created_at": _ts(tr.created[idx]),
                "updated_at": _ts(np.where(published, tr.published_at[idx], tr.created[idx])),
                "published_at": _ts(tr.published_at[idx], ~published),
            },
        )
        a, b = np.searchsorted(self.tag_trip, [lo, hi])
        yield Chunk(
            "trip_tags",
            {
                "trip_id": Col("uuid", tr.ids[self.tag_trip[a:b]]),
                "tag_id": Col("uuid", self.tag_ids[self.tag_idx[a:b]]),
            },
            row_time=tr.created[self.tag_trip[a:b]],
        )
        loc_trip = np.repeat(idx, tr.n_locations[idx])
        seq = _seq_within(tr.n_locations[idx])
        city = np.where(
            seq == 0, tr.first_city[loc_trip], r.integers(0, len(vocab.CITIES), loc_trip.size)
        )
        lat = np.array([c[2] for c in vocab.CITIES])[city] + r.normal(0, 0.05, loc_trip.size)
        lon = np.array([c[3] for c in vocab.CITIES])[city] + r.normal(0, 0.05, loc_trip.size)
        yield Chunk(
            "trip_locations",
            {
                "location_id": Col("uuid", new_uuids(r, loc_trip.size)),
                "trip_id": Col("uuid", tr.ids[loc_trip]),
                "name": text(cities[city]),
                "latitude": Col("float", np.round(lat, 6)),
                "longitude": Col("float", np.round(lon, 6)),
                "sequence": Col("int", seq),
            },
            row_time=tr.created[loc_trip],
        )
        photo_trip = np.repeat(idx, tr.n_photos[idx])
        order = _seq_within(tr.n_photos[idx])
        base = _join(
            "https://cdn.example.test/trips/",
            uuid_text(tr.ids[photo_trip]).view("S36").ravel(),
            "/",
            order.astype("S"),
        )
        m = photo_trip.size
        yield Chunk(
            "trip_photos",
            {
                "photo_id": Col("uuid", new_uuids(r, m)),
                "trip_id": Col("uuid", tr.ids[photo_trip]),
                "photo_url": text(_join(base, ".jpg")),
                "thumb_url": text(_join(base, "_thumb.jpg")),
                "caption": text(
                    _strs(vocab.ADJECTIVES)[r.integers(0, len(vocab.ADJECTIVES), m)],
                    r.random(m) < 0.5,
                ),
                "order": Col("int", order),
                "file_size": Col("int", r.integers(200_000, 6_000_000, m)),
                "width": Col("int", np.full(m, 4000, dtype=np.int64)),
                "height": Col("int", np.full(m, 3000, dtype=np.int64)),
                "uploaded_at": _ts(tr.created[photo_trip]),
            },
            row_time=tr.created[photo_trip],
        )

    # -- likes: skewed to popular authors' trips -------------------------------------------------
    def _likes(self) -> Chunk:
        r, tr, n = self.rng["likes"], self.trips, self.p.users
        eligible = tr.published & ~tr.private
        weight = (
            (self.followers_count[tr.owner] + 1.0) ** 0.8
            * r.lognormal(0.0, 1.0, tr.owner.size)
            * eligible
        )
        liker = trip = np.zeros(0, dtype=np.int64)
        if self.p.likes and weight.sum() > 0:
            drawn = int(self.p.likes * 1.2) + 10
            trip = r.choice(tr.owner.size, size=drawn, p=weight / weight.sum())
            liker = r.integers(0, n, drawn)
            keep = liker != tr.owner[trip]
            liker, trip = _unique_pairs(liker[keep], trip[keep], tr.owner.size)
            if liker.size > self.p.likes:
                pick = np.sort(r.choice(liker.size, self.p.likes, replace=False))
                liker, trip = liker[pick], trip[pick]
        since = np.maximum(tr.published_at[trip], self.user_created[liker])
        return Chunk(
            "likes",
            {
                "id": Col("uuid", new_uuids(r, liker.size)),
                "user_id": Col("uuid", self.user_ids[liker]),
                "trip_id": Col("uuid", tr.ids[trip]),
                "created_at": _ts(
                    since
                    + (r.random(liker.size) * np.maximum(ANCHOR_US - since, 0)).astype(np.int64)
                ),
            },
        )

    # -- what the API would have computed --------------------------------------------------------
    def _stats(self) -> Iterator[Chunk]:
        tr, n = self.trips, self.p.users
        pub = tr.published
        owners = tr.owner[pub]
        total_trips = np.bincount(owners, minlength=n)
        km = np.round(np.bincount(owners, weights=tr.distance[pub], minlength=n), 1)
        photos = np.bincount(owners, weights=tr.n_photos[pub], minlength=n).astype(np.int64)
        last_day = np.full(n, np.iinfo(np.int64).min)
        np.maximum.at(last_day, owners, tr.end_day[pub])
        first_pub = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(first_pub, owners, tr.published_at[pub])
        last_pub = np.full(n, np.iinfo(np.int64).min)
        np.maximum.at(last_pub, owners, tr.published_at[pub])
        country_of_city = np.array([c[1] for c in vocab.CITIES])
        codes = np.unique(country_of_city)
        country = np.searchsorted(codes, country_of_city[tr.first_city[pub]])
        pair_user, pair_country = _unique_pairs(owners, country, codes.size)
        countries = np.bincount(pair_user, minlength=n)
        has = (total_trips > 0) | (self.followers_count >= 100)
        users = np.flatnonzero(has)
        splits = (
            np.searchsorted(pair_user, users, side="left"),
            np.searchsorted(pair_user, users, side="right"),
        )
        visited = [
            json.dumps(codes[pair_country[a:b]].tolist()) for a, b in zip(*splits, strict=True)
        ]
        met = {
            "FIRST_TRIP": total_trips >= 1,
            "PROLIFIC": total_trips >= 25,
            "CENTURY": km >= 100,
            "VOYAGER": km >= 1000,
            "MARATHONER": km >= 5000,
            "EXPLORER": countries >= 5,
            "GLOBETROTTER": countries >= 10,
            "PHOTOGRAPHER": photos >= 50,
            "INFLUENCER": self.followers_count >= 100,
        }
        achieved = np.sum([m for m in met.values()], axis=0)
        updated = np.where(total_trips > 0, last_pub, self.user_created)
        r = np.random.default_rng(np.random.SeedSequence([self.seed, 7]))
        yield Chunk(
            "user_stats",
            {
                "id": Col("uuid", new_uuids(r, users.size)),
                "user_id": Col("uuid", self.user_ids[users]),
                "total_trips": Col("int", total_trips[users].astype(np.int64)),
                "total_kilometers": Col("float", km[users]),
                "countries_visited": text(np.array(visited, dtype="S")),
                "total_photos": Col("int", photos[users]),
                "achievements_count": Col("int", achieved[users].astype(np.int64)),
                "last_trip_date": Col(
                    "date",
                    np.where(total_trips[users] > 0, last_day[users], 0),
                    total_trips[users] == 0,
                ),
                "created_at": _ts(
                    np.where(total_trips[users] > 0, first_pub[users], self.user_created[users])
                ),
                "updated_at": _ts(updated[users]),
            },
        )
        rows_user = np.concatenate([np.flatnonzero(m & has) for m in met.values()])
        rows_code = np.concatenate(
            [np.full(int((m & has).sum()), code.encode(), dtype="S20") for code, m in met.items()]
        )
        yield Chunk(
            "user_achievements",
            {
                "id": Col("uuid", new_uuids(r, rows_user.size)),
                "user_id": Col("uuid", self.user_ids[rows_user]),
                "achievement_id": Col("code", rows_code),
                "awarded_at": _ts(updated[rows_user]),
            },
            row_time=updated[rows_user],
        )
