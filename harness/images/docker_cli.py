"""The `docker` command line as the images package uses it: lookups, pulls, builds, imports."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.console import progress_task
from harness.errors import DockerUnavailable, ImageBuildError
from harness.images.labels import IMAGE_PREFIX

Progress = Callable[[str], None]

# Legacy-builder step lines and BuildKit's plain step lines: enough to show where a build is.
_STEP_LINE = re.compile(r"^(Step \d+/\d+ : |#\d+ \[)")
# Where the step is: "Step 3/13 : RUN ..." (legacy) or "#7 [build 2/5] RUN ..." (BuildKit).
_STEP_COUNT = re.compile(r"^(?:Step (\d+)/(\d+) : |#\d+ \[(?:\S+ )?(\d+)/(\d+)\] )(.*)")
_TAIL_LINES = 40


@dataclass(frozen=True)
class Streamed:
    """How a streamed command ended, with the last lines it printed."""

    returncode: int
    tail: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def tail_text(self) -> str:
        return "\n".join(self.tail)


def stream(
    argv: Sequence[str],
    *,
    on_line: Callable[[str], None] | None = None,
    stdin_text: str | None = None,
    stdin_file: int | None = None,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
) -> Streamed:
    """Run `argv`, handing each output line (stdout and stderr merged) to `on_line`."""
    tail: deque[str] = deque(maxlen=_TAIL_LINES)
    stdin: int | None = subprocess.PIPE if stdin_text is not None else stdin_file
    with subprocess.Popen(
        list(argv),
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        env=env,
    ) as proc:
        # Reading blocks until the command closes its output, so the deadline must kill it.
        watchdog = threading.Timer(timeout, proc.kill) if timeout is not None else None
        if watchdog is not None:
            watchdog.start()
        try:
            if stdin_text is not None and proc.stdin is not None:
                proc.stdin.write(stdin_text)
                proc.stdin.close()
            assert proc.stdout is not None
            for raw in proc.stdout:
                line = raw.rstrip()
                if not line:
                    continue
                tail.append(line)
                if on_line is not None:
                    on_line(line)
            returncode = proc.wait()
        finally:
            if watchdog is not None:
                watchdog.cancel()
    if returncode < 0 and timeout is not None:
        tail.append(f"(killed: no result within {timeout:.0f}s)")
    return Streamed(returncode, tuple(tail))


class DockerCli:
    """A thin wrapper over the `docker` executable; every failure becomes a harness error."""

    def __init__(
        self, executable: str = "docker", environ: Mapping[str, str] | None = None
    ) -> None:
        self.executable = executable
        # None inherits this process's environment (DOCKER_HOST, DOCKER_CONFIG, ...).
        self.environ = dict(environ) if environ is not None else None

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                [self.executable, *args],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                env=self.environ,
            )
        except FileNotFoundError as exc:
            raise DockerUnavailable(
                f"the `{self.executable}` command was not found",
                "install the Docker CLI (apt-get install docker.io) and start the daemon",
            ) from exc
        except subprocess.TimeoutExpired as exc:
            raise DockerUnavailable(
                f"`docker {' '.join(args)}` did not answer within {timeout:.0f}s",
                "check that the Docker daemon is healthy (`docker info`)",
            ) from exc

    def ensure_available(self) -> str:
        """The daemon's architecture (e.g. `x86_64`); raises if no daemon answers."""
        search_path = (self.environ or os.environ).get("PATH")
        if shutil.which(self.executable, path=search_path) is None:
            raise DockerUnavailable(
                f"the `{self.executable}` command was not found",
                "install the Docker CLI (apt-get install docker.io) and start the daemon",
            )
        done = self._run("info", "--format", "{{.Architecture}}")
        arch = done.stdout.strip()
        if done.returncode != 0 or not arch:
            detail = (done.stderr.strip().splitlines() or ["no answer"])[-1]
            raise DockerUnavailable(
                f"the Docker daemon is not reachable: {detail}",
                "start it (systemctl start docker, or dockerd &) and check that this user "
                "may use /var/run/docker.sock (root or the docker group)",
            )
        return arch

    def image_id(self, ref: str) -> str | None:
        """The local image id for `ref`, or None when no such image is present."""
        done = self._run("image", "inspect", "--format", "{{.Id}}", ref)
        image_id = done.stdout.strip()
        return image_id if done.returncode == 0 and image_id else None

    def label(self, ref: str, key: str) -> str | None:
        """One label of a local image; None when the image or the label is absent."""
        done = self._run(
            "image", "inspect", "--format", f'{{{{index .Config.Labels "{key}"}}}}', ref
        )
        value = done.stdout.strip()
        return value if done.returncode == 0 and value and value != "<no value>" else None

    def tag(self, source: str, target: str) -> None:
        done = self._run("tag", source, target)
        if done.returncode != 0:
            raise ImageBuildError(
                f"`docker tag {source} {target}` failed: {done.stderr.strip()}",
                "check that the image exists (`docker images`) and the daemon is healthy",
            )

    def pull(self, ref: str, *, timeout: float = 900) -> Streamed:
        """Try to pull `ref`; the caller decides whether a failure is fatal."""
        return stream([self.executable, "pull", ref], timeout=timeout, env=self.environ)

    def build(
        self,
        *,
        tag: str,
        context: Path | None,
        dockerfile: Path | None = None,
        dockerfile_text: str | None = None,
        build_args: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        target: str | None = None,
        progress: Progress,
    ) -> str:
        """Build and tag an image; returns its id. Give a context dir, or Dockerfile text alone."""
        # --force-rm: a failed step must not leave its container behind.
        argv = [self.executable, "build", "--force-rm", "--tag", tag]
        for key, value in (build_args or {}).items():
            argv += ["--build-arg", f"{key}={value}"]
        for key, value in (labels or {}).items():
            argv += ["--label", f"{key}={value}"]
        if target is not None:
            argv += ["--target", target]
        if dockerfile_text is not None:
            # A Dockerfile on stdin and no context: nothing is sent but the text itself.
            argv.append("-")
        else:
            if context is None:
                raise ValueError("build() needs a context folder or dockerfile_text")
            if dockerfile is not None:
                argv += ["--file", str(dockerfile)]
            argv.append(str(context))

        # One bar per image on a terminal (step N of M); elsewhere every step line, as they come.
        own = tag.removeprefix(f"{IMAGE_PREFIX}/")
        task = progress_task(progress, tag if own == tag else own.split(":")[0], paced=False)

        def show(line: str) -> None:
            if not _STEP_LINE.match(line):
                return
            step = _STEP_COUNT.match(line)
            if step is None:  # a BuildKit step of its own ("[internal] load ..."): no count
                task.update(status=line, line=f"  {line[:150]}")
                return
            number, steps = step[1] or step[3], step[2] or step[4]
            task.update(
                completed=int(number), total=int(steps), status=step[5], line=f"  {line[:150]}"
            )

        try:
            done = stream(
                argv, on_line=show, stdin_text=dockerfile_text, timeout=3600, env=self.environ
            )
        finally:
            task.done()
        image_id = self.image_id(tag) if done.ok else None
        if image_id is None:
            raise ImageBuildError(
                f"building {tag} failed (exit {done.returncode}); last output:\n{done.tail_text()}",
                "fix the error above and run `python -m harness.images` again; "
                "unchanged images are reused from the cache",
            )
        return image_id

    def import_rootfs(self, rootfs: Path, tag: str, *, changes: Sequence[str]) -> str:
        """`tar -C rootfs -c . | docker import - tag`; returns the new image id."""
        tar_argv = [
            "tar",
            "--numeric-owner",
            "--one-file-system",
            # Docker supplies /dev, /proc and /sys at run time; their contents must not be baked in.
            "--exclude=./dev/*",
            "--exclude=./proc/*",
            "--exclude=./sys/*",
            "-C",
            str(rootfs),
            "-c",
            ".",
        ]
        import_argv = [self.executable, "import"]
        for change in changes:
            import_argv += ["--change", change]
        import_argv += ["-", tag]
        with subprocess.Popen(tar_argv, stdout=subprocess.PIPE) as tar:
            assert tar.stdout is not None
            done = stream(
                import_argv, stdin_file=tar.stdout.fileno(), timeout=1800, env=self.environ
            )
            tar.stdout.close()
            tar_rc = tar.wait()
        image_id = self.image_id(tag) if done.ok and tar_rc == 0 else None
        if image_id is None:
            raise ImageBuildError(
                f"importing {rootfs} as {tag} failed (tar exit {tar_rc}, "
                f"docker import exit {done.returncode}):\n{done.tail_text()}",
                "check free disk space under /var/lib/docker and the daemon's log",
            )
        return image_id
