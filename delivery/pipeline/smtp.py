"""The SMTP channel: connections opened step by step, pooled per process,
shared under the server's cap, and messages sent over them with PIPELINING.

Each worker process keeps idle connections per server configuration and
reuses them across chunks; one idle for ``IDLE_KEEP_SECONDS`` is closed (and
its shared slot freed for other workers) by a reaper thread. A lane of the
transmit stage borrows one connection and sends one message at a time over
it; a connection the server dropped, answered 421 on, or stalled on is
discarded and only that message is retried.

When the server offers PIPELINING (RFC 2920), MAIL FROM, RCPT TO and DATA go
in one write and their three replies are read together, then the message and
its final dot: two round trips a message instead of four.
"""

from __future__ import annotations

import contextlib
import os
import re
import smtplib
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from django.conf import settings

from delivery.mime import ascii_address
from delivery.pipeline.slots import ConnectionSlots, bulk_connection_cap, refresh_due
from delivery.pipeline.types import (
    ChannelError,
    NoConnectionSlot,
    Outcome,
    PreparedMessage,
    SendResult,
    Stage,
)

if TYPE_CHECKING:
    from delivery.models import SmtpServer

# A pooled connection idle longer than this is probed with NOOP before reuse
# (one the reaper has not reached yet).
IDLE_PROBE_SECONDS = 20.0
# One idle longer than this is closed, so its slot serves other workers. A
# chunk's next chunk takes its connections back within milliseconds; a worker
# process that has gone quiet must not keep slots that another worker's chunk
# waits for (it waits SLOT_WAIT_SECONDS, 5 s, before giving its rows back).
IDLE_KEEP_SECONDS = 2.0
REAP_EVERY_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    username: str = ""
    password: str = ""
    timeout: float = 30.0
    max_connections: int = 4
    key: str = ""

    @classmethod
    def from_server(cls, server: SmtpServer) -> SmtpSettings:
        return cls(
            host=server.host,
            port=server.port,
            security=server.security,
            username=server.username,
            password=server.password,
            timeout=float(settings.POSTINO["SMTP_TIMEOUT"]),
            max_connections=server.max_connections,
            # A changed server configuration gets a fresh pool.
            key=f"{server.pk}:{server.updated_at.isoformat() if server.updated_at else ''}",
        )


def tls_context() -> ssl.SSLContext:
    # The system trust store; OpenSSL honours SSL_CERT_FILE / SSL_CERT_DIR.
    return ssl.create_default_context()


def _describe_os_error(exc: OSError) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    return exc.strerror or str(exc) or exc.__class__.__name__


