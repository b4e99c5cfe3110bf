"""The run context: what every command needs and is built once (repo, home, reports, sinks)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.stack import harness_home

REPO_ROOT = Path(__file__).resolve().parents[2]

# Takes a line. The CLI's (harness.console.Console) also shows tables and the live load view,
# reached through harness.console.show_table and show_load; any callable taking a line will do.
Progress = Callable[[str], None]


@dataclass(frozen=True)
class RunContext:
    """Handed to each pipeline function, the way Locust hands its parts an Environment."""

    repo_root: Path
    home: Path  # where stacks keep their folders ($HARNESS_HOME, else <repo>/.harness)
    reports: Path  # where run folders go (--reports, $HARNESS_REPORTS, else <repo>/reports)
    environ: Mapping[str, str]
    progress: Progress
    cwd: Path  # where a harness.toml is looked for

    @classmethod
    def build(
        cls,
        environ: Mapping[str, str],
        progress: Progress,
        reports: Path | None = None,
        repo_root: Path = REPO_ROOT,
        cwd: Path | None = None,
    ) -> RunContext:
        return cls(
            repo_root=repo_root,
            home=harness_home(environ, repo_root),
            reports=reports or Path(environ.get("HARNESS_REPORTS") or repo_root / "reports"),
            environ=environ,
            progress=progress,
            cwd=cwd or Path.cwd(),
        )
