"""Resource sampling during a run: containers or local processes, the host, PostgreSQL (JSONL)."""

from harness.monitor.cgroups import CgroupSampler
from harness.monitor.containers import ContainerSampler, JsonlWriter, sample_of
from harness.monitor.coverage import coverage, read_samples
from harness.monitor.host import HostSampler
from harness.monitor.ledger import CpuLedger
from harness.monitor.monitors import MonitorRequest, Monitors
from harness.monitor.postgres import PostgresSampler
from harness.monitor.processes import ProcessSampler

__all__ = [
    "CgroupSampler",
    "ContainerSampler",
    "CpuLedger",
    "HostSampler",
    "JsonlWriter",
    "MonitorRequest",
    "Monitors",
    "PostgresSampler",
    "ProcessSampler",
    "coverage",
    "read_samples",
    "sample_of",
]
