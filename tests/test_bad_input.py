"""Bad input, as a table: each gives `error:` + `hint:`, exit 2, no traceback, nothing left over."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.stack.cli import harness_with_env


@pytest.fixture(scope="module")
def taken_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


@pytest.fixture(scope="module")
def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("inputs")
    (root / "broken.toml").write_text("users = [\n")
    (root / "unknown-key.toml").write_text("[groups.auth]\np95_ms = 500\n")
    (root / "targets.toml").write_text("[defaults]\ntolerance = 0.1\n")
    (root / "not-a-run").mkdir()
    return root


CASES: list[tuple[str, str, str]] = [
    # (arguments, expected text in the error, what it is)
    ("frobnicate", "no such command", "unknown command"),
    ("full-load --shape chaos", "is not one of", "unknown shape"),
    ("full-load --scenario chaos", "is not one of", "unknown scenario"),
    ("full-load --profile huge", "is not one of", "unknown seed profile"),
    ("full-load --users 0", "must be 1 or more", "zero users"),
    ("full-load --users -5", "must be 1 or more", "negative users"),
    ("full-load --duration abc", "is not a whole number", "malformed duration"),
    ("full-load --workers 0", "must be 1 or more", "no workers"),
    ("full-load --slo {files}/missing.toml", "no SLO file", "missing SLO file"),
    ("full-load --slo {files}/broken.toml", "not valid TOML", "malformed SLO file"),
    ("full-load --slo {files}/unknown-key.toml", "unknown key", "unknown SLO config key"),
    ("full-load --reports /proc/no/such", "is not writable", "unwritable reports folder"),
    ("full-load --rate 50", "are for the open shapes", "a rate with a closed shape"),
    ("full-load --shape rate --rate 0", "out of range", "zero rate"),
    ("full-load --shape rate --rate fast", "is not a rate", "malformed rate"),
    ("full-load --shape rate --steps 3", "capacity search", "steps without a search"),
    ("full-load --shape rate --warmup 0", "needs a warm-up", "open shape, no warm-up"),
    ("full-load --shape rate --ui", "runs on this machine's workers", "open shape with the UI"),
    ("capacity --steps 0", "must be 1 or more", "zero capacity steps"),
    ("capacity --rate -3", "out of range", "negative capacity rate"),
    ("load", "no stack is up", "load without a stack"),
    ("bench", "no stack is up", "bench without a stack"),
    ("seed", "no stack is up", "seed without a stack"),
    ("seed --users -1", "must be 0 or more", "negative seed rows"),
    ("bench --rounds 0", "must be 1 or more", "zero benchmark rounds"),
    ("bench --target http://127.0.0.1:1 --targets {files}/targets.toml", "has no [", "bad targets"),
    ("up --target http://10.1.2.3:8000", "not a loopback address", "remote target, no flag"),
    ("up --target ftp://127.0.0.1/", "not an http(s) URL", "malformed target"),
    ("up --target http://127.0.0.1:1", "unreachable", "unreachable target"),
    ("up --provider external", "needs --target URL", "external without a target"),
    ("up --provider docker --target http://127.0.0.1:1", "names an external stack", "both"),
    ("up --provider local --port {port}", "already in use", "port taken"),
    ("bench --db-dsn postgresql://u@127.0.0.1/db", "only go with --target", "stray DSN"),
    ("report {files}/nowhere", "no run folder", "report of a missing folder"),
    ("report {files}/not-a-run", "no results.json", "report of a folder that is no run"),
    ("worker", "--master-host", "worker without a master"),
    ("worker --master-host=", "no master host given", "empty master host"),
    ("worker --master-host 127.0.0.1 --master-port 70000", "not a TCP port", "bad master port"),
    ("worker --master-host 127.0.0.1 --master-port {closed}", "cannot reach", "no master there"),
    ("load --down-grace 0", "must be 1 or more", "zero down grace"),
    ("compare --base HEAD", "--candidate", "compare without a candidate"),
    ("compare --base HEAD --candidate HEAD --repeats 2", "too few pairs", "two pairs"),
    ("compare --base no-such-rev-0 --candidate HEAD", "not a revision", "unknown revision"),
    ("compare --base {files}/none.toml --candidate HEAD", "no project file", "no project file"),
    ("compare --base image: --candidate HEAD", "names no image", "empty image name"),
    ("compare --base HEAD --candidate HEAD --duration 5", "too short", "short repetitions"),
    (
        "compare --base HEAD --candidate HEAD --slo {files}/unknown-key.toml",
        "unknown key",
        "compare with a bad SLO file",
    ),
]


@pytest.mark.parametrize(("args", "needle", "what"), CASES, ids=[c[2] for c in CASES])
def test_bad_input_is_a_clear_error(
    args: str,
    needle: str,
    what: str,
    tmp_path: Path,
    taken_port: int,
    closed_port: int,
    files: Path,
) -> None:
    home, reports = tmp_path / "home", tmp_path / "reports"
    earlier = reports / "20260101-000000-load"
    earlier.mkdir(parents=True)
    (earlier / "results.json").write_text('{"verdict": "PASS"}')
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    argv = args.format(files=files, port=taken_port, closed=closed_port).split()
    done = harness_with_env(home, {"HARNESS_REPORTS": str(reports)}, *argv, timeout=120)
    assert done.returncode == 2, (what, done.stdout, done.stderr)
    assert re.search(r"^error: .+\nhint: .+", done.stderr, re.MULTILINE), done.stderr
    assert needle in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert (earlier / "results.json").read_text() == '{"verdict": "PASS"}'  # nothing lost
    assert sorted(p.name for p in reports.iterdir()) == [earlier.name]  # no half-made run
    stacks = home / "stacks"
    assert not stacks.exists() or not any(stacks.iterdir())  # no stack left behind
    after = {p.pid for p in psutil.Process().children(recursive=True)}
    assert after <= before  # no process left running


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 20
