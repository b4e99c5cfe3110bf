"""Seed files kept with the database's identity outlive the stack's folder, but not its data."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from backend.settings import Settings
from harness.pipeline.stack_phase import is_seeded, seeded_users
from harness.seed import (
    DEFAULT_PASSWORD,
    MANIFEST,
    USERNAMES,
    SeedRequest,
    resolve_profile,
    seed,
    seed_files_for,
)
from harness.seed.files import postgres_key
from harness.seed.seeder import plain_dsn, sqlite_path
from harness.stack import StackState, stack_of
from tests.support.postgres import LocalPostgres


@pytest.fixture
def dsn(backend_settings: Settings) -> str:
    return plain_dsn(backend_settings.database_url)


def execute(dsn: str, statement: str) -> None:
    if dsn.startswith("sqlite"):
        with sqlite3.connect(sqlite_path(dsn)) as conn:
            conn.execute(statement)
        return
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(statement.encode())


def seed_into(dsn: str, home: Path, folder: Path, seed_no: int = 11, **kw: Any) -> dict[str, Any]:
    request = SeedRequest(dsn=dsn, folder=folder, profile=resolve_profile("tiny", {}),
                          seed=seed_no, bcrypt_rounds=4, home=home, **kw)  # fmt: skip
    return seed(request, lambda _: None)


def test_found_after_the_stack_folder_is_gone(dsn: str, tmp_path: Path) -> None:
    home, folder = tmp_path / "home", tmp_path / "home" / "stacks" / "cv-gone"
    manifest = seed_into(dsn, home, folder)
    shutil.rmtree(folder)  # what `harness down` does to an external stack's folder
    found = seed_files_for(dsn, home)
    assert found is not None
    kept_manifest, usernames = found
    assert kept_manifest.parent.parent == home / "seeds"
    assert manifest["checksum"] in kept_manifest.read_text()
    assert len(usernames.read_text().split()) == manifest["rows"]["users"]
    execute(dsn, "INSERT INTO users (id, username, email, hashed_password, is_active, is_verified,"
                 " created_at, updated_at, failed_login_attempts, role, profile_visibility,"
                 " trip_visibility) VALUES ('x-1', 'newcomer', 'n@example.com', 'h', true, true,"
                 " '2026-01-01', '2026-01-01', 0, 'USER', 'public', 'public')")  # fmt: skip
    assert seed_files_for(dsn, home) == found  # a load registering users changes nothing


def test_refused_when_the_data_no_longer_matches(dsn: str, tmp_path: Path) -> None:
    seed_into(dsn, tmp_path / "first", tmp_path / "a")
    seed_into(dsn, tmp_path / "second", tmp_path / "b", seed_no=12, reset=True)
    assert seed_files_for(dsn, tmp_path / "first") is None  # other users now
    assert seed_files_for(dsn, tmp_path / "second") is not None
    execute(dsn, "DELETE FROM users")
    assert seed_files_for(dsn, tmp_path / "second") is None


def test_the_load_logs_in_as_seeded_users_after_down(dsn: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    folder = home / "stacks" / "cv-ext"
    manifest = seed_into(dsn, home, folder)
    state = StackState(stack_id="cv-ext", provider="external", backend_url="http://127.0.0.1:9",
                       db_dsn=dsn, folder=str(folder))  # fmt: skip
    shutil.rmtree(folder)
    users = seeded_users(stack_of(state), "unused-default")
    assert users.usernames is not None and users.usernames.parent.parent == home / "seeds"
    assert users.password == DEFAULT_PASSWORD
    assert users.summary == {"seed": 11, "checksum": manifest["checksum"],
                             "total_rows": manifest["total_rows"], "profile": "tiny"}  # fmt: skip
    assert is_seeded(stack_of(state))
    execute(dsn, "DELETE FROM users")
    assert seeded_users(stack_of(state), "unused-default").usernames is None
    assert not is_seeded(stack_of(state))


def test_the_stack_folder_files_are_written_too(dsn: str, tmp_path: Path) -> None:
    manifest = seed_into(dsn, tmp_path / "home", tmp_path / "stack")
    assert (tmp_path / "stack" / USERNAMES).exists()
    keyed = tmp_path / "home" / "seeds" / manifest["database_key"]
    assert (keyed / MANIFEST).read_text() == (tmp_path / "stack" / MANIFEST).read_text()


@pytest.mark.postgres
def test_the_key_falls_back_to_host_and_port_without_pg_control_system(
    postgres_server: LocalPostgres, postgres_template: str
) -> None:
    name, role = f"cv_{uuid.uuid4().hex[:12]}", f"plain_{uuid.uuid4().hex[:8]}"
    dsn = postgres_server.create_database(name, template=postgres_template)
    try:
        execute(dsn, f"CREATE ROLE {role} LOGIN")
        # As a managed server does it (pg_proc is per database: other tests are not affected)
        execute(dsn, "REVOKE EXECUTE ON FUNCTION pg_control_system() FROM PUBLIC")
        with psycopg.connect(dsn) as conn:
            system = conn.execute("SELECT system_identifier FROM pg_control_system()").fetchone()
            as_superuser = postgres_key(conn)
        with psycopg.connect(dsn.replace("postgres@", f"{role}@")) as conn:
            as_plain_user = postgres_key(conn)
        assert system is not None and as_superuser.startswith(f"pg-{system[0]}-{name}-")
        assert as_plain_user.startswith(f"pg-127.0.0.1_{postgres_server.port}-{name}-")
    finally:
        postgres_server.drop_database(name)
        execute(postgres_server.admin_dsn, f"DROP ROLE IF EXISTS {role}")
