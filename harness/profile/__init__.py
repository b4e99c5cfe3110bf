"""Profiling the backend during the measured window: py-spy samples, top functions, a flame tree."""

from harness.profile.collapsed import flame_tree, parse_collapsed, top_functions
from harness.profile.profiler import (
    PROFILER_ROLE,
    PROFILING_OFF,
    DockerTarget,
    LocalTarget,
    Profiler,
    Skip,
    Target,
    backend_container,
    not_ours,
)
from harness.profile.pyspy import DEFAULT_RATE_HZ, Sampling
from harness.profile.summary import (
    RAW,
    SUMMARY,
    FlameNode,
    ProfileSummary,
    TopFunction,
    read_summary,
)

__all__ = [
    "DEFAULT_RATE_HZ",
    "PROFILER_ROLE",
    "PROFILING_OFF",
    "RAW",
    "SUMMARY",
    "DockerTarget",
    "FlameNode",
    "LocalTarget",
    "ProfileSummary",
    "Profiler",
    "Sampling",
    "Skip",
    "Target",
    "TopFunction",
    "backend_container",
    "flame_tree",
    "not_ours",
    "parse_collapsed",
    "read_summary",
    "top_functions",
]
