"""The profile phase: py-spy on the backend through the measured window, into the run record."""

from __future__ import annotations

from pathlib import Path

from harness.docker_api import docker_client
from harness.images import build_images
from harness.owner import Owner
from harness.pipeline.context import RunContext
from harness.profile import (
    PROFILER_ROLE,
    DockerTarget,
    LocalTarget,
    Profiler,
    ProfileSummary,
    Sampling,
    backend_container,
)
from harness.profile.profiler import PROFILING_OFF, Skip, Target, not_ours
from harness.record import Profile, ProfileFunction
from harness.stack import Stack

FOLDER = "profile"


def profile_target(ctx: RunContext, stack: Stack, wanted: bool) -> Target:
    """What to profile: the backend the harness started, if it runs Python; else why not."""
    services = stack.services()
    if not wanted:
        return PROFILING_OFF
    if services is None or not services.watched:
        return not_ours(stack.backend_url)
    if services.container_label is not None:
        found = backend_container(docker_client(), services.container_label)
        if found is None:
            return Skip("the backend container is not running")
        site = stack.load_site()  # py-spy comes in the load generator's image
        image = site.image or build_images(ctx.repo_root, progress=lambda _: None).locust
        return DockerTarget(found, image, stack.labels(PROFILER_ROLE, Owner.current()))
    if services.backend_pid is not None:
        return LocalTarget(services.backend_pid)
    return Skip("the stack names no backend process to sample")


def new_profiler(
    ctx: RunContext, stack: Stack, wanted: bool, rate_hz: int, run_dir: Path
) -> Profiler:
    return Profiler(
        profile_target(ctx, stack, wanted), run_dir / FOLDER, sampling=Sampling(rate_hz=rate_hz)
    )


def finish(profiler: Profiler, started: bool) -> Profile:
    """Stop the profiler (or say the window never began) and give the record's summary of it."""
    if not started:
        profiler.target = Skip("the measured window never began, so nothing was profiled")
        profiler.start()
    summary = profiler.stop()
    return record_of(summary)


def record_of(summary: ProfileSummary) -> Profile:
    status = {"ok": "recorded"}.get(summary.status, summary.status)
    reason = summary.reason + (f" (hint: {summary.hint})" if summary.hint else "")
    return Profile.model_validate(
        {
            "status": status,
            "reason": reason,
            "samples": summary.samples,
            "processes": summary.processes,
            "rate_hz": summary.rate_hz,
            "top": [
                ProfileFunction(
                    function=f.function,
                    file=f.file,
                    own_share=f.own_share,
                    total_share=f.total_share,
                    own_samples=f.own_samples,
                )
                for f in summary.top[:10]
            ],
            "summary": f"{FOLDER}/summary.json",
        }
    )
