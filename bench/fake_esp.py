"""A stand-in for an ESP's HTTP API on loopback, for `make bench`.

It speaks just enough HTTP/1.1 (keep-alive, ``Content-Length`` bodies) to be
Postmark's ``POST /email`` for anymail's Postmark backend (``api_url`` set to
this server), and answers each call after a fixed delay (default 50 ms), as
an API some way off that does some work per message would. It counts the
calls it holds at once, so the bench can show how many were in flight (an
ESP channel's ``max_connections`` caps that across workers).

``python bench/fake_esp.py [--port 0] [--delay-ms 50]`` prints ``fake ESP
listening on 127.0.0.1:PORT`` once ready and, on SIGTERM or SIGINT, one line
``calls N, most in flight M`` before it exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal


class FakeEsp:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.calls = 0
        self.in_flight = 0
        self.most_in_flight = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length) if length else b"{}"
                writer.write(await self.answer(body))
                await writer.drain()
        writer.close()

    async def answer(self, body: bytes) -> bytes:
        self.calls += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        to = str(json.loads(body).get("To", ""))
        content = json.dumps(
            {"To": to, "SubmittedAt": "2026-12-01T00:00:00Z", "ErrorCode": 0, "Message": "OK",
             "MessageID": f"fake-{self.calls}"}
        ).encode()  # fmt: skip
        return (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(content)).encode() + b"\r\n\r\n" + content
        )


async def serve(port: int, delay: float) -> None:
    esp = FakeEsp(delay)
    server = await asyncio.start_server(esp.handle, "127.0.0.1", port, backlog=1024)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(f"fake ESP listening on 127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    await stop.wait()
    server.close()
    print(f"calls {esp.calls}, most in flight {esp.most_in_flight}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay-ms", type=float, default=50.0)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.delay_ms / 1000))


if __name__ == "__main__":
    main()
