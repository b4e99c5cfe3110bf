"""The profiler around a measured window: py-spy on the backend, then profile/summary.json.

It never fails a run: anything that keeps py-spy from recording ends as a summary with status
"skipped" (nothing to sample, or not allowed to) or "failed" (py-spy or Docker erred) and
its reason; only bugs raise.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import docker

from harness.docker_api import docker_client
from harness.errors import DockerUnavailable
from harness.labels import ROLE
from harness.profile.collapsed import (
    flame_tree,
    parse_collapsed,
    process_count,
    sample_count,
    top_functions,
    working,
)
from harness.profile.local import LocalRecording
from harness.profile.pyspy import NotRecorded, Recording, Sampling
from harness.profile.sidecar import DOCKER_ERRORS, SidecarRecording
from harness.profile.summary import RAW, ProfileSummary, write_summary

# The role label on the sidecar (with the stack's labels, so the stack's reaper removes it).
PROFILER_ROLE = "profiler"
BACKEND_ROLE = "backend"


@dataclass(frozen=True)
class DockerTarget:
    """A backend container; py-spy runs in a sidecar from `image` carrying `labels`."""

    container_id: str
    image: str  # the harness's load-generator image (it has py-spy)
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LocalTarget:
    """A backend process on this machine (it, or its first Python descendant, is sampled)."""

    pid: int


@dataclass(frozen=True)
class Skip:
    """Nothing to profile, and why: the summary says so like any other outcome."""

    reason: str
    hint: str | None = None


PROFILING_OFF = Skip("profiling is turned off for this run")


def not_ours(what: str) -> Skip:
    """The target when the backend is not a process the harness started (an external stack)."""
    return Skip(
        f"the backend ({what}) was not started by the harness: py-spy samples only its own stacks",
        "start the backend with `harness up` (Docker or local provider) to profile it",
    )


Target = DockerTarget | LocalTarget | Skip


class Profiler:
    """start() before the measured window, stop() after it; out/summary.json says what came of
    it, whatever the target (a Skip too), so the report always has a profile section."""

    def __init__(
        self,
        target: Target,
        out: Path,
        *,
        sampling: Sampling | None = None,
        client: docker.DockerClient | None = None,
    ) -> None:
        self.target = target
        self.out = out
        self.sampling = sampling or Sampling()
        self.client = client
        self._recording: Recording | None = None
        self._described: str | None = None
        self._began: float | None = None
        self._summary: ProfileSummary | None = None

    @property
    def raw(self) -> Path:
        return self.out / RAW

    def start(self) -> Profiler:
        if isinstance(self.target, Skip):
            self._not_recorded(NotRecorded("skipped", self.target.reason, self.target.hint))
            return self
        try:
            self._recording = self._recording_for(self.target)
            self._described = self._recording.start()
            self._began = time.monotonic()
        except NotRecorded as exc:
            self._not_recorded(exc)
        except (DockerUnavailable, *DOCKER_ERRORS) as exc:
            self._not_recorded(NotRecorded("failed", f"Docker: {_first_line(exc)}"))
        return self

    def stop(self) -> ProfileSummary:
        """The summary (also in out/summary.json); a second call returns the same."""
        if self._summary is not None:
            return self._summary
        assert self._recording is not None and self._began is not None, "stop() before start()"
        duration = time.monotonic() - self._began
        try:
            self._recording.stop()
        except NotRecorded as exc:
            return self._not_recorded(exc)
        except DOCKER_ERRORS as exc:
            return self._not_recorded(NotRecorded("failed", f"Docker: {_first_line(exc)}"))
        everything = parse_collapsed(self.raw.read_text(encoding="utf-8", errors="replace"))
        stacks = working(everything)
        return self._finish(
            ProfileSummary(
                status="ok",
                target=self._described,
                samples=sample_count(stacks),
                waiting_samples=sample_count(everything) - sample_count(stacks),
                processes=process_count(everything),
                rate_hz=self.sampling.rate_hz,
                duration_s=round(duration, 1),
                top=top_functions(stacks),
                flame=flame_tree(stacks),
            )
        )

    def __enter__(self) -> Profiler:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _recording_for(self, target: DockerTarget | LocalTarget) -> Recording:
        if isinstance(target, LocalTarget):
            return LocalRecording(target.pid, self.raw, self.sampling)
        self.client = self.client or docker_client()
        return SidecarRecording(
            self.client, target.container_id, target.image, target.labels, self.raw, self.sampling
        )

    def _not_recorded(self, why: NotRecorded) -> ProfileSummary:
        return self._finish(
            ProfileSummary(
                status=why.status,
                reason=why.reason,
                hint=why.hint,
                target=self._described,
                rate_hz=self.sampling.rate_hz if why.status == "failed" else None,
            )
        )

    def _finish(self, summary: ProfileSummary) -> ProfileSummary:
        if self._recording is not None:
            self._recording.discard()
        write_summary(self.out, summary)
        self._summary = summary
        return summary


def backend_container(client: docker.DockerClient, stack_label: str) -> str | None:
    """The id of a stack's running backend container (`stack_label` as Services gives it)."""
    found = client.containers.list(filters={"label": [stack_label, f"{ROLE}={BACKEND_ROLE}"]})
    return str(found[0].id) if found else None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
