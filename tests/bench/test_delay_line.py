"""The benchmark's delay line behaves like a link of the round trip it is given:
an echo server behind it answers no sooner than one RTT, with every byte
intact and in order, over many connections at once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.delay_line import DelayLine

ROOT = Path(__file__).resolve().parents[2]
RTT = 0.04


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


async def with_echo_behind_delay_line(rtt: float) -> tuple[asyncio.Server, DelayLine]:
    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    delay_line = DelayLine(
        target_host="127.0.0.1", target_port=server.sockets[0].getsockname()[1], rtt=rtt
    )
    await delay_line.start()
    return server, delay_line


async def shut(server: asyncio.Server, delay_line: DelayLine) -> None:
    await delay_line.close()
    server.close()
    await server.wait_closed()


def test_a_round_trip_takes_at_least_the_rtt_and_bytes_come_back_intact_in_order() -> None:
    async def scenario() -> tuple[list[float], bytes, bytes]:
        server, delay_line = await with_echo_behind_delay_line(RTT)
        reader, writer = await asyncio.open_connection("127.0.0.1", delay_line.port)
        round_trips = []
        for i in range(3):
            started = time.monotonic()
            writer.write(f"ping {i}\n".encode())
            await writer.drain()
            assert await reader.readline() == f"ping {i}\n".encode()
            round_trips.append(time.monotonic() - started)
        # Many writes in a row, far more than one read: order and content kept.
        sent = b"".join(i.to_bytes(4, "big") for i in range(200_000))
        for offset in range(0, len(sent), 1000):
            writer.write(sent[offset : offset + 1000])
        writer.write_eof()
        received = await reader.read()  # to EOF: the half-close travels too
        writer.close()
        await shut(server, delay_line)
        return round_trips, sent, received

    round_trips, sent, received = asyncio.run(scenario())

    assert min(round_trips) >= RTT
    assert received == sent


def test_many_connections_at_once_each_get_their_own_bytes_back() -> None:
    async def scenario() -> list[tuple[bytes, bytes]]:
        server, delay_line = await with_echo_behind_delay_line(RTT)

        async def client(n: int) -> tuple[bytes, bytes]:
            reader, writer = await asyncio.open_connection("127.0.0.1", delay_line.port)
            message = f"connection {n} ".encode() * 500
            writer.write(message)
            writer.write_eof()
            echoed = await reader.read()
            writer.close()
            return message, echoed

        results = await asyncio.gather(*(client(n) for n in range(50)))
        assert delay_line.connections == 50
        await shut(server, delay_line)
        return list(results)

    for message, echoed in asyncio.run(scenario()):
        assert echoed == message


def test_the_delay_line_process_announces_its_port_and_stops_cleanly_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "delay_line.py"), "--target-port", "9"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("delay line listening on 127.0.0.1:"), line
        os.kill(process.pid, signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