def open_connection(cfg: SmtpSettings, *, steps: list[str] | None = None) -> smtplib.SMTP:
    """Open, secure and authenticate one connection. Raises ChannelError."""
    log = steps if steps is not None else []
    try:
        socket.getaddrinfo(cfg.host, cfg.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ChannelError(Stage.DNS, f"cannot resolve {cfg.host}: {exc.strerror}") from exc
    log.append(f"Resolved {cfg.host}")

    local_hostname = settings.BASE_HOST
    conn: smtplib.SMTP
    if cfg.security == "tls":
        conn = smtplib.SMTP_SSL(
            timeout=cfg.timeout, context=tls_context(), local_hostname=local_hostname
        )
    else:
        conn = smtplib.SMTP(timeout=cfg.timeout, local_hostname=local_hostname)
    # smtplib verifies the certificate against the name given to its
    # constructor; we connect separately (to tell TCP from greeting failures),
    # so set it here or TLS would have no server name to check.
    conn._host = cfg.host  # type: ignore[attr-defined]
    try:
        try:
            code, banner = conn.connect(cfg.host, cfg.port)
        except ssl.SSLError as exc:
            raise ChannelError(Stage.TLS, f"TLS handshake failed: {exc.reason or exc}") from exc
        except ssl.CertificateError as exc:
            raise ChannelError(Stage.TLS, f"certificate rejected: {exc}") from exc
        except smtplib.SMTPConnectError as exc:
            raise ChannelError(
                Stage.SMTP, f"server refused the session: {exc.smtp_code} {_text(exc.smtp_error)}"
            ) from exc
        except smtplib.SMTPServerDisconnected as exc:
            raise ChannelError(Stage.SMTP, f"server closed the connection: {exc}") from exc
        except OSError as exc:
            raise ChannelError(
                Stage.TCP, f"cannot connect to {cfg.host}:{cfg.port}: {_describe_os_error(exc)}"
            ) from exc
        log.append(f"Connected to {cfg.host}:{cfg.port} ({code} {_text(banner)[:80]})")
        if cfg.security == "tls":
            log.append("TLS established (implicit TLS), certificate verified")
        try:
            conn.ehlo()
            if cfg.security == "starttls":
                if not conn.has_extn("starttls"):
                    raise ChannelError(Stage.TLS, "server does not offer STARTTLS")
                try:
                    conn.starttls(context=tls_context())
                except ssl.SSLError as exc:
                    raise ChannelError(
                        Stage.TLS, f"STARTTLS handshake failed: {exc.reason or exc}"
                    ) from exc
                except ssl.CertificateError as exc:
                    raise ChannelError(Stage.TLS, f"certificate rejected: {exc}") from exc
                except smtplib.SMTPResponseException as exc:
                    raise ChannelError(
                        Stage.TLS, f"STARTTLS refused: {exc.smtp_code} {_text(exc.smtp_error)}"
                    ) from exc
                conn.ehlo()
                log.append("STARTTLS negotiated, certificate verified")
            if cfg.username:
                try:
                    conn.login(cfg.username, cfg.password)
                except smtplib.SMTPAuthenticationError as exc:
                    raise ChannelError(
                        Stage.AUTH,
                        f"authentication failed: {exc.smtp_code} {_text(exc.smtp_error)}",
                    ) from exc
                except smtplib.SMTPNotSupportedError as exc:
                    raise ChannelError(
                        Stage.AUTH, "server offers no AUTH on this connection"
                    ) from exc
                except smtplib.SMTPException as exc:
                    raise ChannelError(Stage.AUTH, f"authentication failed: {exc}") from exc
                log.append(f"Authenticated as {cfg.username}")
        except ChannelError:
            raise
        except smtplib.SMTPServerDisconnected as exc:
            raise ChannelError(Stage.SMTP, f"server closed the connection: {exc}") from exc
        except smtplib.SMTPResponseException as exc:
            raise ChannelError(
                Stage.SMTP, f"unexpected reply: {exc.smtp_code} {_text(exc.smtp_error)}"
            ) from exc
        except OSError as exc:
            raise ChannelError(Stage.SMTP, f"connection failed: {_describe_os_error(exc)}") from exc
    except ChannelError:
        _close_quietly(conn)
        raise
    return conn


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _close_quietly(conn: smtplib.SMTP) -> None:
    # Closing a broken socket must never raise.
    with contextlib.suppress(Exception):
        conn.close()


@dataclass
class ConnectionCheck:
    ok: bool
    steps: list[str] = field(default_factory=list)
    stage: str = ""
    message: str = ""
    # What a working connection still does not protect (no TLS, no login).
    warnings: list[str] = field(default_factory=list)


def check_connection(cfg: SmtpSettings) -> ConnectionCheck:
    steps: list[str] = []
    try:
        conn = open_connection(cfg, steps=steps)
    except ChannelError as exc:
        return ConnectionCheck(ok=False, steps=steps, stage=exc.stage.value, message=exc.message)
    try:
        conn.quit()
    except (smtplib.SMTPException, OSError):
        _close_quietly(conn)
    message, warnings = describe_working_connection(cfg)
    return ConnectionCheck(ok=True, steps=steps, message=message, warnings=warnings)


def describe_working_connection(cfg: SmtpSettings) -> tuple[str, list[str]]:
    """Say exactly what a successful check covered, and warn about what it did not.

    "All works" for a plain, anonymous connection would hide that mail (and a
    password, if one were sent) crosses the network readable by anyone on the path.
    """
    parts = ["Connected"]
    warnings: list[str] = []
    if cfg.security == "tls":
        parts.append("TLS (implicit), certificate verified")
    elif cfg.security == "starttls":
        parts.append("TLS (STARTTLS), certificate verified")
    else:
        parts.append("no TLS (plain connection)")
        warnings.append(
            "Messages to this server travel unencrypted: use STARTTLS or TLS unless the "
            "server is on this machine or a private network you trust."
        )
    if cfg.username:
        parts.append(f"logged in as {cfg.username}")
        if cfg.security not in ("tls", "starttls"):
            warnings.append("The password was sent without encryption.")
    else:
        parts.append("no login configured")
    return "; ".join(parts) + ".", warnings


class SlotKeeper(Protocol):
    """The cross-worker cap on connections (``delivery.pipeline.slots.ConnectionSlots``)."""

    def acquire(self, member: str) -> bool: ...

    def release(self, member: str) -> None: ...


@dataclass
class _Pooled:
    conn: smtplib.SMTP
    last_used: float
    slots: SlotKeeper | None
    member: str


class SmtpPool:
    """Per-process pool of open connections, keyed by server configuration."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[str, list[_Pooled]] = {}
        self._local: dict[str, threading.BoundedSemaphore] = {}
        self._reaper: threading.Thread | None = None
        self._pid = os.getpid()

    def _local_cap(self, cfg: SmtpSettings) -> threading.BoundedSemaphore:
        with self._lock:
            cap = self._local.get(cfg.key)
            if cap is None:
                cap = self._local[cfg.key] = threading.BoundedSemaphore(cfg.max_connections)
            return cap

    def _take_idle(self, cfg: SmtpSettings) -> _Pooled | None:
        while True:
            with self._lock:
                idle = self._idle.get(cfg.key)
                if not idle:
                    return None
                pooled = idle.pop()
            if time.monotonic() - pooled.last_used < IDLE_PROBE_SECONDS:
                return pooled
            try:
                if pooled.conn.noop()[0] == 250:
                    return pooled
            except (smtplib.SMTPException, OSError):
                pass
            _quit(pooled)

    def _give_back(self, cfg: SmtpSettings, pooled: _Pooled) -> None:
        with self._lock:
            self._idle.setdefault(cfg.key, []).append(pooled)
            if self._reaper is None or not self._reaper.is_alive() or self._pid != os.getpid():
                # A prefork child inherits no running threads: start its own.
                self._pid = os.getpid()
                self._reaper = threading.Thread(
                    target=self._reap_forever, name="smtp-pool-reaper", daemon=True
                )
                self._reaper.start()

    def _reap_forever(self) -> None:
        while True:
            time.sleep(REAP_EVERY_SECONDS)
            self.reap()

    def reap(self, *, older_than: float = IDLE_KEEP_SECONDS) -> int:
        """Close connections idle for ``older_than`` seconds; returns how many."""
        now = time.monotonic()
        stale: list[_Pooled] = []
        with self._lock:
            for key, items in self._idle.items():
                keep = [p for p in items if now - p.last_used < older_than]
                stale += [p for p in items if now - p.last_used >= older_than]
                self._idle[key] = keep
        for pooled in stale:
            _quit(pooled)
        return len(stale)

    def trim(self, cfg: SmtpSettings, keep: int) -> int:
        """Close all but ``keep`` of the server's idle connections (the most
        recently used stay); returns how many were closed."""
        with self._lock:
            idle = self._idle.get(cfg.key, [])
            surplus = idle[: max(0, len(idle) - max(0, keep))]
            self._idle[cfg.key] = idle[len(surplus) :]
        if surplus:
            # QUIT is a round trip each: over a far link, dozens of them would
            # hold up the chunk that asked. Each slot is freed once its QUIT is done.
            threading.Thread(
                target=_quit_all, args=(surplus,), name="smtp-pool-trim", daemon=True
            ).start()
        return len(surplus)

    def idle_count(self, cfg: SmtpSettings) -> int:
        with self._lock:
            return len(self._idle.get(cfg.key, []))

    def borrow(self, cfg: SmtpSettings, slots: SlotKeeper | None = None) -> PooledConnection:
        """A connection handle for one lane; raises NoConnectionSlot when this
        process already holds ``max_connections`` to the server."""
        cap = self._local_cap(cfg)
        if not cap.acquire(blocking=False):
            raise NoConnectionSlot(f"this worker holds all {cfg.max_connections} connections")
        return PooledConnection(self, cfg, slots, cap)

    @contextmanager
    def connection(
        self, cfg: SmtpSettings, slots: SlotKeeper | None = None
    ) -> Iterator[PooledConnection]:
        """Borrow a connection; it returns to the pool unless marked broken.

        With ``slots``, a connection also holds one of the server's slots
        shared by every worker, so the server never sees more than its
        ``max_connections`` from all of us together.
        """
        handle = self.borrow(cfg, slots)
        try:
            yield handle
        finally:
            handle.release()

    def close_all(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for items in idle.values():
            for pooled in items:
                _quit(pooled)


def _quit_all(pooled: list[_Pooled]) -> None:
    for each in pooled:
        _quit(each)


def _quit(pooled: _Pooled) -> None:
    try:
        pooled.conn.quit()
    except (smtplib.SMTPException, OSError):
        _close_quietly(pooled.conn)
    if pooled.slots is not None:
        pooled.slots.release(pooled.member)


class PooledConnection:
    """A borrowed connection slot: opens lazily, reopens after ``discard()``."""

    def __init__(
        self,
        pool: SmtpPool,
        cfg: SmtpSettings,
        slots: SlotKeeper | None,
        cap: threading.BoundedSemaphore,
    ) -> None:
        self._pool = pool
        self._cfg = cfg
        self._slots = slots
        self._cap: threading.BoundedSemaphore | None = cap
        self.conn: smtplib.SMTP | None = None
        self._member = ""
        self._refreshed = 0.0

    def get(self) -> smtplib.SMTP:
        if self.conn is None:
            pooled = self._pool._take_idle(self._cfg)
            if pooled is not None:
                if self._slots is not None and not self._slots.acquire(pooled.member):
                    # Our idle connection's slot lapsed and others took them all.
                    _close_quietly(pooled.conn)
                    raise NoConnectionSlot(f"all {self._cfg.max_connections} connections in use")
                self.conn, self._member = pooled.conn, pooled.member
            else:
                member = _member(self._cfg)
                if self._slots is not None and not self._slots.acquire(member):
                    raise NoConnectionSlot(f"all {self._cfg.max_connections} connections in use")
                try:
                    self.conn = open_connection(self._cfg)
                except ChannelError:
                    if self._slots is not None:
                        self._slots.release(member)
                    raise
                self._member = member
            self._refreshed = time.monotonic()
        return self.conn

    def refresh_slot(self) -> None:
        """Keep a long-held connection's shared slot from expiring."""
        if self.conn is not None and self._slots is not None and refresh_due(self._refreshed):
            self._slots.acquire(self._member)
            self._refreshed = time.monotonic()

    def discard(self) -> None:
        """Close the connection (broken, or not wanted back): frees its slot."""
        if self.conn is not None:
            if self._slots is not None:
                self._slots.release(self._member)
            _close_quietly(self.conn)
            self.conn = None

    def release(self) -> None:
        """Done with the handle: a healthy connection goes back to the pool."""
        if self.conn is not None:
            self._pool._give_back(
                self._cfg, _Pooled(self.conn, time.monotonic(), self._slots, self._member)
            )
            self.conn = None
        if self._cap is not None:
            self._cap.release()
            self._cap = None


