"""The bench phase: the suite against a stack, then the regression gate and a saved baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.bench import (
    BENCH_JSON,
    KEEP_RUNS,
    BenchRequest,
    bench_table,
    compare,
    comparison_table,
    find_baseline,
    gate_failed,
    read_bench_json,
    run_suite,
    save_baseline,
)
from harness.console import show_table
from harness.errors import StackError
from harness.pipeline.context import RunContext
from harness.pipeline.run_folder import commit
from harness.pipeline.specs import BenchSpec
from harness.stack import Stack


def bench_phase(ctx: RunContext, stack: Stack, spec: BenchSpec, run_dir: Path) -> dict[str, Any]:
    """The suite against the stack, its table printed; the summary for results.json."""
    options = spec.options
    summary = run_suite(
        BenchRequest(
            target=stack.backend_url,
            dsn=stack.db_dsn,
            run_dir=run_dir,
            bcrypt_rounds=options.bcrypt_rounds or stack.bcrypt_rounds,
            rounds=options.rounds,
            warmup=options.warmup,
            targets_file=options.targets_file,
            targets=spec.targets,
            repo_root=ctx.repo_root,
        ),
        ctx.progress,
    )
    table = bench_table(summary)
    (run_dir / "bench-table.txt").write_text("\n".join(table.plain_lines()) + "\n")
    show_table(ctx.progress, table)
    return summary


def gate_phase(
    ctx: RunContext, spec: BenchSpec, run_dir: Path, summary: dict[str, Any]
) -> dict[str, Any] | None:
    """This run against the baseline (--compare), and saved as one (--save-baseline)."""
    bench_json = run_dir / BENCH_JSON
    comparison = None
    name = spec.options.compare
    if spec.baseline is not None and bench_json.exists():
        rows = compare(
            [read_bench_json(run) for run in spec.baseline],
            read_bench_json(bench_json),
            {row["name"]: row["tolerance"] for row in summary["benchmarks"]},
        )
        table = comparison_table(rows, str(name))
        (run_dir / f"compare-{name}.txt").write_text("\n".join(table.plain_lines()) + "\n")
        show_table(ctx.progress, table)
        comparison = {"baseline": name, "rows": rows, "failed": gate_failed(rows)}
    saving = spec.options.save_baseline
    if saving is not None:
        if not bench_json.exists():
            raise StackError(
                "the suite measured nothing, so there is no baseline to save",
                f"see {run_dir / 'bench.log'}",
            )
        saved = save_baseline(bench_json, spec.baselines, saving, commit(ctx.repo_root))
        runs = len(find_baseline(spec.baselines, saving))
        ctx.progress(f"baseline {saving!r} saved: {saved} ({runs} of at most {KEEP_RUNS} runs)")
    return comparison
