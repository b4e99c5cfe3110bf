"""The fixture run folders of the report tests, copies of them to write into, and the page's data."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FULL_LOAD = FIXTURES / "full-load"
BENCH_ONLY = FIXTURES / "bench-only"
# Planted in the full-load fixture: a DSN password, a jwt_secret value, an ALTER ROLE.
SECRETS = ("hunter2secret", "jwt-signing-key")
XSS_NAME = "/search?q=<script>alert(1)</script>"
# The charts a full run draws, in page order.
CHARTS = ("throughput", "latency", "cpu", "memory", "db-connections", "db-transactions", "db-cache")
VALID_CONTAINER_LINES = 244  # containers.jsonl also ends with one line cut short

DATA = re.compile(r'<script type="application/json" id="report-data">(.*?)</script>', re.DOTALL)


def copy_run(source: Path, into: Path) -> Path:
    """A writable copy of a fixture run folder (the report writes into its run folder)."""
    target = into / source.name
    shutil.copytree(source, target)
    return target


def page_data(html: str) -> dict[str, Any]:
    """The chart data index.html embeds for its script."""
    match = DATA.search(html)
    assert match is not None, "index.html embeds no report-data"
    data: dict[str, Any] = json.loads(match[1])
    return data


def edit_results(run_dir: Path, **changes: Any) -> None:
    path = run_dir / "results.json"
    results = json.loads(path.read_text())
    results.update(changes)
    path.write_text(json.dumps(results))
