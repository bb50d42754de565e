"""A real SMTP server on loopback for tests (aiosmtpd), with STARTTLS and AUTH.

It records every accepted message with its envelope, and can be told to refuse
particular recipients: permanently (550) or a given number of times (451).
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import threading
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.certs import CertificateFiles
from tests.support.ports import free_port

USERNAME = "postino-test"
PASSWORD = "s3cret-pass"


@dataclass(frozen=True)
class ReceivedMessage:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    def parsed(self) -> EmailMessage:
        message = message_from_bytes(self.data, policy=default_policy)
        assert isinstance(message, EmailMessage)
        return message


@dataclass
class RecordingHandler:
    messages: list[ReceivedMessage] = field(default_factory=list)
    refuse_always: dict[str, str] = field(default_factory=dict)
    refuse_times: dict[str, tuple[int, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    authenticated_sessions: int = 0
    # Recipients whose DATA is held until the client goes away, then refused:
    # lets a test kill a worker while a message is in flight, deterministically.
    stall_until_disconnect: set[str] = field(default_factory=set)
    # Misbehaviours of real servers, each happening once per listed recipient:
    # a 421 "closing channel" reply at RCPT, or a DATA reply that never comes in
    # time (the message is then not accepted). And a server that drops the
    # connection after every Nth accepted message.
    reply_421_once: set[str] = field(default_factory=set)
    stall_once: set[str] = field(default_factory=set)
    stall_seconds: float = 3.0
    drop_every: int = 0
    stalled: threading.Event = field(default_factory=threading.Event)
    stall_over: threading.Event = field(default_factory=threading.Event)
    # A server farther away, or slower: each DATA answered after this long.
    # ``in_data`` counts messages being answered right now; ``most_in_data``
    # the most at once, so a test sees how many the client kept in flight.
    data_delay: float = 0.0
    in_data: int = 0
    most_in_data: int = 0
    offer_pipelining: bool = False

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if self.offer_pipelining:
            # aiosmtpd reads commands line by line, so it serves a pipelining
            # client correctly; it just does not say so by itself.
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if getattr(session, "hanging_up", False):
            # This connection was accepted-then-dropped (drop_every): it takes
            # no further message, however fast the client pipelines the next
            # one into the moment before the hang-up.
            server.transport.close()
            return "421 4.4.2 Closing connection"
        with self.lock:
            if address in self.reply_421_once:
                self.reply_421_once.discard(address)
                asyncio.get_running_loop().call_later(0.01, server.transport.close)
                return "421 4.3.2 Service shutting down, closing channel"
            if address in self.refuse_always:
                return self.refuse_always[address]
            remaining = self.refuse_times.get(address)
            if remaining and remaining[0] > 0:
                self.refuse_times[address] = (remaining[0] - 1, remaining[1])
                return remaining[1]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.in_data += 1
            self.most_in_data = max(self.most_in_data, self.in_data)
        try:
            if self.data_delay:
                await asyncio.sleep(self.data_delay)
            return await self._answer_data(server, session, envelope)
        finally:
            with self.lock:
                self.in_data -= 1

    async def _answer_data(self, server: Any, session: Any, envelope: Any) -> str:
        if self.stall_until_disconnect.intersection(envelope.rcpt_tos):
            self.stalled.set()
            try:
                for _ in range(600):
                    if _peer_has_gone(server):
                        return "451 4.4.2 Client went away"
                    await asyncio.sleep(0.05)
            finally:
                # aiosmtpd cancels this coroutine when the connection drops.
                self.stall_over.set()
        stalled = self.stall_once.intersection(envelope.rcpt_tos)
        if stalled:
            with self.lock:
                self.stall_once.difference_update(stalled)
            await asyncio.sleep(self.stall_seconds)
            return "451 4.4.1 Took too long, not accepted"
        with self.lock:
            self.messages.append(
                ReceivedMessage(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.content)
            )
            drop = self.drop_every and len(self.messages) % self.drop_every == 0
        if drop:
            # Accept, then hang up: the client finds out on its next command.
            session.hanging_up = True
            asyncio.get_running_loop().call_later(0.01, server.transport.close)
        return "250 2.0.0 Message accepted"

    def recipients(self) -> Counter[str]:
        with self.lock:
            return Counter(r for m in self.messages for r in m.rcpt_tos)

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.refuse_always.clear()
            self.refuse_times.clear()


def _peer_has_gone(server: Any) -> bool:
    """Peek at the raw TCP socket: EOF or reset means the client is gone."""
    transport = getattr(server, "transport", None)
    if transport is None or transport.is_closing():
        return True
    raw = transport.get_extra_info("socket")
    if raw is None:
        return True
    with socket.socket(fileno=os.dup(raw.fileno())) as peek:
        try:
            return peek.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True


class _Authenticator:
    def __init__(self, handler: RecordingHandler) -> None:
        self.handler = handler

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == USERNAME
            and auth_data.password.decode() == PASSWORD
        )
        if ok:
            self.handler.authenticated_sessions += 1
        return AuthResult(success=ok, handled=False)


@dataclass
class RunningSmtpServer:
    host: str
    port: int
    handler: RecordingHandler
    username: str = USERNAME
    password: str = PASSWORD


@contextmanager
def smtp_server(
    certs: CertificateFiles,
    *,
    implicit_tls: bool = False,
    require_auth: bool = True,
    plain: bool = False,
) -> Iterator[RunningSmtpServer]:
    """Run a server that requires STARTTLS (or speaks implicit TLS) and AUTH.

    ``plain``: no TLS offered at all, AUTH allowed in the clear (a relay on a
    trusted network, or a misconfigured one)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs.cert_file, certs.key_file)
    handler = RecordingHandler()
    port = free_port()
    kwargs: dict[str, Any] = {
        "authenticator": _Authenticator(handler),
        "auth_required": require_auth,
        "decode_data": False,
        "enable_SMTPUTF8": True,
    }
    if plain:
        warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
        controller = Controller(
            handler, hostname="127.0.0.1", port=port, auth_require_tls=False, **kwargs
        )
    elif implicit_tls:
        # aiosmtpd warns that AUTH is allowed without STARTTLS; here the whole
        # session is TLS, so the warning does not apply.
        warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
        controller = Controller(
            handler, hostname="127.0.0.1", port=port, ssl_context=context,
            # aiosmtpd only counts STARTTLS as TLS; this whole session is TLS.
            auth_require_tls=False, **kwargs,
        )  # fmt: skip
    else:
        controller = Controller(
            handler, hostname="127.0.0.1", port=port, tls_context=context,
            require_starttls=True, auth_require_tls=True, **kwargs,
        )  # fmt: skip
    controller.start()
    try:
        yield RunningSmtpServer(host="127.0.0.1", port=port, handler=handler)
    finally:
        controller.stop()
