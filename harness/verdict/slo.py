"""SLO targets from a TOML file, and the verdict over per-endpoint results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr

from harness.config_file import FILE_MODEL, read_toml, validate_file

DEFAULT_SLO = Path(__file__).with_name("default-slo.toml")


class Group(BaseModel):
    """A `[[group]]` table: endpoints ("METHOD name", as Locust groups them) with one p95 target."""

    model_config = FILE_MODEL
    name: str
    p95_ms: float = Field(gt=0)
    endpoints: list[str] = []


class Compare(BaseModel):
    """`[compare]`: how much slower a version may be in `harness compare` before it fails."""

    model_config = FILE_MODEL
    tolerance: float = Field(0.10, ge=0, le=10)  # relative: 0.10 = 10 % slower
    endpoints: dict[str, float] = {}  # "METHOD name" (or a benchmark's name) -> its own

    def tolerance_of(self, name: str) -> float:
        return self.endpoints.get(name, self.tolerance)


class SloConfig(BaseModel):
    """The SLO file: a failure-rate limit for every endpoint, and p95 targets by group."""

    model_config = FILE_MODEL
    max_failure_rate: float = Field(0.01, ge=0, le=1)
    groups: list[Group] = Field([], alias="group")
    compare: Compare = Compare()
    _source: str = PrivateAttr("")

    @property
    def source(self) -> str:
        """The file these targets were read from."""
        return self._source

    def group_of(self, endpoint: str) -> Group | None:
        """The first group that lists the endpoint."""
        return next((g for g in self.groups if endpoint in g.endpoints), None)


def load_slo(path: Path | None = None) -> SloConfig:
    path = path or DEFAULT_SLO
    raw = read_toml(path, "SLO file", example=str(DEFAULT_SLO))
    config = validate_file(SloConfig, raw, path, example=str(DEFAULT_SLO))
    config._source = str(path)
    return config


def evaluate(
    config: SloConfig, endpoints: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], str]:
    """One SLO row per endpoint with requests; the verdict is PASS when every row passes."""
    rows = []
    for ep in endpoints:
        if ep["requests"] == 0:
            continue
        key = f"{ep['method']} {ep['name']}"
        group = config.group_of(key)
        reasons = []
        if group is not None and ep["p95_ms"] > group.p95_ms:
            reasons.append(f"p95 {_ms(ep['p95_ms'])} ms > {_ms(group.p95_ms)} ms")
        if ep["failure_rate"] > config.max_failure_rate:
            reasons.append(f"failures {ep['failure_rate']:.2%} > {config.max_failure_rate:.2%}")
        rows.append(
            {
                "endpoint": key,
                "group": group.name if group else None,
                "target_p95_ms": group.p95_ms if group else None,
                "p95_ms": ep["p95_ms"],
                "failure_rate": ep["failure_rate"],
                "max_failure_rate": config.max_failure_rate,
                "passed": not reasons,
                "reason": "; ".join(reasons),
            }
        )
    verdict = "PASS" if rows and all(r["passed"] for r in rows) else "FAIL"
    return rows, verdict


def _ms(value: float) -> str:
    """A whole figure as it is (Locust's buckets, a target); an exact one to 4 digits."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.4g}"
