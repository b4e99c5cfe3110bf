"""Isolated stacks: PostgreSQL + backend in Docker, a local subprocess, or an external target."""

from __future__ import annotations

from harness.stack.external import attach_external
from harness.stack.lifecycle import (
    PROVIDERS,
    UpRequest,
    current,
    down,
    ensure_port_free,
    is_alive,
    resolve_provider,
    reusable,
    stop,
    up,
)
from harness.stack.reaper import CleanReport, clean
from harness.stack.stacks import LoadSite, Services, Stack, kind_of, stack_of
from harness.stack.state import StackState, harness_home

__all__ = [
    "PROVIDERS",
    "CleanReport",
    "LoadSite",
    "Services",
    "Stack",
    "StackState",
    "UpRequest",
    "attach_external",
    "clean",
    "current",
    "down",
    "ensure_port_free",
    "harness_home",
    "is_alive",
    "kind_of",
    "resolve_provider",
    "reusable",
    "stack_of",
    "stop",
    "up",
]
