"""`python -m harness.images`: build (or reuse) the harness images and print their tags."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO, cast

from harness.errors import HarnessError
from harness.images.base import BASE_MODES, BaseMode
from harness.images.build import build_images


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m harness.images",
        description="Build the backend, locust and postgres images (content-addressed, cached).",
    )
    parser.add_argument(
        "--base",
        choices=BASE_MODES,
        default="auto",
        help="where base images come from: registry, offline (debootstrap), or auto "
        "(registry, falling back to offline when a pull fails); default: auto",
    )
    parser.add_argument(
        "--repo-root",
        type=Path,
        default=Path(__file__).resolve().parents[2],
        help="the repository to build from (default: this checkout)",
    )
    return parser


def main(
    argv: Sequence[str] | None = None, stdout: TextIO = sys.stdout, stderr: TextIO = sys.stderr
) -> int:
    args = _parser().parse_args(argv)

    def progress(line: str) -> None:
        stderr.write(line + "\n")
        stderr.flush()

    try:
        images = build_images(args.repo_root, base=cast(BaseMode, args.base), progress=progress)
    except HarnessError as exc:
        stderr.write(exc.render() + "\n")
        return exc.exit_code
    # Tags on stdout, one per line, so scripts can read them (progress went to stderr).
    stdout.write(f"backend={images.backend}\nlocust={images.locust}\npostgres={images.postgres}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
