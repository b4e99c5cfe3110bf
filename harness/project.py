"""The project file (harness.toml): the backend under test, how to build, run and prepare it."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, PrivateAttr, model_validator

from harness.config_file import FILE_MODEL, read_toml, validate_file
from harness.errors import ConfigError

PROJECT_FILE = "harness.toml"
REFERENCE_FILE = Path(__file__).with_name("reference-backend.toml")
# The image the harness builds itself from this repository (Dockerfile.backend + wheelhouse).
REFERENCE_IMAGE = "@reference"
EXAMPLE = "README.md, section Your own backend"

# What a template may name; the stack fills them in when it starts the backend.
PLACEHOLDERS = {
    "database_url": "the stack's database, in the driver form of backend.database_scheme",
    "secret": "a random secret made for this stack (48 URL-safe characters)",
    "bcrypt_rounds": "the bcrypt cost the stack was started with (harness up --bcrypt-rounds)",
    "workers": "the backend's worker processes (harness up --backend-workers)",
    "port": "the port the backend listens on (inside its container, or on 127.0.0.1 locally)",
    "data_dir": "a writable folder for the backend's files (uploads, a SQLite file)",
    "python": "the Python interpreter running the harness (local provider)",
}
# An env value under such a name is shown masked unless it is only placeholders.
SECRET_NAMES = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|KEY|CREDENTIAL|DSN", re.IGNORECASE)


def placeholders_in(template: str) -> set[str]:
    """The {names} a template uses (a doubled brace is a literal brace)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def fill(template: str, values: Mapping[str, str]) -> str:
    return template.format_map(dict(values))


def _check_template(value: str) -> str:
    try:
        unknown = placeholders_in(value) - set(PLACEHOLDERS)
    except ValueError as exc:  # an unmatched brace
        raise ValueError(f"{value!r} is not a valid template ({exc})") from None
    if unknown:
        raise ValueError(
            f"{value!r} names unknown placeholder(s) {', '.join(sorted(unknown))};"
            f" known: {', '.join(PLACEHOLDERS)}"
        )
    return value


# A string that may name placeholders, checked when the file is read.
Template = Annotated[str, AfterValidator(_check_template)]


class Build(BaseModel):
    """`[backend.build]`: the backend image from a Dockerfile, paths relative to the file."""

    model_config = FILE_MODEL
    context: str = "."
    dockerfile: str = "Dockerfile"  # relative to the context, as `docker build -f` takes it
    target: str | None = None  # the stage to build, for a multi-stage Dockerfile
    args: dict[str, str] = {}


class Setup(BaseModel):
    """`[backend.setup]`: one-shot commands, run in order before the backend starts."""

    model_config = FILE_MODEL
    migrate: list[Template] = []  # e.g. ["alembic", "upgrade", "head"]
    init: list[Template] = []  # reference data, e.g. ["python", "scripts/seeding/init_dev_data.py"]


class Local(BaseModel):
    """`[backend.local]`: the backend as a subprocess (the local provider, no Docker)."""

    model_config = FILE_MODEL
    command: list[Template] = Field(min_length=1)  # must listen on 127.0.0.1:{port}
    cwd: str = "."  # relative to the project file's folder
    database_url: Template = "sqlite+aiosqlite:///{data_dir}/backend.db"
    env: dict[str, Template] = {}  # added to (or replacing) backend.env for the subprocess


class Backend(BaseModel):
    """`[backend]`: the system under test."""

    model_config = FILE_MODEL
    name: str = Field("backend", pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    image: str | None = None  # an existing image instead of [backend.build]
    build: Build | None = None
    command: list[Template] = []  # empty: the image's own CMD
    # None: the image's own ENTRYPOINT; [] none (e.g. one that runs migrations the harness runs)
    entrypoint: list[str] | None = None
    port: int = Field(8000, ge=1, le=65535)
    health_path: str = Field("/health", pattern=r"^/")
    # {database_url} for the stack's PostgreSQL, e.g. "postgresql+asyncpg" for SQLAlchemy async
    database_scheme: str = Field("postgresql", pattern=r"^postgres(ql)?(\+[a-z0-9_]+)?$")
    env: dict[str, Template] = {}
    setup: Setup = Setup()
    local: Local | None = None

    @model_validator(mode="after")
    def _one_image_source(self) -> Backend:
        if (self.image is None) == (self.build is None):
            raise ValueError("give exactly one of backend.image and [backend.build]")
        return self

    def docker_entrypoint(self) -> list[str] | None:
        """For the Docker API: [""] resets an image's ENTRYPOINT, None keeps it."""
        if self.entrypoint is None:
            return None
        return self.entrypoint or [""]

    @property
    def is_reference(self) -> bool:
        return self.image == REFERENCE_IMAGE


class Seed(BaseModel):
    """`[seed]`: how the seeder fits the backend's schema."""

    model_config = FILE_MODEL
    # "table.column" = fill rule, for NOT NULL columns the seeder cannot fill by itself
    columns: dict[str, str] = {}
    keep_tables: list[str] = []  # reference tables that `seed --reset` must never empty


class Project(BaseModel):
    """The whole project file."""

    model_config = FILE_MODEL
    backend: Backend
    seed: Seed = Seed()
    _source: Path = PrivateAttr(REFERENCE_FILE)

    @property
    def source(self) -> Path:
        return self._source

    @property
    def root(self) -> Path:
        """The folder relative paths are read from: the project file's own."""
        return self._source.parent

    def path(self, relative: str) -> Path:
        return (self.root / relative).resolve()


def load_project(path: Path | None, cwd: Path) -> Project:
    """--config PATH, else ./harness.toml, else the built-in reference backend."""
    if path is None:
        found = cwd / PROJECT_FILE
        path = found if found.is_file() else REFERENCE_FILE
    data = read_toml(path, "project file", EXAMPLE)
    project = validate_file(Project, data, path, EXAMPLE)
    project._source = path.resolve()
    _check_paths(project)
    return project


def _check_paths(project: Project) -> None:
    build = project.backend.build
    if build is not None:
        context = project.path(build.context)
        if not context.is_dir():
            raise ConfigError(
                f"{project.source}: backend.build.context {build.context!r} is no folder"
                f" ({context})",
                "paths in the project file are relative to the file's own folder",
            )
        if not (context / build.dockerfile).is_file():
            raise ConfigError(
                f"{project.source}: backend.build.dockerfile {build.dockerfile!r} is not in"
                f" {context}",
                "give the Dockerfile's path relative to backend.build.context",
            )
    local = project.backend.local
    if local is not None and not project.path(local.cwd).is_dir():
        raise ConfigError(
            f"{project.source}: backend.local.cwd {local.cwd!r} is no folder",
            "paths in the project file are relative to the file's own folder",
        )


def describe(project: Project) -> dict[str, Any]:
    """The resolved description (what `harness config` prints), secrets written in it masked.

    Placeholders stay as they are: they are filled per stack, and never printed filled in.
    """
    body = project.model_dump(mode="json")
    body["source"] = str(project.source)
    backend = body["backend"]
    backend["env"] = _masked(backend["env"])
    if backend.get("local"):
        backend["local"]["env"] = _masked(backend["local"]["env"])
    body["placeholders"] = PLACEHOLDERS
    return body


def _masked(env: dict[str, str]) -> dict[str, str]:
    def shown(name: str, value: str) -> str:
        literal = string.Formatter().parse(value)
        only_placeholders = all(not text.strip() for text, *_ in literal)
        return value if only_placeholders or not SECRET_NAMES.search(name) else "***"

    return {name: shown(name, value) for name, value in env.items()}
