"""A stack as an object: what the rest of the harness asks of it, whatever provider runs it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote, urlsplit

import psutil

from harness.docker_api import docker_client
from harness.errors import StackError
from harness.labels import labels_for, stack_filter
from harness.owner import Owner
from harness.stack.docker_provider import (
    BACKEND_ALIAS,
    docker_backend_stopped,
    docker_stack_alive,
    remove_stack_resources,
)
from harness.stack.local_provider import local_stack_alive, stop_process_group
from harness.stack.state import STATE_FILE, StackState


@dataclass(frozen=True)
class LoadSite:
    """Where the load generator runs against this stack and the URL it uses from there."""

    target: str
    network: str | None = None  # the stack's private Docker network; None: processes on this host
    image: str | None = None  # the load-generator image built with the stack


@dataclass(frozen=True)
class Services:
    """What to sample and watch for crashes: the stack's containers, or its backend process."""

    container_label: str | None = None
    backend_pid: int | None = None
    backend_log: Path | None = None
    watched: bool = True  # False: sampled only; a crash of what is not ours does not stop a run


class Stack:
    """A running stack. Subclasses answer for their provider; nothing else compares kinds."""

    kind: ClassVar[str]
    # Remote Locust workers (other machines) can reach its backend only if it is not ours
    reachable_from_other_machines: ClassVar[bool] = False
    # Writing to its database (seeding) needs the user's explicit permission
    writes_need_permission: ClassVar[bool] = False
    # It runs the harness's images (built before it starts, the load generator's among them)
    runs_images: ClassVar[bool] = False

    def __init__(self, state: StackState) -> None:
        self.state = state

    @property
    def stack_id(self) -> str:
        return self.state.stack_id

    @property
    def backend_url(self) -> str:
        """The backend as seen from this host."""
        return self.state.backend_url

    @property
    def db_dsn(self) -> str | None:
        return self.state.db_dsn

    @property
    def folder(self) -> Path:
        return Path(self.state.folder)

    @property
    def bcrypt_rounds(self) -> int:
        return self.state.bcrypt_rounds

    @property
    def backend_workers(self) -> int | None:
        """The backend's server processes (uvicorn --workers); None: the harness does not know."""
        return self.state.backend_workers

    @property
    def hash_rounds(self) -> int | None:
        """The backend's bcrypt cost, when the harness set it; None when it does not know."""
        return self.state.hash_rounds

    @property
    def project_file(self) -> Path | None:
        """The project file the stack was started from; None for an external or older one."""
        return Path(self.state.project_file) if self.state.project_file else None

    def describe(self) -> str:
        return f"{self.kind} stack {self.stack_id}"

    def labels(self, role: str, owner: Owner) -> dict[str, str]:
        """Labels for a Docker object that belongs to this stack (reaped with it)."""
        return labels_for(self.stack_id, owner, role)

    def load_site(self) -> LoadSite:
        return LoadSite(target=self.backend_url)

    def services(self) -> Services | None:
        """None: nothing of it is ours to sample or watch."""
        return None

    def secrets(self) -> list[str]:
        """Values that must never reach a file or line the harness writes."""
        password = urlsplit(self.db_dsn).password if self.db_dsn else None
        return [unquote(password)] if password else []

    def alive(self) -> bool:
        return True

    # Its backend can be stopped and started again (the database restored in between)
    restarts_backend: ClassVar[bool] = False

    def backend_stopped(self) -> AbstractContextManager[None]:
        """The backend stopped for the block, so nothing holds its database; started again and
        ready after it. Only a stack whose `restarts_backend` is True can."""
        return _cannot_restart(self)

    def stop(self) -> None:
        (self.folder / STATE_FILE).unlink(missing_ok=True)


@contextmanager
def _cannot_restart(stack: Stack) -> Iterator[None]:
    raise StackError(
        f"the harness cannot stop and restart the backend of a {stack.kind} stack",
        "use the Docker provider (--provider docker) for this command",
    )
    yield


class DockerStack(Stack):
    kind = "docker"
    runs_images = True

    def load_site(self) -> LoadSite:
        # Locust containers join the private network and reach the backend by its alias
        return LoadSite(
            target=f"http://{BACKEND_ALIAS}:{self.state.backend_port}",
            network=self.state.network,
            image=self.state.images.get("locust"),
        )

    def services(self) -> Services:
        return Services(container_label=stack_filter(self.stack_id))

    restarts_backend = True

    def backend_stopped(self) -> AbstractContextManager[None]:
        return docker_backend_stopped(self.state)

    def alive(self) -> bool:
        try:
            return docker_stack_alive(docker_client(), self.state)
        except StackError:
            return False

    def stop(self) -> None:
        remove_stack_resources(docker_client(), self.stack_id)
        super().stop()


class LocalStack(Stack):
    kind = "local"

    def services(self) -> Services | None:
        if self.state.pid is None:
            return None
        return Services(backend_pid=self.state.pid, backend_log=self.folder / "backend.log")

    def alive(self) -> bool:
        return local_stack_alive(self.state)

    def stop(self) -> None:
        if self.state.pid is not None and self.alive():
            stop_process_group(self.state.pid)
        super().stop()


class ExternalStack(Stack):
    """An already-running backend: not ours to sample, watch or stop, only to measure."""

    kind = "external"
    reachable_from_other_machines = True
    writes_need_permission = True

    def services(self) -> Services | None:
        """On this machine, the process listening on the target's port is sampled."""
        pid = listening_pid(self.backend_url)
        return Services(backend_pid=pid, watched=False) if pid is not None else None


def listening_pid(url: str) -> int | None:
    """The process listening on a loopback URL's port, if this user may see it."""
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:
        return None
    return next(
        (
            c.pid
            for c in connections
            if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid
        ),
        None,
    )


KINDS: dict[str, type[Stack]] = {cls.kind: cls for cls in (DockerStack, LocalStack, ExternalStack)}


def kind_of(provider: str) -> type[Stack]:
    return KINDS[provider]


def stack_of(state: StackState) -> Stack:
    return KINDS[state.provider](state)
