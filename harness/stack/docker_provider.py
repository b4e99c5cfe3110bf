"""The Docker provider: PostgreSQL + backend on a private network, via Testcontainers."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import docker
import docker.errors
import psycopg
from docker.models.containers import Container
from testcontainers.community.postgres import PostgresContainer
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer
from testcontainers.core.exceptions import ContainerStartException
from testcontainers.core.network import Network

from harness.docker_api import docker_client
from harness.errors import StackError
from harness.labels import READY_MARKER_ROLE, ROLE, STACK, labels_for, stack_selector
from harness.owner import Owner
from harness.project import Backend
from harness.stack.backend_env import BackendRun, backend_run
from harness.stack.local_provider import free_loopback_port
from harness.stack.state import StackState
from harness.stack.waits import wait_for_http_ok, wait_for_sql

DB_USER = "contravento"
DB_NAME = "contravento"
PG_DATA = "/var/lib/postgresql/data"
# {data_dir}: the container's own /tmp, writable whatever user the image runs as
DATA_DIR = "/tmp"  # noqa: S108
BACKEND_ALIAS = "backend"  # the backend's name on the stack's private network
PG_COMMAND = (
    "postgres -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=top"
    " -c max_connections=200 -c shared_buffers=256MB"
)

# Ryuk cannot be pulled on machines without a registry; the harness cleans up by its own labels.
testcontainers_config.ryuk_disabled = True


@dataclass(frozen=True)
class DockerStackOptions:
    backend: Backend  # the project's description of the backend under test
    backend_image: str
    postgres_image: str
    bcrypt_rounds: int = 12
    backend_workers: int = 1
    ready_timeout_s: float = 120.0
    setup_timeout_s: float = 600.0
    backend_port: int | None = None  # the 127.0.0.1 port; None: a free one


def _follow_logs(container_id: str, path: Path) -> None:
    """Keep the container's log in the stack folder; `docker logs -f` ends when it stops."""
    with path.open("ab") as sink:
        subprocess.Popen(
            ["docker", "logs", "--follow", "--timestamps", container_id],
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def _bind_loopback(container: DockerContainer, port: int, host_port: int | None = None) -> None:
    # with_exposed_ports would publish on 0.0.0.0; the stack must be reachable from this host only.
    # A port Docker picks is picked again at every restart, so a restarted PostgreSQL would
    # leave the stack's DSN pointing nowhere; a port chosen here stays the container's.
    binding = ("127.0.0.1", host_port or free_loopback_port())
    container.ports = {f"{port}/tcp": binding}  # type: ignore[dict-item]


def start_docker_stack(
    stack_id: str, folder: Path, options: DockerStackOptions, owner: Owner, persistent: bool
) -> StackState:
    client = docker_client()
    db_password = secrets.token_urlsafe(24)
    secret_key = secrets.token_urlsafe(48)
    try:
        network = Network(docker_network_kw={"labels": labels_for(stack_id, owner, "network")})
        network.name = f"{stack_id}-net"
        network.create()
        volume = client.volumes.create(
            name=f"{stack_id}-pgdata", labels=labels_for(stack_id, owner, "pgdata")
        )
        postgres = PostgresContainer(
            options.postgres_image,
            username=DB_USER,
            password=db_password,
            dbname=DB_NAME,
            driver=None,
        )
        _bind_loopback(postgres, 5432)
        postgres.with_command(PG_COMMAND).with_network(network).with_network_aliases("postgres")
        postgres.with_volume_mapping(volume.name, PG_DATA, "rw")
        postgres.with_name(f"{stack_id}-postgres")
        postgres.with_kwargs(labels=labels_for(stack_id, owner, "postgres"))
        try:
            postgres.start()  # waits with its own strategy: psql runs `select version()` inside
        except Exception as exc:
            raise _service_failed("PostgreSQL", postgres, folder / "postgres.log", exc) from None
        _follow_logs(postgres.get_wrapped_container().id, folder / "postgres.log")
        pg_port = int(postgres.get_exposed_port(5432))
        dsn = f"postgresql://{DB_USER}:{db_password}@127.0.0.1:{pg_port}/{DB_NAME}"
        wait_for_sql(dsn, options.ready_timeout_s, lambda: _running(postgres))
        with psycopg.connect(dsn, autocommit=True) as conn:  # the monitor's top-queries view
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")

        spec = options.backend
        run = backend_run(
            spec,
            database_url=f"{spec.database_scheme}://{DB_USER}:{db_password}@postgres:5432/{DB_NAME}",
            secret=secret_key,
            bcrypt_rounds=options.bcrypt_rounds,
            workers=options.backend_workers,
            data_dir=DATA_DIR,
        )
        for step, command in (("migrate", spec.setup.migrate), ("init", spec.setup.init)):
            if command:
                run_setup_step(
                    client,
                    options,
                    str(network.name),
                    run,
                    step,
                    command,
                    folder,
                    labels_for(stack_id, owner, f"setup-{step}"),
                )
        backend = DockerContainer(options.backend_image)
        _bind_loopback(backend, spec.port, options.backend_port)
        backend.with_network(network).with_network_aliases(BACKEND_ALIAS)
        backend.with_envs(**run.env)
        if spec.command:
            backend.with_command(run.command(spec.command))
        backend.with_name(f"{stack_id}-backend")
        backend.with_kwargs(
            labels=labels_for(stack_id, owner, "backend"),
            **({"entrypoint": entry} if (entry := spec.docker_entrypoint()) else {}),
        )
        try:
            backend.start()
        except docker.errors.APIError as exc:
            raise StackError(
                f"the backend container could not start: {exc.explanation or exc}",
                "if a port is taken, stop what uses it or choose another --port",
            ) from None
        _follow_logs(backend.get_wrapped_container().id, folder / "backend.log")
        url = f"http://127.0.0.1:{int(backend.get_exposed_port(spec.port))}"
        try:
            wait_for_http_ok(
                f"{url}{spec.health_path}", options.ready_timeout_s, lambda: _running(backend)
            )
        except (TimeoutError, RuntimeError) as exc:
            raise _service_failed("the backend", backend, folder / "backend.log", exc) from None
        if persistent:
            client.volumes.create(
                name=f"{stack_id}-ready", labels=labels_for(stack_id, owner, READY_MARKER_ROLE)
            )
    except BaseException:
        remove_stack_resources(client, stack_id)
        raise
    return StackState(
        stack_id=stack_id,
        provider="docker",
        backend_url=url,
        db_dsn=dsn,
        folder=str(folder),
        persistent=persistent,
        containers=[
            _describe(postgres, "postgres"),
            _describe(backend, "backend"),
        ],
        network=network.name,
        volumes=[str(volume.name)],
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        images={"backend": options.backend_image, "postgres": options.postgres_image},
        backend_port=spec.port,
        backend_name=spec.name,
    )


def run_setup_step(
    client: docker.DockerClient,
    options: DockerStackOptions,
    network: str,
    run: BackendRun,
    step: str,
    command: list[str],
    folder: Path,
    labels: dict[str, str],
) -> None:
    """A one-shot container of the backend image (migrations, reference data); its log is kept
    in the stack folder, and shown when it fails."""
    log = folder / f"setup-{step}.log"
    container = client.containers.run(
        options.backend_image,
        command=run.command(command),
        entrypoint=options.backend.docker_entrypoint(),
        environment=run.env,
        network=network,
        labels=labels,
        name=f"{labels[STACK]}-setup-{step}",
        detach=True,
    )
    try:
        try:
            status = container.wait(timeout=options.setup_timeout_s)
        except Exception:  # the wait timed out (requests raises its own errors)
            container.kill()
            status = {"StatusCode": None}
        output = container.logs().decode(errors="replace")
        log.write_text(output)
    finally:
        container.remove(force=True)
    code = status.get("StatusCode")
    if code != 0:
        tail = "\n".join(output.rstrip().splitlines()[-30:])
        what = (
            f"exited with {code}"
            if code is not None
            else (f"did not finish within {options.setup_timeout_s:.0f}s")
        )
        raise StackError(
            f"the backend's {step} step ({' '.join(command)}) {what}"
            f"\n--- last lines of its log ---\n{tail}",
            f"the full log is in {log}; fix the cause, or [backend.setup] in the project file",
        )


def _running(container: DockerContainer) -> bool:
    wrapped = container.get_wrapped_container()
    wrapped.reload()
    return str(wrapped.status) in ("created", "running")


def _describe(container: DockerContainer, role: str) -> dict[str, str]:
    wrapped = container.get_wrapped_container()
    return {"role": role, "name": str(wrapped.name), "id": str(wrapped.short_id)}


def _service_failed(
    what: str, container: DockerContainer, log: Path, exc: BaseException
) -> StackError:
    try:
        logs = container.get_wrapped_container().logs(tail=30).decode(errors="replace")
    except (docker.errors.DockerException, ContainerStartException):
        logs = "(the container was never started)"
    log.write_text(logs)
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return StackError(
        f"{what} did not become ready: {reason}\n--- last lines of its log ---\n{logs.rstrip()}",
        f"the full log is in {log}; fix the cause above and run `harness up` again",
    )


def remove_stack_resources(client: docker.DockerClient, stack_id: str) -> dict[str, int]:
    """Remove every container, network and volume labelled with this stack id."""
    selector = {"label": stack_selector(stack_id)}
    removed = {"containers": 0, "networks": 0, "volumes": 0}
    for container in client.containers.list(all=True, filters=selector, ignore_removed=True):
        try:
            container.remove(force=True, v=True)
            removed["containers"] += 1
        except docker.errors.NotFound:
            pass
    for network in client.networks.list(filters=selector):
        try:
            network.remove()
            removed["networks"] += 1
        except docker.errors.NotFound:
            pass
    for volume in client.volumes.list(filters=selector):
        try:
            volume.remove(force=True)
            removed["volumes"] += 1
        except docker.errors.NotFound:
            pass
    return removed


def backend_container(client: docker.DockerClient, stack_id: str) -> Container:
    """The stack's backend container (running or stopped)."""
    selector = {"label": [*stack_selector(stack_id), f"{ROLE}=backend"]}
    found = client.containers.list(all=True, filters=selector, ignore_removed=True)
    if not found:
        raise StackError(
            f"the backend container of stack {stack_id} is gone",
            "start a new stack: `make harness-down`, then `make harness-up`",
        )
    return found[0]


@contextmanager
def docker_backend_stopped(state: StackState, timeout_s: float = 120.0) -> Iterator[None]:
    """The backend container stopped for the block (nothing holds a database connection), then
    started again on the same port and waited for until its health path answers 200."""
    client = docker_client()
    container = backend_container(client, state.stack_id)
    container.stop(timeout=10)
    try:
        yield
    finally:
        container.start()

        def starting() -> bool:
            container.reload()
            return str(container.status) in ("created", "running")

        try:
            wait_for_http_ok(f"{state.backend_url}{state.health_path}", timeout_s, starting)
        except (TimeoutError, RuntimeError) as exc:
            logs = container.logs(tail=30).decode(errors="replace")
            raise StackError(
                f"the backend did not come back after a restart: {exc}"
                f"\n--- last lines of its log ---\n{logs.rstrip()}",
                f"see {Path(state.folder) / 'backend.log'}",
            ) from None


def docker_stack_alive(client: docker.DockerClient, state: StackState) -> bool:
    selector = {"label": stack_selector(state.stack_id), "status": "running"}
    running = client.containers.list(filters=selector, ignore_removed=True)
    return len(running) >= len(state.containers)
