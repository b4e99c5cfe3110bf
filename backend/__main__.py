"""python -m backend: check settings, prepare the database once, then serve with N workers."""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys

import uvicorn

from backend.db import create_engine, prepare_database, wait_for_database
from backend.settings import Settings, SettingsError, load_settings


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m backend", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, help="server processes (default: WEB_CONCURRENCY)")
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    parser.add_argument("--access-log", action="store_true", help="log every request (costs CPU)")
    parser.add_argument(
        "--db-timeout", type=float, default=60.0, help="seconds to wait for the database"
    )
    return parser.parse_args(argv)


def _fail(message: str, hint: str) -> int:
    print(f"error: {message}\nhint: {hint}", file=sys.stderr)
    return 2


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


async def _prepare(settings: Settings, timeout_s: float) -> None:
    engine = create_engine(settings)
    try:
        await wait_for_database(engine, timeout_s)
        await prepare_database(engine)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    try:
        settings = load_settings(os.environ)
    except SettingsError as exc:
        return _fail(exc.message, exc.hint)
    workers = args.workers or settings.web_concurrency
    if not 1 <= args.port <= 65535:
        return _fail(f"port {args.port} is out of range", "use a port in 1..65535")
    if not _port_free(args.host, args.port):
        return _fail(
            f"{args.host}:{args.port} is already in use", "stop what listens there or pick --port"
        )
    try:
        asyncio.run(_prepare(settings, args.db_timeout))
    except TimeoutError as exc:
        return _fail(str(exc), "check DATABASE_URL and that the database server is running")
    uvicorn.run(
        "backend.app:app_from_environment",
        factory=True,
        host=args.host,
        port=args.port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        log_level=args.log_level,
        access_log=args.access_log,
        timeout_keep_alive=30,
        backlog=2048,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
