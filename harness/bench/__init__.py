"""The benchmark phase: the pytest-benchmark suite against a stack, baselines, the gate."""

from harness.bench.gate import (
    KEEP_RUNS,
    check_name,
    compare,
    comparison_table,
    find_baseline,
    gate_failed,
    read_bench_json,
    save_baseline,
)
from harness.bench.runner import (
    BENCH_JSON,
    BenchRequest,
    BenchTargets,
    bench_table,
    load_targets,
    run_suite,
    tolerance_of,
)

__all__ = [
    "BENCH_JSON",
    "KEEP_RUNS",
    "BenchRequest",
    "BenchTargets",
    "bench_table",
    "check_name",
    "compare",
    "comparison_table",
    "find_baseline",
    "gate_failed",
    "load_targets",
    "read_bench_json",
    "run_suite",
    "save_baseline",
    "tolerance_of",
]
