"""Resource sampling during a run: containers (or local processes) and PostgreSQL, as JSONL."""

from harness.monitor.containers import ContainerSampler, JsonlWriter, sample_of
from harness.monitor.monitors import MonitorRequest, Monitors
from harness.monitor.postgres import PostgresSampler
from harness.monitor.processes import ProcessSampler

__all__ = [
    "ContainerSampler",
    "JsonlWriter",
    "MonitorRequest",
    "Monitors",
    "PostgresSampler",
    "ProcessSampler",
    "sample_of",
]
