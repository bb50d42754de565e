"""HTTP load for benches: gunicorn as production runs it, and clients that keep it busy.

``gunicorn`` starts the web process with the project's ``gunicorn.conf.py``
(``WEB_CONCURRENCY`` processes of ``WEB_THREADS`` threads, gthread) and the
access log production writes, and waits until Django answers.

``closed_loop`` is the capacity measurement: ``clients`` keep-alive
connections, each sending its next request the moment the previous answer
is in, so the figure is the most answers per second the server gives, not
its latency at a given rate (``bench/redirect_latency.py``'s open loop
measures that). The client parses no more HTTP/1.1 than it must (the status
line and ``Content-Length``), so it leaves the shared cores to the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.send_throughput import free_port, process_tree

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Server:
    port: int
    pid: int

    def pids(self) -> list[int]:
        """The gunicorn master and its workers."""
        return process_tree(self.pid)


@contextlib.contextmanager
def gunicorn(env: Mapping[str, str], *, ready_path: str = "/healthz") -> Iterator[Server]:
    """gunicorn serving Postino on a free loopback port until the block ends."""
    port = free_port()
    argv = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]
    argv += ["--bind", f"127.0.0.1:{port}", "--backlog", "2048", "--access-logfile", "-"]
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=dict(env), stdout=subprocess.DEVNULL, stderr=errors
        )
        try:
            _wait_for_answer(port, ready_path, process, errors)
            yield Server(port, process.pid)
        finally:
            process.terminate()
            process.wait(15)


def _wait_for_answer(
    port: int, path: str, process: subprocess.Popen[bytes], errors: IO[bytes]
) -> None:
    deadline = time.monotonic() + 60
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(request)
                if sock.recv(12).startswith(b"HTTP/1.1"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    errors.seek(0)
    tail = errors.read().decode(errors="replace")[-2000:]
    raise RuntimeError(f"gunicorn did not answer on port {port}:\n{tail}")


@dataclass
class Load:
    """What ``closed_loop`` saw: every answer's status and time, from the
    first request to the last answer."""

    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    # Seconds from sending a request to the end of its answer, expected ones only.
    latencies: list[float] = field(default_factory=list)
    # The first few unexpected answers (status line and body) or broken connections.
    failures: list[str] = field(default_factory=list)

    def count(self, status: int) -> int:
        return self.statuses[status]

    def per_second(self, status: int) -> float:
        return self.statuses[status] / self.seconds

    def unexpected(self, status: int) -> int:
        return sum(self.statuses.values()) - self.statuses[status]

    def percentile_ms(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000 if ordered else 0


def get(path: str, headers: Mapping[str, str]) -> bytes:
    return _request("GET", path, headers, b"")


def post_json(path: str, headers: Mapping[str, str], body: bytes) -> bytes:
    return _request("POST", path, {**headers, "Content-Type": "application/json"}, body)


def _request(method: str, path: str, headers: Mapping[str, str], body: bytes) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method != "GET":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def closed_loop(
    port: int, request: Callable[[int], bytes], *, clients: int, seconds: float, expect: int
) -> Load:
    """Answers from ``clients`` connections for ``seconds``; ``request(n)``
    makes the n-th request of the run (n counts from 0 across all clients)."""
    return asyncio.run(_closed_loop(port, request, clients, seconds, expect))


async def _closed_loop(
    port: int, request: Callable[[int], bytes], clients: int, seconds: float, expect: int
) -> Load:
    load = Load()
    numbers = itertools.count()
    start = time.perf_counter()
    until = start + seconds
    await asyncio.gather(
        *(_client(port, request, numbers, until, expect, load) for _ in range(clients))
    )
    load.seconds = time.perf_counter() - start
    return load


async def _client(
    port: int,
    request: Callable[[int], bytes],
    numbers: Iterator[int],
    until: float,
    expect: int,
    load: Load,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until:
            sent = time.perf_counter()
            writer.write(request(next(numbers)))
            try:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                closing = False
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                    elif name.lower() == b"connection" and value.strip().lower() == b"close":
                        closing = True
                body = await reader.readexactly(length) if length else b""
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                load.statuses[0] += 1
                _note(load, f"connection broken: {exc!r}")
                closing = True
            else:
                status = int(head[9:12])
                load.statuses[status] += 1
                if status == expect:
                    load.latencies.append(time.perf_counter() - sent)
                else:
                    _note(load, head.split(b"\r\n", 1)[0].decode() + " " + body[:300].decode())
            if closing:
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
    finally:
        writer.close()


def _note(load: Load, failure: str) -> None:
    if len(load.failures) < 5:
        load.failures.append(failure)
