"""The stack object answers what the pipeline asks, per provider, with no Docker needed."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from harness.labels import STACK
from harness.owner import Owner
from harness.stack import StackState, kind_of, stack_of


def state(provider: str, tmp_path: Path, **extra: object) -> StackState:
    values: dict[str, object] = {
        "stack_id": "cv-0001",
        "provider": provider,
        "backend_url": "http://127.0.0.1:18000",
        "db_dsn": "postgresql://contravento:s3cr%40t@127.0.0.1:15432/contravento",
        "folder": str(tmp_path),
    }
    values.update(extra)
    return StackState(**values)  # type: ignore[arg-type]


def test_docker_load_generator_joins_the_stack_network(tmp_path: Path) -> None:
    stack = stack_of(
        state("docker", tmp_path, network="cv-0001-net", images={"locust": "cv-locust:abc"})
    )
    site = stack.load_site()
    assert (site.target, site.network, site.image) == (
        "http://backend:8000",
        "cv-0001-net",
        "cv-locust:abc",
    )
    services = stack.services()
    assert services is not None and services.container_label == f"{STACK}=cv-0001"
    assert stack.labels("locust", Owner(1, "2"))[STACK] == "cv-0001"


def test_local_stack_is_sampled_by_its_backend_process(tmp_path: Path) -> None:
    stack = stack_of(state("local", tmp_path, pid=4242, db_dsn=f"sqlite:///{tmp_path}/db"))
    site = stack.load_site()
    assert (site.target, site.network) == ("http://127.0.0.1:18000", None)
    services = stack.services()
    assert services is not None
    assert (services.backend_pid, services.backend_log) == (4242, tmp_path / "backend.log")
    assert stack.secrets() == []


def test_external_stack_is_measured_only(tmp_path: Path) -> None:
    with socket.socket() as nobody:  # a port nothing listens on
        nobody.bind(("127.0.0.1", 0))
        closed = nobody.getsockname()[1]
    stack = stack_of(state("external", tmp_path, backend_url=f"http://127.0.0.1:{closed}"))
    assert stack.services() is None
    assert stack.reachable_from_other_machines and stack.writes_need_permission
    assert stack.secrets() == ["s3cr@t"]  # unquoted: the form that could leak into a log


def test_an_external_target_here_is_sampled_by_its_listening_process(tmp_path: Path) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        url = f"http://127.0.0.1:{server.getsockname()[1]}"
        services = stack_of(state("external", tmp_path, backend_url=url)).services()
    assert services is not None
    assert (services.backend_pid, services.watched) == (os.getpid(), False)


@pytest.mark.parametrize(
    ("provider", "remote", "permission", "images"),
    [
        ("docker", False, False, True),
        ("local", False, False, False),
        ("external", True, True, False),
    ],
)
def test_what_each_kind_declares(
    provider: str, remote: bool, permission: bool, images: bool
) -> None:
    kind = kind_of(provider)
    assert (kind.reachable_from_other_machines, kind.writes_need_permission, kind.runs_images) == (
        remote,
        permission,
        images,
    )
