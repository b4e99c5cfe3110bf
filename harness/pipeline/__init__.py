"""The pipeline: each user command composed from the phases (stack, seed, bench, load, report).

`commands` checks a command's options once into ready values and runs it; `stack_phase`,
`bench_phase` and `load_phase` each compose one step from the phase packages; `run_folder`
owns where a run's files go. Only this package imports more than one phase.
"""
