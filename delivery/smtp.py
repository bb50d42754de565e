"""SMTP connections: opening them step by step, pooling them per process,
and classifying what a server answered.

Each worker process keeps idle connections per SMTP server and reuses them
across chunks; a connection the server dropped is replaced transparently. The
number of connections a process holds to one server never exceeds that
server's ``max_connections``.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from django.conf import settings

from delivery.mime import ascii_address

if TYPE_CHECKING:
    from delivery.models import SmtpServer

# A pooled connection idle longer than this is probed with NOOP before reuse.
IDLE_PROBE_SECONDS = 20.0


class Stage(StrEnum):
    DNS = "dns"
    TCP = "tcp"
    TLS = "tls"
    SMTP = "smtp"
    AUTH = "auth"


class SmtpConnectError(Exception):
    """Could not get a usable connection; ``stage`` says which step failed."""

    def __init__(self, stage: Stage, message: str) -> None:
        super().__init__(f"{stage.value.upper()}: {message}")
        self.stage = stage
        self.message = message


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
    """Open, secure and authenticate one connection. Raises SmtpConnectError."""
    log = steps if steps is not None else []
    try:
        socket.getaddrinfo(cfg.host, cfg.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise SmtpConnectError(Stage.DNS, f"cannot resolve {cfg.host}: {exc.strerror}") from exc
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
            raise SmtpConnectError(Stage.TLS, f"TLS handshake failed: {exc.reason or exc}") from exc
        except ssl.CertificateError as exc:
            raise SmtpConnectError(Stage.TLS, f"certificate rejected: {exc}") from exc
        except smtplib.SMTPConnectError as exc:
            raise SmtpConnectError(
                Stage.SMTP, f"server refused the session: {exc.smtp_code} {_text(exc.smtp_error)}"
            ) from exc
        except smtplib.SMTPServerDisconnected as exc:
            raise SmtpConnectError(Stage.SMTP, f"server closed the connection: {exc}") from exc
        except OSError as exc:
            raise SmtpConnectError(
                Stage.TCP, f"cannot connect to {cfg.host}:{cfg.port}: {_describe_os_error(exc)}"
            ) from exc
        log.append(f"Connected to {cfg.host}:{cfg.port} ({code} {_text(banner)[:80]})")
        if cfg.security == "tls":
            log.append("TLS established (implicit TLS), certificate verified")
        try:
            conn.ehlo()
            if cfg.security == "starttls":
                if not conn.has_extn("starttls"):
                    raise SmtpConnectError(Stage.TLS, "server does not offer STARTTLS")
                try:
                    conn.starttls(context=tls_context())
                except ssl.SSLError as exc:
                    raise SmtpConnectError(
                        Stage.TLS, f"STARTTLS handshake failed: {exc.reason or exc}"
                    ) from exc
                except ssl.CertificateError as exc:
                    raise SmtpConnectError(Stage.TLS, f"certificate rejected: {exc}") from exc
                except smtplib.SMTPResponseException as exc:
                    raise SmtpConnectError(
                        Stage.TLS, f"STARTTLS refused: {exc.smtp_code} {_text(exc.smtp_error)}"
                    ) from exc
                conn.ehlo()
                log.append("STARTTLS negotiated, certificate verified")
            if cfg.username:
                try:
                    conn.login(cfg.username, cfg.password)
                except smtplib.SMTPAuthenticationError as exc:
                    raise SmtpConnectError(
                        Stage.AUTH,
                        f"authentication failed: {exc.smtp_code} {_text(exc.smtp_error)}",
                    ) from exc
                except smtplib.SMTPNotSupportedError as exc:
                    raise SmtpConnectError(
                        Stage.AUTH, "server offers no AUTH on this connection"
                    ) from exc
                except smtplib.SMTPException as exc:
                    raise SmtpConnectError(Stage.AUTH, f"authentication failed: {exc}") from exc
                log.append(f"Authenticated as {cfg.username}")
        except SmtpConnectError:
            raise
        except smtplib.SMTPServerDisconnected as exc:
            raise SmtpConnectError(Stage.SMTP, f"server closed the connection: {exc}") from exc
        except smtplib.SMTPResponseException as exc:
            raise SmtpConnectError(
                Stage.SMTP, f"unexpected reply: {exc.smtp_code} {_text(exc.smtp_error)}"
            ) from exc
        except OSError as exc:
            raise SmtpConnectError(
                Stage.SMTP, f"connection failed: {_describe_os_error(exc)}"
            ) from exc
    except SmtpConnectError:
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
    except SmtpConnectError as exc:
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


class NoConnectionSlot(Exception):
    """Every connection the server allows (across all workers) is in use."""


class SlotKeeper(Protocol):
    """The cross-worker cap on connections (``delivery.shaping.ConnectionSlots``)."""

    def acquire(self, member: str) -> bool: ...

    def release(self, member: str) -> None: ...


@dataclass
class _Pooled:
    conn: smtplib.SMTP
    last_used: float


class SmtpPool:
    """Per-process pool of open connections, keyed by server configuration."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[str, list[_Pooled]] = {}
        self._slots: dict[str, threading.BoundedSemaphore] = {}

    def _slot(self, cfg: SmtpSettings) -> threading.BoundedSemaphore:
        with self._lock:
            slot = self._slots.get(cfg.key)
            if slot is None:
                slot = self._slots[cfg.key] = threading.BoundedSemaphore(cfg.max_connections)
            return slot

    def _take_idle(self, cfg: SmtpSettings) -> smtplib.SMTP | None:
        while True:
            with self._lock:
                idle = self._idle.get(cfg.key)
                if not idle:
                    return None
                pooled = idle.pop()
            if time.monotonic() - pooled.last_used < IDLE_PROBE_SECONDS:
                return pooled.conn
            try:
                if pooled.conn.noop()[0] == 250:
                    return pooled.conn
            except (smtplib.SMTPException, OSError):
                pass
            _close_quietly(pooled.conn)

    @contextmanager
    def connection(
        self, cfg: SmtpSettings, slots: SlotKeeper | None = None
    ) -> Iterator[PooledConnection]:
        """Borrow a connection; it returns to the pool unless marked broken.

        With ``slots``, a connection also holds one of the server's slots
        shared by every worker, so the server never sees more than its
        ``max_connections`` from all of us together.
        """
        slot = self._slot(cfg)
        slot.acquire()
        handle = PooledConnection(self, cfg, slots)
        try:
            yield handle
        finally:
            if handle.conn is not None:
                with self._lock:
                    self._idle.setdefault(cfg.key, []).append(
                        _Pooled(handle.conn, time.monotonic())
                    )
            slot.release()

    def close_all(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for items in idle.values():
            for pooled in items:
                try:
                    pooled.conn.quit()
                except (smtplib.SMTPException, OSError):
                    _close_quietly(pooled.conn)


class PooledConnection:
    """A borrowed connection slot: opens lazily, reopens after ``discard()``."""

    def __init__(self, pool: SmtpPool, cfg: SmtpSettings, slots: SlotKeeper | None) -> None:
        self._pool = pool
        self._cfg = cfg
        self._slots = slots
        self.conn: smtplib.SMTP | None = None

    def get(self) -> smtplib.SMTP:
        if self.conn is None:
            conn = self._pool._take_idle(self._cfg)
            if conn is None:
                if self._slots is not None and not self._slots.acquire(_member(self._cfg, None)):
                    raise NoConnectionSlot(f"all {self._cfg.max_connections} connections in use")
                try:
                    conn = open_connection(self._cfg)
                except SmtpConnectError:
                    if self._slots is not None:
                        self._slots.release(_member(self._cfg, None))
                    raise
                if self._slots is not None:
                    # Re-key the slot by the connection now that it exists.
                    self._slots.release(_member(self._cfg, None))
                    self._slots.acquire(_member(self._cfg, conn))
            elif self._slots is not None and not self._slots.acquire(_member(self._cfg, conn)):
                # Our idle connection's slot lapsed and others took them all.
                _close_quietly(conn)
                raise NoConnectionSlot(f"all {self._cfg.max_connections} connections in use")
            self.conn = conn
        return self.conn

    def refresh_slot(self) -> None:
        """Keep a long-held connection's shared slot from expiring."""
        if self.conn is not None and self._slots is not None:
            self._slots.acquire(_member(self._cfg, self.conn))

    def discard(self) -> None:
        if self.conn is not None:
            if self._slots is not None:
                self._slots.release(_member(self._cfg, self.conn))
            _close_quietly(self.conn)
            self.conn = None


def _member(cfg: SmtpSettings, conn: smtplib.SMTP | None) -> str:
    """A name for a connection, unique across worker machines and processes."""
    suffix = f"{id(conn):x}" if conn is not None else "opening"
    return f"{socket.gethostname()}:{os.getpid()}:{cfg.key}:{suffix}"


# One pool per worker process (Celery prefork children each get their own
# after fork, since connections are only opened lazily inside tasks).
POOL = SmtpPool()


class Outcome(StrEnum):
    SENT = "sent"
    PERMANENT = "permanent"  # 5xx: never retried
    TRANSIENT = "transient"  # 4xx, disconnects, timeouts: retried with backoff


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Outcome
    code: int | None
    reply: str
    connection_broken: bool = False
    provider_id: str = ""


def send_message(
    handle: PooledConnection, *, envelope_from: str, recipient: str, message: bytes
) -> SendResult:
    """Send one message over a borrowed connection and classify the reply.

    Raises SmtpConnectError only when no connection can be opened at all.
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
        refused = conn.sendmail(envelope_from, [recipient], message, mail_options=options)
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
    if refused:  # pragma: no cover - single recipient: refusal raises above
        code, reply = refused[recipient]
        return _classify(code, reply)
    return SendResult(Outcome.SENT, 250, "accepted")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return _describe_os_error(exc)
    return str(exc) or exc.__class__.__name__


def _classify(code: int, reply: bytes | str, *, broken: bool = False) -> SendResult:
    text = _text(reply)
    if 500 <= code <= 599:
        return SendResult(Outcome.PERMANENT, code, text, broken)
    return SendResult(Outcome.TRANSIENT, code or None, text, broken)
