"""The command line: every command's help, click's usage errors in the harness's words."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import cli
from harness.pipeline.context import RunContext

# The options each command has offered since the argparse days: the contract of the CLI.
OPTIONS = {
    "images": ["--base"],
    "up": [
        "--provider",
        "--target",
        "--db-dsn",
        "--allow-remote-target",
        "--base",
        "--bcrypt-rounds",
        "--backend-workers",
        "--port",
    ],
    "down": [],
    "status": ["--json"],
    "clean": [],
    "load": [
        "--shape",
        "--scenario",
        "--users",
        "--duration",
        "--spawn-rate",
        "--warmup",
        "--workers",
        "--slo",
        "--reports",
        "--http-client",
        "--ui",
        "--down-grace",
        "--remote-workers",
        "--master-bind",
        "--master-port",
    ],
    "worker": ["--master-host", "--master-port", "--processes", "--http-client"],
    "full-load": [
        "--shape",
        "--scenario",
        "--users",
        "--duration",
        "--spawn-rate",
        "--warmup",
        "--workers",
        "--slo",
        "--reports",
        "--http-client",
        "--ui",
        "--down-grace",
        "--profile",
        "--provider",
        "--bcrypt-rounds",
        "--bench-rounds",
        "--skip-bench",
        "--worker-cpus",
        "--skip-profile",
    ],
    "bench": [
        "--target",
        "--db-dsn",
        "--allow-remote-target",
        "--rounds",
        "--warmup",
        "--targets",
        "--reports",
        "--save-baseline",
        "--compare",
        "--baselines",
        "--bcrypt-rounds",
    ],
    "report": ["RUN_DIR"],
    "seed": [
        "--profile",
        "--seed",
        "--reset",
        "--users",
        "--trips",
        "--follows",
        "--likes",
        "--password",
        "--bcrypt-rounds",
        "--allow-remote-target",
    ],
}


@pytest.fixture
def signals() -> Iterator[None]:
    """cli.main installs its own SIGINT/SIGTERM handlers: put pytest's back."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)


def test_the_top_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["--help"], {}) == 0
    out = capsys.readouterr().out
    assert all(command in out for command in OPTIONS), out


@pytest.mark.parametrize("command", sorted(OPTIONS))
def test_each_command_has_help_naming_its_options(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.run([command, "--help"], {}) == 0
    out = capsys.readouterr().out
    missing = [option for option in OPTIONS[command] if option not in out]
    assert not missing, out
    assert "--no-" not in out  # flags are on/off switches, as before: no --no-ui


@pytest.mark.parametrize(
    ("argv", "error", "hint"),
    [
        (["frobnicate"], "error: no such command 'frobnicate'", "`harness --help`"),
        (["full-lod"], "Did you mean 'full-load'?", "`harness --help`"),
        ([], "error: missing command", "`harness --help`"),
        (["load", "--users", "0"], "'--users': 0 must be 1 or more", "`harness load --help`"),
        (["load", "--shape", "chaos"], "'--shape': 'chaos' is not one of", "`harness load --help`"),
        (["load", "--bogus"], "error: no such option: --bogus", "`harness load --help`"),
        (["seed", "--seed", "x"], "'--seed': 'x' is not a whole number", "`harness seed --help`"),
        (["worker"], "error: missing option '--master-host'", "`harness worker --help`"),
        (["report"], "error: missing argument 'RUN_DIR'", "`harness report --help`"),
        (["up", "--port", "0"], "'--port': 0 must be 1 or more", "`harness up --help`"),
        (["down", "extra"], "unexpected extra argument", "`harness down --help`"),
    ],
)
def test_a_usage_error_is_an_error_and_a_hint_with_exit_2(
    argv: list[str],
    error: str,
    hint: str,
    capsys: pytest.CaptureFixture[str],
    signals: None,
) -> None:
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    first, second = captured.err.splitlines()
    assert first.startswith("error: ") and error in first, captured.err
    assert second.startswith("hint: run ") and hint in second, captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_full_load_hands_the_pipeline_its_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    called: dict[str, Any] = {}

    class Outcome:
        exit_code = 0

    def full_load(ctx: RunContext, up: Any, seed: Any, load: Any, bench: Any) -> Outcome:
        called.update(up=up, seed=seed, load=load, bench=bench)
        return Outcome()

    monkeypatch.setattr(cli.commands, "full_load", full_load)
    call = cli.parse(["full-load", "--users", "5", "--reports", str(tmp_path)])
    assert isinstance(call, cli.Call) and call.reports == tmp_path
    assert call.run(RunContext.build({}, print, reports=call.reports)) == 0
    load = called["load"]
    assert (load.shape, load.scenario, load.users, load.duration_s) == ("load", "mixed", 5, 60)
    assert (load.down_grace_s, load.http_client, load.ui) == (20, "fast", False)
    assert (called["up"].provider, called["up"].bcrypt_rounds) == ("auto", 12)
    assert called["seed"].profile == "small"
    assert (called["bench"].rounds, called["bench"].warmup) == (10, 2)
    skipping = cli.parse(["full-load", "--skip-bench"])
    assert isinstance(skipping, cli.Call) and skipping.run(RunContext.build({}, print)) == 0
    assert called["bench"] is None
