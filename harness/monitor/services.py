"""Watching the stack's own services during a load: a crash or a restart becomes an incident.

A Docker stack is watched through the daemon's event stream (die / start / oom of the
containers carrying the stack's label), a local stack by polling its backend process. A
service that stays down past a grace period ends the load early: what follows would only
measure connection errors. After the load, the tail of each affected service's log is
kept in the run folder, with the stack's secrets masked, so the report can show why.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import psutil
import requests

from harness.docker_api import docker_client
from harness.labels import ROLE
from harness.owner import is_running

SERVICE_ROLES = ("backend", "postgres")
DOWN_GRACE_S = 20.0  # a `docker restart` of PostgreSQL takes a few seconds; a crash stays down
LOG_TAIL_LINES = 80
FOLDER = "services"


@dataclass
class Incident:
    """One service going down during the load, and whether (and when) it came back."""

    service: str
    event: str  # exited | oom
    at_s: float  # seconds since the watch began
    exit_code: int | None = None
    back_after_s: float | None = None
    log_tail: str | None = None  # run-folder path of the saved log tail


class ServiceWatch:
    """Common part: incidents, the down-too-long check, saving log tails."""

    def __init__(self, grace_s: float = DOWN_GRACE_S) -> None:
        self.grace_s = grace_s
        self.began = time.time()
        self.incidents: list[Incident] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def went_down(self, service: str, event: str, at: float, exit_code: int | None) -> None:
        with self._lock:
            open_ = self._open(service)
            if open_ is not None:  # an oom is followed by its die: one incident, not two
                if exit_code is not None and open_.exit_code is None:
                    open_.exit_code = exit_code
                return
            self.incidents.append(
                Incident(service, event, round(max(at - self.began, 0.0), 1), exit_code)
            )

    def came_back(self, service: str, at: float) -> None:
        with self._lock:
            open_ = self._open(service)
            if open_ is not None:
                open_.back_after_s = round(max(at - self.began - open_.at_s, 0.0), 1)

    def _open(self, service: str) -> Incident | None:
        for incident in reversed(self.incidents):
            if incident.service == service and incident.back_after_s is None:
                return incident
        return None

    def abort_reason(self) -> str | None:
        """Why the load should stop now: a service down for longer than the grace period."""
        now = time.time() - self.began
        with self._lock:
            for incident in self.incidents:
                if incident.back_after_s is None and now - incident.at_s >= self.grace_s:
                    return (
                        f"{incident.service} has been down for {now - incident.at_s:.0f} s; "
                        "the load was stopped early"
                    )
        return None

    def records(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(i) for i in self.incidents]

    def save_log_tails(self, run_dir: Path, secrets: Iterable[str]) -> None:
        """The last lines of every affected service's log, secrets masked, in run_dir/services."""
        hidden = [s for s in secrets if s]
        for service in sorted({i.service for i in self.incidents}):
            text = self.log_tail(service)
            if text is None:
                continue
            for secret in hidden:
                text = text.replace(secret, "***")
            folder = run_dir / FOLDER
            folder.mkdir(exist_ok=True)
            (folder / f"{service}.log").write_text(text)
            for incident in self.incidents:
                if incident.service == service:
                    incident.log_tail = f"{FOLDER}/{service}.log"

    def log_tail(self, service: str) -> str | None:
        raise NotImplementedError

    def start(self) -> ServiceWatch:
        raise NotImplementedError

    def stop(self) -> None:
        self._stop.set()


class ContainerWatch(ServiceWatch):
    """The stack's service containers, through the Docker event stream."""

    def __init__(
        self, label: str, client: docker.DockerClient | None = None, grace_s: float = DOWN_GRACE_S
    ) -> None:
        super().__init__(grace_s)
        self.label = label
        self.client = client or docker_client()
        self._ids: dict[str, str] = {}  # service -> container id
        self._stream: Any = None
        self._thread = threading.Thread(target=self._follow, name="watch-services", daemon=True)

    def start(self) -> ContainerWatch:
        for container in self.client.containers.list(
            all=True, filters={"label": self.label}, ignore_removed=True
        ):
            role = (container.labels or {}).get(ROLE)
            if role in SERVICE_ROLES:
                self._ids[role] = container.id
                if container.status not in ("running", "restarting"):
                    self.went_down(role, "exited", time.time(), None)  # down before we looked
        self._stream = self.client.events(
            since=int(self.began),
            filters={"type": "container", "label": self.label, "event": ["die", "start", "oom"]},
            decode=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        super().stop()
        if self._stream is not None:
            self._stream.close()  # unblocks the reading thread
        self._thread.join(timeout=10)

    def _follow(self) -> None:
        try:
            for event in self._stream:
                if self._stop.is_set():
                    return
                attributes = (event.get("Actor") or {}).get("Attributes") or {}
                role = attributes.get(ROLE)
                if role not in SERVICE_ROLES:
                    continue  # Locust containers come and go by design
                at = int(event.get("timeNano") or time.time_ns()) / 1e9
                action = event.get("Action") or event.get("status")
                if action == "start":
                    self.came_back(role, at)
                elif action in ("die", "oom"):
                    code = attributes.get("exitCode")
                    exit_code = int(code) if code is not None and code.isdigit() else None
                    self.went_down(role, "oom" if action == "oom" else "exited", at, exit_code)
        except (docker.errors.DockerException, requests.exceptions.RequestException, ValueError):
            pass  # stream closed by stop(), or the daemon went away
        except AttributeError:
            pass  # docker-py's stream raises this when closed while a read is pending

    def log_tail(self, service: str) -> str | None:
        container_id = self._ids.get(service)
        if container_id is None:
            return None
        try:
            raw = self.client.containers.get(container_id).logs(
                tail=LOG_TAIL_LINES, timestamps=True
            )
        except docker.errors.DockerException:
            return None
        return bytes(raw).decode("utf-8", errors="replace")


class ProcessWatch(ServiceWatch):
    """A local stack's backend process, polled twice a second."""

    def __init__(self, pid: int, log: Path, grace_s: float = DOWN_GRACE_S) -> None:
        super().__init__(grace_s)
        self.log = log
        try:
            self._process: psutil.Process | None = psutil.Process(pid)
        except psutil.NoSuchProcess:
            self._process = None
        self._thread = threading.Thread(target=self._poll, name="watch-backend", daemon=True)

    def start(self) -> ProcessWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        super().stop()
        self._thread.join(timeout=5)

    def _poll(self) -> None:
        while True:
            if not self._alive():
                self.went_down("backend", "exited", time.time(), None)
                return  # nothing restarts a local backend
            if self._stop.wait(0.5):
                return

    def _alive(self) -> bool:
        return self._process is not None and is_running(self._process)

    def log_tail(self, service: str) -> str | None:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return None
        return "\n".join(lines[-LOG_TAIL_LINES:]) + "\n"
