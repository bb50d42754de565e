"""A minimal, fast SMTP sink for benchmarks: accepts everything, stores nothing.

aiosmtpd is a full server and spends more time per message than the client we
want to measure; this speaks just enough SMTP (EHLO, MAIL, RCPT, DATA, RSET,
NOOP, QUIT, with PIPELINING) to be the fastest thing in the pipeline. Run it
as its own process: ``python bench/sink.py PORT``.
"""

from __future__ import annotations

import asyncio
import sys


class SinkProtocol(asyncio.Protocol):
    def __init__(self, counter: list[int]) -> None:
        self.counter = counter
        self.buffer = b""
        self.in_data = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(b"220 sink ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        replies: list[bytes] = []
        while True:
            if self.in_data:
                end = self.buffer.find(b"\r\n.\r\n")
                if end < 0:
                    # Keep only the tail that could hold a split terminator.
                    self.buffer = self.buffer[-4:]
                    break
                self.buffer = self.buffer[end + 5 :]
                self.in_data = False
                self.counter[0] += 1
                replies.append(b"250 2.0.0 Ok: queued\r\n")
                continue
            line_end = self.buffer.find(b"\r\n")
            if line_end < 0:
                break
            line = self.buffer[:line_end]
            self.buffer = self.buffer[line_end + 2 :]
            verb = line[:4].upper()
            if verb == b"EHLO":
                replies.append(b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
            elif verb == b"DATA":
                self.in_data = True
                replies.append(b"354 End data with <CR><LF>.<CR><LF>\r\n")
            elif verb == b"QUIT":
                replies.append(b"221 Bye\r\n")
                self.transport.write(b"".join(replies))
                self.transport.close()
                return
            else:
                replies.append(b"250 Ok\r\n")
        if replies:
            self.transport.write(b"".join(replies))


async def serve(port: int) -> None:
    counter = [0]
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SinkProtocol(counter), "127.0.0.1", port)
    print(f"sink listening on 127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
