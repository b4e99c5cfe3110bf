"""Request bodies and their validation rules, as the contract states them."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{3,30}$")
# Deliberately plain: one @, a dotted domain, no spaces; the service stores it lower-case.
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")
# Special-use domain names (RFC 6761 and after) that email-validator, which the real service
# uses, refuses: an address there can never be delivered to. example.com stays valid.
SPECIAL_USE_DOMAINS = ("arpa", "invalid", "local", "localhost", "onion", "test")
SPECIAL_RE = re.compile(r"[^A-Za-z0-9]")
DIFFICULTIES = ("easy", "moderate", "difficult", "very_difficult", "extreme")


def _storable(value: str) -> str:
    # PostgreSQL rejects NUL in text and asyncpg cannot encode lone surrogates: both would be 500s.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid UTF-8 text") from None
    return value


Text = Annotated[str, AfterValidator(_storable)]


def is_valid_username(value: str) -> bool:
    return USERNAME_RE.fullmatch(value) is not None


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)


class RegisterIn(Body):
    username: Text = Field(max_length=30)
    email: Text = Field(max_length=255)
    password: Text = Field(max_length=128)

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        if not is_valid_username(value):
            raise ValueError("username must be 3-30 characters of letters, digits and underscores")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip()
        if not EMAIL_RE.fullmatch(value):
            raise ValueError("email must be a valid e-mail address")
        domain = value.rpartition("@")[2].lower()
        if any(domain == name or domain.endswith("." + name) for name in SPECIAL_USE_DOMAINS):
            raise ValueError("email must not use a special-use or reserved domain name")
        return value.lower()

    @field_validator("password")
    @classmethod
    def _password(cls, value: str) -> str:
        if len(value) < 8:
            raise ValueError("password must be at least 8 characters long")
        if len(value.encode("utf-8")) > 72:
            raise ValueError("password must be at most 72 bytes in UTF-8")
        if not (
            re.search(r"[A-Z]", value)
            and re.search(r"[a-z]", value)
            and re.search(r"[0-9]", value)
            and SPECIAL_RE.search(value)
        ):
            raise ValueError(
                "password needs an upper-case letter, a lower-case letter, a digit and a special"
                " character"
            )
        return value


class LoginIn(Body):
    login: Text = Field(min_length=1, max_length=255)
    password: Text = Field(min_length=1, max_length=128)


class ProfileUpdateIn(Body):
    full_name: Text | None = Field(default=None, max_length=100)
    bio: Text | None = Field(default=None, max_length=500)
    location: Text | None = Field(default=None, max_length=100)
    cycling_type: Text | None = Field(default=None, max_length=50)
    profile_visibility: Literal["public", "private"] | None = None
    trip_visibility: Literal["public", "followers", "private"] | None = None
    show_email: bool | None = None
    show_location: bool | None = None


class LocationIn(Body):
    name: Text = Field(min_length=1, max_length=200)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class TripCreateIn(Body):
    title: Text = Field(min_length=1, max_length=200)
    description: Text = Field(min_length=1, max_length=50000)
    start_date: date
    end_date: date | None = None
    distance_km: float | None = Field(default=None, ge=0.1, le=10000)
    difficulty: Literal["easy", "moderate", "difficult", "very_difficult", "extreme"] | None = None
    is_private: bool = False
    locations: list[LocationIn] = Field(default_factory=list, max_length=50)
    tags: list[Annotated[Text, Field(max_length=50)]] = Field(default_factory=list, max_length=10)

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("title must not be blank")
        return value.strip()

    @field_validator("start_date")
    @classmethod
    def _not_future(cls, value: date) -> date:
        if value > date.today():
            raise ValueError("start_date must not be in the future")
        return value

    @field_validator("end_date")
    @classmethod
    def _end_after_start(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start_date")
        if value is not None and isinstance(start, date) and value < start:
            raise ValueError("end_date must be on or after start_date")
        return value


def normalise_tag(name: str) -> str:
    return " ".join(name.split()).lower()
