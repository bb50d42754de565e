"""A delay line on loopback: a TCP proxy that makes a local server look far away.

Each byte is held for half the round trip in each direction, as a network
link of that latency would hold it. Every chunk read is stamped with the time
it may leave (read time + RTT/2) and queued; a writer per direction sends each
chunk when its time comes. Because the delay is measured from when the bytes
arrived, not added per read, back-to-back writes (SMTP pipelining, a large
DATA) travel together and take one RTT/2 in all, not one per read. There is
no bandwidth cap, order is kept per direction, and a half-close (EOF) travels
behind the data that preceded it.

Run as a process (``make bench`` does):
``python bench/delay_line.py --target-port 2525 [--listen-port 0] [--rtt-ms 20]``;
it prints ``delay line listening on 127.0.0.1:PORT`` once ready, and stops
cleanly on SIGTERM or SIGINT. Or use ``DelayLine`` inside an event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import time
from typing import Any

READ_SIZE = 64 * 1024
DEFAULT_RTT_MS = 20.0


class DelayLine:
    """Forward ``listen`` → ``target``, holding bytes ``rtt / 2`` each way."""

    def __init__(
        self,
        *,
        target_host: str,
        target_port: int,
        rtt: float = DEFAULT_RTT_MS / 1000,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
    ) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.one_way = rtt / 2
        self.listen_host = listen_host
        self.listen_port = listen_port
        self.connections = 0  # accepted so far (for reports)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, self.listen_host, self.listen_port, backlog=1024
        )

    async def close(self) -> None:
        """Stop listening and cut every open connection."""
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        server_out: asyncio.StreamWriter | None = None
        try:
            # The server learns of the connection half a round trip late (the
            # SYN's trip), so its greeting reaches the client one RTT after
            # connecting.
            await asyncio.sleep(self.one_way)
            try:
                server_in, server_out = await asyncio.open_connection(
                    self.target_host, self.target_port
                )
            except OSError:
                return  # the target is down: the client sees the connection close
            await asyncio.gather(
                self._pipe(client_in, server_out), self._pipe(server_in, client_out)
            )
        finally:
            for writer in (client_out, server_out):
                if writer is not None:
                    writer.close()
            self._tasks.discard(task)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        """One direction: a reader stamps chunks, a writer releases them on time."""
        # (time the bytes may leave, bytes); b"" marks the end of the stream.
        line: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def receive() -> None:
            while True:
                try:
                    data = await source.read(READ_SIZE)
                except (ConnectionError, OSError):
                    data = b""
                line.put_nowait((time.monotonic() + self.one_way, data))
                if not data:
                    return

        async def deliver() -> None:
            while True:
                due, data = await line.get()
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                if not data:
                    with contextlib.suppress(OSError):
                        if sink.can_write_eof():
                            sink.write_eof()
                    return
                sink.write(data)
                try:
                    await sink.drain()
                except (ConnectionError, OSError):
                    return

        receiver = asyncio.create_task(receive())
        try:
            await deliver()
        finally:
            receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await receiver


async def serve(args: argparse.Namespace) -> None:
    delay_line = DelayLine(
        target_host=args.target_host,
        target_port=args.target_port,
        rtt=args.rtt_ms / 1000,
        listen_port=args.listen_port,
    )
    await delay_line.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(
        f"delay line listening on 127.0.0.1:{delay_line.port} -> "
        f"{args.target_host}:{args.target_port}, RTT {args.rtt_ms:g} ms",
        flush=True,
    )
    await stop.wait()
    await delay_line.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target-host", default="127.0.0.1")
    parser.add_argument("--target-port", type=int, required=True)
    parser.add_argument("--listen-port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--rtt-ms", type=float, default=DEFAULT_RTT_MS)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
