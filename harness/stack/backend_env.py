"""The backend's environment for one stack: the project's templates with the stack's values."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from harness.project import Backend, fill


@dataclass(frozen=True)
class BackendRun:
    """What the stack fills the project's placeholders with, and the environment that makes."""

    values: dict[str, str]
    env: dict[str, str]

    def command(self, parts: list[str]) -> list[str]:
        return [fill(part, self.values) for part in parts]

    def secrets(self) -> list[str]:
        return [self.values["secret"]]


def backend_run(
    spec: Backend,
    *,
    database_url: str,
    secret: str,
    bcrypt_rounds: int,
    workers: int,
    data_dir: str,
    port: int | None = None,
    overrides: dict[str, str] | None = None,
) -> BackendRun:
    """backend.env (plus `overrides`, e.g. backend.local.env) with every placeholder filled."""
    values = {
        "database_url": database_url,
        "secret": secret,
        "bcrypt_rounds": str(bcrypt_rounds),
        "workers": str(workers),
        "port": str(port or spec.port),
        "data_dir": data_dir,
        "python": sys.executable,
    }
    templates = {**spec.env, **(overrides or {})}
    return BackendRun(values, {name: fill(t, values) for name, t in templates.items()})
