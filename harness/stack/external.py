"""The external provider: an already-running stack, guarded against non-loopback targets."""

from __future__ import annotations

import ipaddress
import socket
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from harness.errors import ConfigError, StackError, TargetRefused
from harness.stack.state import StackState


def target_host(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"--target {url!r} is not an http(s) URL",
            "give the backend's base URL, e.g. --target http://127.0.0.1:8000",
        )
    return parts.hostname


def is_loopback(host: str) -> bool:
    """True when every address the name resolves to is loopback (127.0.0.0/8 or ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror:
        return False
    addresses = {info[4][0] for info in infos}
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


def guard_target(url: str, allow_remote: bool) -> None:
    """Refuse to send traffic to anything but this machine unless explicitly allowed."""
    host = target_host(url)
    if not allow_remote and not is_loopback(host):
        raise TargetRefused(
            f"{host} is not a loopback address; the harness refuses to load-test it by default",
            "never load-test production by accident: if this is a test system you own, "
            "add --allow-remote-target",
        )


def guard_dsn(dsn: str, allow_remote: bool) -> None:
    host = urlsplit(dsn).hostname or "localhost"
    if not allow_remote and not host.startswith("/") and not is_loopback(host):
        raise TargetRefused(
            f"the database host {host} is not a loopback address",
            "add --allow-remote-target if you really mean to write to that database",
        )


def attach_external(
    stack_id: str, folder: Path, url: str, dsn: str | None, allow_remote: bool
) -> StackState:
    guard_target(url, allow_remote)
    if dsn is not None:
        guard_dsn(dsn, allow_remote)
    base = url.rstrip("/")
    try:
        response = httpx.get(f"{base}/health", timeout=5)
    except httpx.TransportError as exc:
        raise StackError(
            f"the target {base} is unreachable ({type(exc).__name__})",
            "check the URL and that the backend is running",
        ) from None
    if response.status_code != 200:
        raise StackError(
            f"{base}/health answered HTTP {response.status_code}, not 200",
            "point --target at a ContraVento backend's base URL (routes sit at the root)",
        )
    return StackState(
        stack_id=stack_id,
        provider="external",
        backend_url=base,
        db_dsn=dsn,
        folder=str(folder),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
