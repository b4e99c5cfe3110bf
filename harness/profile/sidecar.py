"""py-spy in a sidecar container that shares the backend container's PID namespace.

The sidecar runs from the harness's load-generator image (its lock pins py-spy) as root with
CAP_SYS_PTRACE, which py-spy needs to read another process's memory, whatever user the
backend runs as; it has no network. Its entry point is harness/profile/targets.py, which
picks the backend's Python process and becomes py-spy. SIGINT makes py-spy write its file,
which is copied out of the stopped container (no bind mount: the daemon may be remote, and
a root-owned file in the run folder would outlive a non-root user's clean-up).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tarfile
import time
from collections.abc import Mapping
from pathlib import Path

import docker
import docker.errors
import requests.exceptions

from harness.profile import targets
from harness.profile.pyspy import (
    START_TIMEOUT_S,
    STOP_TIMEOUT_S,
    NotRecorded,
    Sampling,
    first_error,
    not_recorded,
)

INSIDE_OUTPUT = "/tmp/backend.txt"  # noqa: S108  (the sidecar's own /tmp)
_POLL_S = 0.2
_DENIED_HINT = (
    "the sidecar runs as root with CAP_SYS_PTRACE; a daemon that drops it (rootless Docker, "
    "a security profile) keeps py-spy out: profile a local stack (--provider local) instead"
)
# What Docker raises when the daemon refuses or does not answer.
DOCKER_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException)


class SidecarRecording:
    """One profiling sidecar next to one backend container."""

    def __init__(
        self,
        client: docker.DockerClient,
        container_id: str,
        image: str,
        labels: Mapping[str, str],
        raw: Path,
        sampling: Sampling,
    ) -> None:
        self.client = client
        self.container_id = container_id
        self.image = image
        self.labels = dict(labels)
        self.raw = raw
        self.sampling = sampling
        self._sidecar: docker.models.containers.Container | None = None

    def start(self) -> str:
        source = Path(targets.__file__).read_text(encoding="utf-8")
        try:
            # create, not run: run would try to pull an image that is not here
            self._sidecar = self.client.containers.create(
                self.image,
                entrypoint=["python", "-c", source],
                command=self.sampling.record_options(INSIDE_OUTPUT),
                user="0:0",
                pid_mode=f"container:{self.container_id}",
                cap_add=["SYS_PTRACE"],
                network_mode="none",
                labels=self.labels,
                name=f"{self._backend_name()}-profiler-{os.getpid()}",
            )
        except docker.errors.ImageNotFound:
            raise NotRecorded(
                "skipped",
                f"the profiler image {self.image} is not here",
                "build the images (`harness images`)",
            ) from None
        except docker.errors.APIError as exc:  # e.g. the backend container is gone
            raise self._cannot_join(exc) from None
        try:
            self._sidecar.start()
        except docker.errors.APIError as exc:  # e.g. the backend container has stopped
            raise self._cannot_join(exc) from None
        return self._await_sampling(self._sidecar)

    def _cannot_join(self, exc: docker.errors.APIError) -> NotRecorded:
        return NotRecorded(
            "failed",
            f"the sidecar could not join the backend container {self.container_id[:12]}: "
            f"{exc.explanation or exc}",
        )

    def _await_sampling(self, sidecar: docker.models.containers.Container) -> str:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            sidecar.reload()
            ended = sidecar.status in ("exited", "dead")
            log = sidecar.logs().decode(errors="replace")  # read after the status: all of it
            said = _answer(log)
            if "skip" in said:
                raise NotRecorded("skipped", str(said["skip"]), _text(said.get("hint")))
            if targets.SAMPLING_LINE in log:
                return (
                    f"{said.get('describe', 'the backend')} in container {self.container_id[:12]}"
                )
            if ended:
                raise not_recorded(log, _DENIED_HINT)
            if time.monotonic() > deadline:
                raise NotRecorded(
                    "failed", f"py-spy did not start sampling within {START_TIMEOUT_S:.0f} s"
                )
            time.sleep(_POLL_S)  # polling the sidecar's log for py-spy's first line

    def _backend_name(self) -> str:
        """The sampled container's name, which names the sidecar beside it in `docker ps`."""
        try:
            return str(self.client.containers.get(self.container_id).name)
        except DOCKER_ERRORS:
            return self.container_id[:12]

    def stop(self) -> None:
        sidecar = self._sidecar
        if sidecar is None:
            return
        # An APIError: it has ended already (the backend stopped), its file is written.
        with contextlib.suppress(docker.errors.APIError):
            sidecar.kill(signal="SIGINT")
        try:
            sidecar.wait(timeout=STOP_TIMEOUT_S)
        except requests.exceptions.RequestException:
            raise NotRecorded(
                "failed",
                f"py-spy did not write its profile within {STOP_TIMEOUT_S:.0f} s of SIGINT",
            ) from None
        try:
            stream, _ = sidecar.get_archive(INSIDE_OUTPUT)
        except docker.errors.NotFound:
            raise NotRecorded(
                "failed", f"py-spy: {first_error(sidecar.logs().decode(errors='replace'))}"
            ) from None
        self.raw.parent.mkdir(parents=True, exist_ok=True)
        self.raw.write_bytes(_only_file(b"".join(stream)))

    def discard(self) -> None:
        if self._sidecar is not None:
            # Gone already; else the stack's reaper matches its labels.
            with contextlib.suppress(*DOCKER_ERRORS):
                self._sidecar.remove(force=True)
            self._sidecar = None


def _answer(log: str) -> dict[str, object]:
    """The entry point's JSON line (its first line), or {} before it is written."""
    first = log.lstrip().partition("\n")[0]
    try:
        said = json.loads(first)
    except ValueError:
        return {}
    return said if isinstance(said, dict) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _only_file(tar_bytes: bytes) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as archive:
        member = next(m for m in archive.getmembers() if m.isfile())
        extracted = archive.extractfile(member)
        return extracted.read() if extracted is not None else b""
