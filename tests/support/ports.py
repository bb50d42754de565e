"""Free loopback ports for test servers."""

from __future__ import annotations

import contextlib
import socket


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports. Every socket stays bound until
    all are chosen: one at a time, the kernel may hand back the port it just
    gave, and two servers told to share a port fail to start."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
