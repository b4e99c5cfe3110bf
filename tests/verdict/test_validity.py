"""Each INVALID reason comes from its measurement, with evidence and a hint; quiet runs pass."""

from __future__ import annotations

from harness.record import HostLoad, OutsideProcess, TrendCheck, UserCounts, Window
from harness.verdict.validity import Conditions, GeneratorCpu, invalid_reasons

QUIET_HOST = HostLoad(cores=2, samples=60, busy=0.7, outside=0.03, steal=0.0, harness=0.01)


def window(**kw: object) -> Window:
    values: dict[str, object] = {
        "start": 1000.0,
        "end": 1060.0,
        "warmup_s": 25.0,
        "ramp_measured": False,
        "users": 100,
        "starts_done": True,
        "steady": True,
    }
    return Window.model_validate(values | kw)


def test_a_quiet_run_is_valid() -> None:
    bed = Conditions(
        host=QUIET_HOST,
        coverage={"cv-backend": 1.0, "cv-postgres": 0.98},
        window=window(),
        users=UserCounts(planned=100, reached=100, started=100),
        generators=[GeneratorCpu("worker-1", 0.35, 1.0)],
    )
    assert invalid_reasons(bed) == []


def test_a_cpu_hog_outside_the_stack_is_named() -> None:
    hog = OutsideProcess(pid=4242, name="python3", cores=0.98)
    host = HostLoad(cores=2, samples=60, busy=0.99, outside=0.49, top_outside=[hog])
    (reason,) = invalid_reasons(Conditions(host=host))
    assert reason.code == "host_busy" and "49%" in reason.message
    assert "outside: python3 (pid 4242) 0.98 cores" in reason.evidence
    assert "close" in reason.hint


def test_a_worker_at_its_quota_saturates_the_generator() -> None:
    bed = Conditions(generators=[GeneratorCpu("w1", 0.049, 0.05), GeneratorCpu("w2", 0.2, 1.0)])
    (reason,) = invalid_reasons(bed)
    assert reason.code == "generator_saturated"
    assert reason.evidence == ["w1: median 0.05 cores of its 0.05 (98%)"]
    assert "--workers" in reason.hint


def test_missing_samples_unfinished_warm_up_and_an_unsteady_window() -> None:
    moving = TrendCheck(metric="rps", first=15, last=79, change=4.27, tau=0.9, steady=False)
    bed = Conditions(
        coverage={"cv-backend": 0.62, "cv-postgres": 0.99},
        window=window(starts_done=False, steady=False, checks=[moving]),
    )
    codes = {r.code: r for r in invalid_reasons(bed)}
    assert set(codes) == {"samples_missing", "warmup_unfinished", "not_steady"}
    assert codes["samples_missing"].evidence == ["cv-backend: 62% of the expected 1 Hz samples"]
    assert "--warmup" in codes["not_steady"].hint
    assert codes["not_steady"].evidence[0].startswith("throughput: 15 rps in the first third")


def test_a_measured_ramp_is_not_held_to_steadiness() -> None:
    bed = Conditions(window=window(ramp_measured=True, steady=None, starts_done=None))
    assert invalid_reasons(bed) == []