def _member(cfg: SmtpSettings) -> str:
    """A name for a connection, unique across worker machines and processes."""
    return f"{socket.gethostname()}:{os.getpid()}:{cfg.key}:{uuid.uuid4().hex[:12]}"


# One pool per worker process (Celery prefork children each get their own
# after fork, since connections are only opened lazily inside tasks).
POOL = SmtpPool()


_LEADING_DOT = re.compile(rb"(?m)^\.")


def send_message(
    handle: PooledConnection, *, envelope_from: str, recipient: str, message: bytes
) -> SendResult:
    """Send one message over a borrowed connection and classify the reply.

    Raises ChannelError (or NoConnectionSlot) only when no connection can be
    opened at all: the message was not attempted.
    """
    conn = handle.get()
    recipient = ascii_address(recipient)
    options: list[str] = []
    if not recipient.isascii():
        # A non-ASCII local part can only travel where the server offers SMTPUTF8.
        if not conn.has_extn("smtputf8"):
            return SendResult(
                Outcome.PERMANENT, None, "address needs SMTPUTF8, which the server does not offer"
            )
        options = ["SMTPUTF8"]
    try:
        if conn.has_extn("pipelining"):
            result = _send_pipelined(conn, envelope_from, recipient, message, options)
            if result.connection_broken:
                handle.discard()
            return result
        conn.sendmail(envelope_from, [recipient], message, mail_options=options)
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = exc.recipients.get(recipient, (0, b"recipient refused"))
        if code == 421:
            # "Service not available, closing transmission channel": this
            # connection is finished even though only the recipient was refused.
            handle.discard()
            return _classify(code, reply, broken=True)
        return _classify(code, reply)
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
        result = _classify(exc.smtp_code, exc.smtp_error)
        if exc.smtp_code == 421:
            handle.discard()
        return result
    except smtplib.SMTPServerDisconnected as exc:
        handle.discard()
        return SendResult(Outcome.TRANSIENT, None, f"connection lost: {exc}", True)
    except smtplib.SMTPResponseException as exc:
        handle.discard()
        return _classify(exc.smtp_code, exc.smtp_error, broken=True)
    except (OSError, smtplib.SMTPException) as exc:
        handle.discard()
        return SendResult(Outcome.TRANSIENT, None, f"connection error: {_describe(exc)}", True)
    except UnicodeError as exc:
        return SendResult(Outcome.PERMANENT, None, f"address cannot be sent: {exc}")
    return SendResult(Outcome.SENT, 250, "accepted")


