"""The harness's exception hierarchy: user mistakes (exit 2) versus a failed verdict (exit 1)."""

from __future__ import annotations


class HarnessError(Exception):
    """A problem the user can fix: printed as a message and a hint, exit code 2, no traceback."""

    exit_code = 2

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        return f"error: {self.message}\nhint: {self.hint}"


class DockerUnavailable(HarnessError):
    """No Docker daemon answers."""


class ImageBuildError(HarnessError):
    """An image could not be built (or its base could not be obtained)."""


class StackError(HarnessError):
    """A stack could not be started, found or stopped."""


class TargetRefused(HarnessError):
    """A non-loopback target was named without the explicit remote flag."""


class ConfigError(HarnessError):
    """A bad value on the command line or in a config file."""
