"""SLO targets from a TOML file, and the verdict over per-endpoint results."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import ConfigError

DEFAULT_SLO = Path(__file__).with_name("default-slo.toml")
TOP_KEYS = {"max_failure_rate", "group"}
GROUP_KEYS = {"name", "p95_ms", "endpoints"}


@dataclass(frozen=True)
class Group:
    name: str
    p95_ms: float
    endpoints: tuple[str, ...]


@dataclass(frozen=True)
class SloConfig:
    max_failure_rate: float
    groups: tuple[Group, ...]
    source: str

    def group_of(self, endpoint: str) -> Group | None:
        return next((g for g in self.groups if endpoint in g.endpoints), None)


def _bad(path: Path, what: str) -> ConfigError:
    return ConfigError(f"{path}: {what}", f"compare with {DEFAULT_SLO}")


def load_slo(path: Path | None = None) -> SloConfig:
    path = path or DEFAULT_SLO
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"no SLO file at {path}", "check the --slo path") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise _bad(path, f"not valid TOML ({exc})") from None
    unknown = set(raw) - TOP_KEYS
    if unknown:
        raise _bad(path, f"unknown key(s) {', '.join(sorted(unknown))}")
    rate = raw.get("max_failure_rate", 0.01)
    if not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise _bad(path, "max_failure_rate must be a number between 0 and 1")
    groups = []
    for i, group in enumerate(raw.get("group", [])):
        if (
            not isinstance(group, dict)
            or set(group) - GROUP_KEYS
            or not {"name", "p95_ms"} <= set(group)
        ):
            raise _bad(path, f"group {i + 1} needs name, p95_ms, endpoints and nothing else")
        p95 = group["p95_ms"]
        endpoints = group.get("endpoints", [])
        if not isinstance(p95, int | float) or p95 <= 0:
            raise _bad(path, f"group {group['name']!r}: p95_ms must be a positive number")
        if not isinstance(endpoints, list) or not all(isinstance(e, str) for e in endpoints):
            raise _bad(path, f"group {group['name']!r}: endpoints must be a list of strings")
        groups.append(Group(str(group["name"]), float(p95), tuple(endpoints)))
    return SloConfig(float(rate), tuple(groups), str(path))


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
            reasons.append(f"p95 {ep['p95_ms']:.0f} ms > {group.p95_ms:.0f} ms")
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
