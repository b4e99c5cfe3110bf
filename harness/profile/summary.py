"""The profile's one file, profile/summary.json: its model, and writing and reading it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import ConfigError

SCHEMA_VERSION: Final = 1
SUMMARY = "summary.json"
RAW = "backend.txt"  # py-spy's collapsed stacks, kept next to the summary

Status = Literal["ok", "skipped", "failed"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class TopFunction(_Model):
    """A function's share of the samples: as the leaf (own time) and anywhere in the stack."""

    function: str
    file: str | None = None  # None for a frame py-spy gives no file (native, unknown)
    line: int | None = None  # the function's first line (py-spy --function)
    own_samples: int
    own_share: float = Field(ge=0, le=1)
    total_samples: int
    total_share: float = Field(ge=0, le=1)


class FlameNode(_Model):
    """One box of the flame graph: `value` counts its samples and its children's."""

    id: int
    parent: int | None  # None for the root ("all"); a parent's id is always smaller
    label: str
    value: int


class ProfileSummary(_Model):
    """What the profiler recorded, or why it did not.

    Shares are of all samples. Samples are py-spy's active ones: idle threads (waiting on a
    socket, the database, a lock) are not sampled, so the profile shows where CPU goes, and
    `samples / (rate_hz * duration_s)` is the average number of busy threads.
    """

    schema_version: Literal[1] = SCHEMA_VERSION
    status: Status
    reason: str = ""  # why skipped or failed ("" when ok)
    hint: str | None = None  # what to do about it
    target: str | None = None  # the process sampled, e.g. "pid 1 `python -m backend` (uid 10001)"
    samples: int = 0
    waiting_samples: int = 0  # left out: threads caught waiting (collapsed.WAITING)
    processes: int = 0  # Python processes that were sampled (uvicorn workers count apart)
    rate_hz: int | None = None
    duration_s: float | None = None
    top: list[TopFunction] = Field(default_factory=list)
    flame: list[FlameNode] = Field(default_factory=list)


def write_summary(folder: Path, summary: ProfileSummary) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SUMMARY
    path.write_text(summary.model_dump_json(indent=1) + "\n", encoding="utf-8")
    return path


def read_summary(folder: Path) -> ProfileSummary | None:
    """The summary in a profile folder; None when there is none (a run before profiling)."""
    path = folder / SUMMARY
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path} cannot be read: {exc}", "re-run, or delete the file") from None
    try:
        return ProfileSummary.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(
            f"{path} is not a profile summary this harness reads: {exc.errors()[0]['msg']}",
            "re-run with this version of the harness",
        ) from None
