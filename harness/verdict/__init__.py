"""The SLO verdict: targets from TOML, evaluated over a run's per-endpoint results."""

from __future__ import annotations

from harness.verdict.slo import DEFAULT_SLO, SloConfig, evaluate, load_slo

__all__ = ["DEFAULT_SLO", "SloConfig", "evaluate", "load_slo"]
