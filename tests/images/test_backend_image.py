"""A user's Dockerfile: which bases it needs, and which of them an offline stand-in can replace."""

from __future__ import annotations

import pytest

from harness.images.backend_image import external_bases, substitute_for

REAL_SHAPE = """
FROM python:3.12-slim as builder
RUN pip install poetry
FROM python:3.12-slim AS development
COPY --from=builder /usr/local/lib/python3.12/site-packages /usr/local/lib/python3.12/site-packages
FROM builder AS test
ARG LATE=ignored
FROM python:3.12-slim AS production
"""


def test_stages_are_not_bases() -> None:
    assert external_bases(REAL_SHAPE, {}) == ["python:3.12-slim"]


def test_args_before_the_first_from_resolve_with_build_args() -> None:
    text = "ARG BASE=python:3.11-slim\nFROM ${BASE} AS build\nFROM $BASE\nFROM scratch\n"
    assert external_bases(text, {}) == ["python:3.11-slim"]
    assert external_bases(text, {"BASE": "python:3.13"}) == ["python:3.13"]


@pytest.mark.parametrize(
    ("ref", "suite", "python"),
    [
        ("python:3.11-slim", "bookworm", "3.11"),
        ("python:3.12-slim", "trixie", "3.13"),
        ("python:3.12.7-slim-bookworm", "trixie", "3.13"),
        ("docker.io/library/python:3.13", "trixie", "3.13"),
    ],
)
def test_official_python_bases_have_a_stand_in(ref: str, suite: str, python: str) -> None:
    substitute = substitute_for(ref)
    assert substitute is not None and (substitute.suite, substitute.python) == (suite, python)
    text = substitute.dockerfile("rootfs:tag")
    minor = ref.split(":")[1][:4]
    assert f"/usr/local/lib/python{minor}/site-packages" in text  # where COPY --from looks
    assert "update-ca-certificates" in text and "PIP_CERT=" in text


@pytest.mark.parametrize("ref", ["node:20", "python:2.7", "python:3.9-slim", "ubuntu:24.04"])
def test_other_bases_have_none(ref: str) -> None:
    assert substitute_for(ref) is None