def _send_pipelined(
    conn: smtplib.SMTP, sender: str, recipient: str, message: bytes, options: list[str]
) -> SendResult:
    """MAIL, RCPT and DATA in one round trip, the message in a second (RFC 2920).

    Network errors propagate to ``send_message``, which discards the connection.
    """
    mail_options = list(options)
    if conn.has_extn("size"):
        mail_options.append(f"SIZE={len(message)}")
    suffix = "".join(" " + option for option in mail_options)
    encoding = "utf-8" if options else "ascii"
    commands = f"MAIL FROM:<{sender}>{suffix}\r\nRCPT TO:<{recipient}>\r\nDATA\r\n"
    conn.send(commands.encode(encoding))
    replies: list[tuple[int, bytes]] = []
    try:
        for _ in range(3):
            replies.append(conn.getreply())
    except smtplib.SMTPServerDisconnected:
        # A server that says 421 to MAIL or RCPT may hang up before the rest.
        if replies and replies[-1][0] >= 400:
            code, reply = replies[-1]
            return _classify(code, reply, broken=True)
        raise
    data_code, data_reply = replies[2]
    refused = next((r for r in replies[:2] if r[0] >= 300), None)
    if data_code == 354:
        if refused is not None:
            # RFC 2920 says a server must refuse DATA after a refused RCPT;
            # one that did not gets an empty message, which it must then refuse.
            conn.send(b".\r\n")
            conn.getreply()
            return _classify(*refused, broken=refused[0] == 421)
        body = _LEADING_DOT.sub(b"..", message)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        conn.send(body + b".\r\n")
        code, reply = conn.getreply()
        if code == 250:
            return SendResult(Outcome.SENT, 250, "accepted")
        return _classify(code, reply, broken=code == 421)
    code, reply = refused if refused is not None else (data_code, data_reply)
    if code == 421 or data_code == 421:
        return _classify(code, reply, broken=True)
    # The transaction is left half open (MAIL accepted, say): start afresh.
    conn.rset()
    return _classify(code, reply)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return _describe_os_error(exc)
    return str(exc) or exc.__class__.__name__


