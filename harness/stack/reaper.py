"""Finding and removing what crashed runs left: labelled Docker objects and local stack folders."""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors
import psutil

from harness.labels import OWNED, READY_MARKER_ROLE, ROLE, STACK, owner_of, stack_selector
from harness.owner import Owner, owner_from_environment, still_running_after
from harness.stack.docker_provider import remove_stack_resources
from harness.stack.local_provider import local_stack_alive, stop_process_group
from harness.stack.state import load

OWNER_FILE = "owner.json"


@dataclass
class CleanReport:
    stacks: list[str] = field(default_factory=list)
    containers: int = 0
    networks: int = 0
    volumes: int = 0
    folders: int = 0
    processes: int = 0

    @property
    def total(self) -> int:
        return self.containers + self.networks + self.volumes + self.folders + self.processes

    def describe(self) -> str:
        return (
            f"{self.containers} container(s), {self.networks} network(s), "
            f"{self.volumes} volume(s), {self.folders} folder(s), {self.processes} process(es)"
        )


def write_owner(folder: Path, owner: Owner) -> None:
    (folder / OWNER_FILE).write_text(json.dumps({"pid": owner.pid, "start": owner.start}))


def _folder_owner(folder: Path) -> Owner | None:
    try:
        raw = json.loads((folder / OWNER_FILE).read_text())
        return Owner(int(raw["pid"]), str(raw["start"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def orphaned_docker_stacks(client: docker.DockerClient) -> list[str]:
    """Stacks none of whose owners is alive and that never reached the persistent ready state."""
    owners: dict[str, list[Owner | None]] = defaultdict(list)
    ready: set[str] = set()
    selector = {"label": OWNED}
    objects: list[dict[str, str]] = []
    for container in client.containers.list(all=True, filters=selector, ignore_removed=True):
        objects.append(dict(container.labels or {}))
    for network in client.networks.list(filters=selector):
        objects.append(dict(network.attrs.get("Labels") or {}))
    for volume in client.volumes.list(filters=selector):
        labels = dict(volume.attrs.get("Labels") or {})
        objects.append(labels)
        if labels.get(ROLE) == READY_MARKER_ROLE and STACK in labels:
            ready.add(labels[STACK])
    for labels in objects:
        if STACK in labels:
            owners[labels[STACK]].append(owner_of(labels))
    return sorted(
        stack
        for stack, found in owners.items()
        if stack not in ready and not any(o is not None and o.alive() for o in found)
    )


def orphaned_load_generators(client: docker.DockerClient) -> list[Any]:
    """Locust containers whose `harness load` died, also on a stack that lives on (harness up)."""
    found = []
    # By the stack label: containers merely made from the harness images (compose/, other
    # tools) carry the images' own harness label, but no stack and no owner.
    for container in client.containers.list(
        all=True, filters={"label": STACK}, ignore_removed=True
    ):
        labels = dict(container.labels or {})
        owner = owner_of(labels)
        # Only what a harness command started (it names its owner): never others' containers.
        # the load generator, and the profiler sidecar beside the backend during a load
        role = labels.get(ROLE, "")
        if role.startswith(("locust", "profiler")) and owner is not None and not owner.alive():
            found.append(container)
    return found


def orphaned_processes() -> list[psutil.Process]:
    """Locust processes (not containers) whose harness command is gone."""
    found = []
    for process in psutil.process_iter():
        try:
            owner = owner_from_environment(process.environ())
        except (psutil.Error, OSError):
            continue  # gone meanwhile, or another user's
        if owner is not None and not owner.alive():
            found.append(process)
    return found


def clean(home: Path, client: docker.DockerClient | None) -> CleanReport:
    report = CleanReport()
    stray = orphaned_processes()
    for process in stray:
        with contextlib.suppress(psutil.Error):
            # as a Ctrl-C: a Locust master running a shape writes its results on SIGINT only
            process.send_signal(signal.SIGINT)
    for process in still_running_after(stray, timeout_s=10):
        with contextlib.suppress(psutil.Error):
            process.kill()
    report.processes = len(stray)
    if client is not None:
        for container in orphaned_load_generators(client):
            try:
                container.remove(force=True)
                report.containers += 1
            except docker.errors.NotFound:
                pass  # removed meanwhile
        for stack_id in orphaned_docker_stacks(client):
            removed = remove_stack_resources(client, stack_id)
            report.stacks.append(stack_id)
            report.containers += removed["containers"]
            report.networks += removed["networks"]
            report.volumes += removed["volumes"]
    stacks_dir = home / "stacks"
    for folder in sorted(stacks_dir.iterdir()) if stacks_dir.exists() else []:
        if _stale_folder(folder, client):
            shutil.rmtree(folder, ignore_errors=True)
            report.folders += 1
            if folder.name not in report.stacks:
                report.stacks.append(folder.name)
    link = home / "current"
    if link.is_symlink() and not link.resolve().exists():
        link.unlink()
    return report


def _stale_folder(folder: Path, client: docker.DockerClient | None) -> bool:
    owner = _folder_owner(folder)
    if owner is not None and owner.alive():
        return False  # its `harness` command is still running (starting, loading, ...)
    state = load(folder)
    if state is None:
        return True
    if state.provider == "local":
        if owner is not None and not state.persistent and local_stack_alive(state):
            assert state.pid is not None
            stop_process_group(state.pid)  # the backend of a throwaway run that was killed
            return True
        return not local_stack_alive(state)
    if state.provider == "docker":
        if client is None:
            return False  # cannot tell without the daemon; leave it for a later clean
        selector = {"label": stack_selector(state.stack_id)}
        try:
            return not client.containers.list(all=True, filters=selector, ignore_removed=True)
        except docker.errors.DockerException:
            return False
    return False  # external: nothing of ours to remove
