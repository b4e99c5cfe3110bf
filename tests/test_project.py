"""The project file: the built-in reference description, a user's file, and each bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.project import REFERENCE_FILE, describe, load_project

USER = """
[backend]
name = "contravento"
database_scheme = "postgresql+asyncpg"
[backend.build]
context = "backend"
[backend.env]
DATABASE_URL = "{database_url}"
SECRET_KEY = "{secret}"
SMTP_PASSWORD = "hunter2-literal"
APP_ENV = "testing"
[backend.setup]
migrate = ["alembic", "upgrade", "head"]
init = ["python", "scripts/seeding/init_dev_data.py"]
[seed.columns]
"trip_tags.created_at" = "row:created_at"
"""


def write(folder: Path, text: str) -> Path:
    (folder / "backend").mkdir(exist_ok=True)
    (folder / "backend" / "Dockerfile").write_text("FROM python:3.12-slim\n")
    path = folder / "harness.toml"
    path.write_text(text)
    return path


def test_without_a_file_the_reference_backend_is_described(tmp_path: Path) -> None:
    project = load_project(None, tmp_path)
    assert project.source == REFERENCE_FILE and project.backend.is_reference
    assert project.backend.local is not None


def test_a_harness_toml_in_the_working_directory_is_found(tmp_path: Path) -> None:
    write(tmp_path, USER)
    project = load_project(None, tmp_path)
    assert project.backend.name == "contravento" and not project.backend.is_reference
    assert project.backend.build is not None
    assert project.path(project.backend.build.context) == tmp_path / "backend"
    assert project.backend.setup.migrate == ["alembic", "upgrade", "head"]
    assert project.seed.columns == {"trip_tags.created_at": "row:created_at"}


def test_config_masks_literal_secrets_and_keeps_placeholders(tmp_path: Path) -> None:
    body = describe(load_project(write(tmp_path, USER), tmp_path))
    env = body["backend"]["env"]
    assert env["SMTP_PASSWORD"] == "***" and "hunter2" not in str(body)
    assert env["SECRET_KEY"] == "{secret}" and env["APP_ENV"] == "testing"


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (("[backend.env]", '[backend.env]\nX = "{databse_url}"'), "unknown placeholder(s)"),
        (('name = "contravento"', 'name = "contravento"\nimage = "x"'), "exactly one of"),
        (('context = "backend"', 'context = "nowhere"'), "is no folder"),
        (('context = "backend"', 'context = "backend"\ndockerfile = "Nope"'), "is not in"),
        (("[backend.setup]", "[backend.setup]\nmigrat = []"), 'unknown key "migrat"'),
        (
            ('database_scheme = "postgresql+asyncpg"', 'database_scheme = "mysql"'),
            "database_scheme",
        ),
        (('name = "contravento"', 'name = "contravento"\nport = 0'), "port"),
    ],
)
def test_a_bad_project_file_is_a_clear_error(
    tmp_path: Path, change: tuple[str, str], needle: str
) -> None:
    path = write(tmp_path, USER.replace(*change))
    with pytest.raises(ConfigError) as caught:
        load_project(path, tmp_path)
    assert needle in caught.value.message and str(path) in caught.value.message
    assert caught.value.exit_code == 2 and caught.value.hint
