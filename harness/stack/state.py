"""What a running stack is (provider, URLs, DSN, containers) and where its folder lives."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATE_FILE = "stack.json"


@dataclass
class StackState:
    stack_id: str
    provider: str  # docker | local | external
    backend_url: str
    db_dsn: str | None
    folder: str
    persistent: bool = True
    containers: list[dict[str, str]] = field(default_factory=list)
    network: str | None = None
    volumes: list[str] = field(default_factory=list)
    pid: int | None = None
    pid_start: str | None = None
    created_at: str = ""
    images: dict[str, str] = field(default_factory=dict)
    bcrypt_rounds: int = 12
    # What the backend was started with, when the project hands it the harness's figure
    backend_workers: int | None = None  # its server processes
    hash_rounds: int | None = None  # its bcrypt cost
    backend_port: int = 8000  # where the backend listens inside its container (Docker)
    backend_name: str = "reference"  # the project's backend.name
    health_path: str = "/health"  # where the backend answers 200 once it is ready
    project_file: str = ""  # the project file it was started from ("" : the reference backend)

    def public(self) -> dict[str, Any]:
        """What `status --json` prints (the DSN is there on purpose: users connect with it)."""
        return {
            "provider": self.provider,
            "stack_id": self.stack_id,
            "backend_url": self.backend_url,
            "db_dsn": self.db_dsn,
            "containers": self.containers,
            "network": self.network,
            "folder": self.folder,
            "created_at": self.created_at,
        }


def harness_home(environ: Mapping[str, str], repo_root: Path) -> Path:
    """Where stacks keep their folders: $HARNESS_HOME, else <repo>/.harness."""
    return Path(environ.get("HARNESS_HOME") or repo_root / ".harness")


def new_stack_id() -> str:
    return f"cv-{secrets.token_hex(4)}"


def stack_folder(home: Path, stack_id: str) -> Path:
    folder = home / "stacks" / stack_id
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save(state: StackState) -> None:
    path = Path(state.folder) / STATE_FILE
    tmp = path.with_suffix(".tmp")
    # The file holds the stack's DB password: readable by its owner only.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(asdict(state), f, indent=2)
    tmp.replace(path)


def load(folder: Path) -> StackState | None:
    try:
        raw = json.loads((folder / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    try:
        return StackState(**raw)
    except TypeError:
        return None


def current_link(home: Path) -> Path:
    return home / "current"


def set_current(home: Path, state: StackState) -> None:
    link = current_link(home)
    tmp = home / "current.tmp"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(Path("stacks") / state.stack_id)
    tmp.replace(link)


def load_current(home: Path) -> StackState | None:
    link = current_link(home)
    if not link.is_symlink():
        return None
    return load(link.resolve())


def clear_current(home: Path, stack_id: str) -> None:
    link = current_link(home)
    if link.is_symlink() and link.resolve().name == stack_id:
        link.unlink()