def _classify(code: int, reply: bytes | str, *, broken: bool = False) -> SendResult:
    text = _text(reply)
    if 500 <= code <= 599:
        return SendResult(Outcome.PERMANENT, code, text, broken)
    return SendResult(Outcome.TRANSIENT, code or None, text, broken)


# --- the channel -------------------------------------------------------------


class SmtpLane:
    """One connection of a chunk: one message at a time."""

    def __init__(self, handle: PooledConnection) -> None:
        self.handle = handle

    def send(self, prepared: PreparedMessage, payload: bytes | None) -> SendResult:
        assert payload is not None
        return send_message(
            self.handle,
            envelope_from=prepared.envelope_from,
            recipient=prepared.recipient,
            message=payload,
        )

    def keepalive(self) -> None:
        self.handle.refresh_slot()

    def close(self, *, keep: bool = True) -> None:
        if not keep:
            self.handle.discard()
        self.handle.release()


class SmtpChannel:
    """An SMTP server through the per-process pool, under the shared cap."""

    wants_bytes = True

    def __init__(self, server: SmtpServer, *, bulk: bool = False) -> None:
        self.server_id = server.pk
        self.label = server.name
        self.cfg = SmtpSettings.from_server(server)
        self.identity = f"smtp:{self.cfg.key}"
        # Campaign chunks leave transactional mail its reserved connections.
        cap = bulk_connection_cap(server.max_connections) if bulk else server.max_connections
        self.slots = ConnectionSlots(server.pk, cap)

    def open_lane(self) -> SmtpLane:
        handle = POOL.borrow(self.cfg, self.slots)
        try:
            handle.get()  # connect now, in the lane's own thread
        except BaseException:
            handle.release()
            raise
        return SmtpLane(handle)

    def release_idle(self, keep: int) -> None:
        POOL.trim(self.cfg, keep)

    def close(self) -> None:
        """Nothing per chunk: connections stay pooled for the next one."""
