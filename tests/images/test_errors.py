"""The user-facing errors of harness.images: each names the problem and gives a hint."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest

from harness.errors import DockerUnavailable, ImageBuildError
from harness.images import __main__ as images_main
from harness.images import debootstrap
from harness.images.apt_sources import AptSource
from harness.images.base import PYTHON_BASE
from harness.images.docker_cli import DockerCli


def test_missing_docker_cli_is_docker_unavailable() -> None:
    with pytest.raises(DockerUnavailable) as caught:
        DockerCli("no-such-docker-cli").ensure_available()

    assert "not found" in caught.value.message
    assert "install" in caught.value.hint


@pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker CLI (not a daemon)")
def test_unreachable_daemon_is_docker_unavailable(tmp_path: Path) -> None:
    environ = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DOCKER_HOST": f"unix://{tmp_path}/no-daemon.sock",
    }

    with pytest.raises(DockerUnavailable) as caught:
        DockerCli(environ=environ).ensure_available()

    assert "not reachable" in caught.value.message
    assert "start it" in caught.value.hint


def test_cli_prints_message_and_hint_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stdout, stderr = io.StringIO(), io.StringIO()

    def unavailable(*_: object, **__: object) -> None:
        raise DockerUnavailable("the Docker daemon is not reachable", "start it")

    monkeypatch.setattr(images_main, "build_images", unavailable)
    code = images_main.main(["--repo-root", str(tmp_path)], stdout=stdout, stderr=stderr)

    assert code == 2
    assert stderr.getvalue() == "error: the Docker daemon is not reachable\nhint: start it\n"
    assert stdout.getvalue() == ""


def test_offline_base_needs_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(debootstrap.os, "geteuid", lambda: 1000)

    with pytest.raises(ImageBuildError) as caught:
        debootstrap.build_offline_base(DockerCli(), PYTHON_BASE.recipe, progress=print)

    assert "root" in caught.value.message
    assert "docker save" in caught.value.hint


def test_unreachable_mirror_is_an_image_build_error() -> None:
    # Port 9 (discard) on loopback: refused at once, no network needed.
    source = AptSource(uri="http://127.0.0.1:9/debian", suites=("bookworm",), components=("main",))

    with pytest.raises(ImageBuildError) as caught:
        debootstrap.check_mirror(source, "bookworm", timeout=5)

    assert "127.0.0.1:9" in caught.value.message
    assert "docker load" in caught.value.hint


def test_remove_rootfs_deletes_a_plain_folder(tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs"
    (rootfs / "usr" / "bin").mkdir(parents=True)
    (rootfs / "usr" / "bin" / "true").write_text("")

    debootstrap.remove_rootfs(rootfs)

    assert not rootfs.exists()
