"""The database password stays out of what the bench suite prints and the runner writes."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from backend.schemas import RegisterIn
from harness.bench.runner import (
    BenchRequest,
    mask_json,
    mask_junit,
    masked,
    run_logged,
    secrets_of,
)
from harness.bench.suite.support import EMAIL_DOMAIN, PASSWORD, Settings, masked_dsn

DSN = "postgresql://contravento:Pa%24%24w0rd-xyz@127.0.0.1:5432/contravento"
DECODED = "Pa$$w0rd-xyz"  # what a driver and a traceback show


def settings(dsn: str | None) -> Settings:
    return Settings(
        target="http://127.0.0.1:8000",
        dsn=dsn,
        targets={"benchmarks": {}},
        rounds=3,
        warmup=1,
        bcrypt_rounds=4,
    )


def test_the_settings_repr_shows_the_dsn_without_its_password() -> None:
    shown = repr(settings(DSN))
    assert "Pa%24%24w0rd-xyz" not in shown and DECODED not in shown
    assert "dsn='postgresql://contravento:***@127.0.0.1:5432/contravento'" in shown
    assert "dsn=None" in repr(settings(None))
    assert masked_dsn("sqlite:////tmp/cv.db") == "sqlite:////tmp/cv.db"
    assert masked_dsn("postgresql://cv@db/cv") == "postgresql://cv@db/cv"  # no password
    assert masked_dsn("postgresql://cv:p@ss@db/cv") == "postgresql://cv:***@db/cv"


def test_the_secrets_are_the_password_as_written_and_decoded() -> None:
    assert secrets_of(DSN) == ["Pa%24%24w0rd-xyz", DECODED]
    assert secrets_of("postgresql://cv@127.0.0.1/cv") == []
    assert secrets_of(None) == []
    assert masked(f"dsn = '{DSN}' and {DECODED}", secrets_of(DSN)) == (
        "dsn = 'postgresql://contravento:***@127.0.0.1:5432/contravento' and ***"
    )


def test_pytests_output_is_masked_line_by_line(tmp_path: Path) -> None:
    code = f"import sys; print({DSN!r}); print('dsn = {DECODED}', file=sys.stderr); sys.exit(3)"
    request = BenchRequest(target="http://x", dsn=DSN, run_dir=tmp_path, bcrypt_rounds=4)
    log = tmp_path / "bench.log"
    returncode = run_logged([sys.executable, "-c", code], request, {}, log, secrets_of(DSN))
    assert returncode == 3
    written = log.read_text()
    assert DECODED not in written and "Pa%24%24" not in written
    assert "contravento:***@127.0.0.1" in written and "dsn = ***" in written


def test_junit_and_json_are_masked_in_their_text_never_in_their_markup(tmp_path: Path) -> None:
    junit = tmp_path / "bench-junit.xml"
    junit.write_text(
        '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">'
        f'<testcase name="test_x"><failure message="dsn={DECODED}">settings = Settings(dsn='
        f"'{DSN}')</failure></testcase></testsuite></testsuites>"
    )
    mask_junit(junit, secrets_of(DSN))
    root = ET.fromstring(junit.read_bytes())  # noqa: S314 -- written just above
    failure = root.find(".//failure")
    assert failure is not None and failure.get("message") == "dsn=***"
    assert (
        failure.text
        == "settings = Settings(dsn='postgresql://contravento:***@127.0.0.1:5432/contravento')"
    )
    bench_json = tmp_path / "benchmark.json"
    bench_json.write_text(json.dumps({"extra": {"note": DECODED}, "stats": {"rounds": 12}}))
    mask_json(bench_json, ["12", DECODED])  # a figure is never touched, a string is
    assert json.loads(bench_json.read_text()) == {"extra": {"note": "***"}, "stats": {"rounds": 12}}


def test_the_suite_registers_addresses_a_strict_validator_accepts() -> None:
    """The reference backend refuses special-use domains as email-validator does."""
    body = RegisterIn(username="bench_user", email=f"bench_user@{EMAIL_DOMAIN}", password=PASSWORD)
    assert body.email.endswith(EMAIL_DOMAIN)
