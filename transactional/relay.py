"""The SMTP relay: applications submit transactional mail as to any SMTP server.

``manage.py smtp_relay`` listens for submissions (port 587 style, STARTTLS;
or, with ``--implicit-tls``, the whole connection in TLS, port 465 style).
An application logs in with a relay credential (AUTH PLAIN or LOGIN, offered
only once the connection is encrypted) and sends as usual. The relay says
no as early as it can, so the application hears it while it still holds the
message: a From domain the login may not use at MAIL (and the From header
again after DATA), a suppressed, blocklisted or unsubscribed recipient at
RCPT, the login's per-minute and per-day limits at RCPT, the size at MAIL
(SIZE=) and DATA.

It answers 250 only once ``services.accept_relay`` has returned, which is
once the message is committed in the database: a relay that crashes right
after its 250 loses nothing. Anything unexpected is a 451, so the
application keeps the message and tries again.

aiosmtpd runs the protocol in an event loop in a thread of its own. The ORM
and the Redis client are synchronous, so every piece of database or Redis
work goes to a small pool of threads (``db_threads``), each keeping its own
database connection between messages: the relay holds at most that many
connections, and never blocks its event loop on a query.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import functools
import ipaddress
import logging
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from email._header_value_parser import get_addr_spec, get_angle_addr
from email.errors import HeaderParseError
from pathlib import Path
from typing import Any, TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import close_old_connections, connections

from transactional import credentials, relay_limits, services
from transactional.models import RelayCredential
from transactional.relay_limits import Reservation

log = logging.getLogger(__name__)

DEFAULT_DB_THREADS = 4
# An open connection sees its login revoked (or its limits changed) within
# this long: re-reading the credential at every MAIL would be one query more
# per message for news that comes a few times a year.
CREDENTIAL_REFRESH_SECONDS = 2.0
# Ids per line of the 250 reply: a reply line may be 512 octets (RFC 5321
# 4.5.3.1.5) and a message to 50 recipients has 50 ids.
IDS_PER_LINE = 8

TOO_BIG = "552 5.3.4 Message too big"
TOO_MANY_FAILURES = "454 4.7.0 Too many failed logins, try later"
AUTH_UNAVAILABLE = "454 4.7.0 Temporary authentication failure, try later"
NOT_STORED = "451 4.3.0 Could not store the message, try again later"
# aiosmtpd's own replies, given the enhanced status codes (RFC 3463) that a
# submission client logs and some act on.
_ENHANCED = {
    "552 Error: message size exceeds fixed maximum message size": TOO_BIG,
    "552 Error: Too much mail data": TOO_BIG,
    "530 Must issue a STARTTLS command first": "530 5.7.0 Must issue a STARTTLS command first",
}

T = TypeVar("T")


def quiet_aiosmtpd_logs() -> None:
    """aiosmtpd logs every command at INFO, and a deprecation warning of its
    own making at every successful login: a relay's log would be nothing else."""
    logger = logging.getLogger("mail.log")
    logger.setLevel(logging.WARNING)
    logger.addFilter(_drop_login_data_deprecation)


def _drop_login_data_deprecation(record: logging.LogRecord) -> bool:
    # aiosmtpd 1.4 sets the deprecated Session.login_data itself on every AUTH.
    return not str(record.msg).startswith("Session.login_data is deprecated")


# --- TLS --------------------------------------------------------------------------


def tls_context(cert_file: str | Path, key_file: str | Path | None = None) -> ssl.SSLContext:
    """A server context for the certificate (and its key, unless the file holds both)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert_file), str(key_file) if key_file else None)
    return context


def ensure_dev_certificate(cert_file: Path, key_file: Path) -> bool:
    """Write a self-signed certificate for localhost and 127.0.0.1 unless one is there.

    For ``make run`` only: clients must be told to trust it (or not to check).
    Returns whether a new one was written.
    """
    if cert_file.exists() and key_file.exists():
        return False
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Postino development relay")])
    now = datetime.datetime.now(datetime.UTC)
    names: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # The key is a secret, even a development one: readable by us alone.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_bytes)
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return True


# --- the work done in the database threads -----------------------------------------


_thread_state = threading.local()
# How often a database thread asks Django to check its kept connection.
CONNECTION_CHECK_SECONDS = 5.0


def _in_db_thread(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    # As Django does around each request, a kept connection that outlived
    # DATABASE_CONN_MAX_AGE is replaced; but each check costs a round trip
    # (the health check's SELECT 1), and a message takes three hops here, so
    # a thread checks every few seconds, and at once after an error (a
    # PostgreSQL restart), so a broken connection fails one message at most.
    now = time.monotonic()
    if now >= getattr(_thread_state, "check_at", 0.0):
        close_old_connections()
        _thread_state.check_at = now + CONNECTION_CHECK_SECONDS
    try:
        return function(*args, **kwargs)
    except Exception:
        recheck_connection()
        raise


def recheck_connection() -> None:
    """After an error: check this thread's connection before its next query."""
    _thread_state.check_at = 0.0


def check_login(ip: str, login: LoginPassword) -> AuthResult:
    """The AUTH verdict: the credential, a 535, or 454 while the IP is throttled."""
    try:
        if relay_limits.auth_blocked(ip):
            return AuthResult(success=False, handled=False, message=TOO_MANY_FAILURES)
        credential = credentials.authenticate(
            login.login.decode("utf-8", "replace"), login.password.decode("utf-8", "replace")
        )
        if credential is None:
            relay_limits.record_auth_failure(ip)
            # handled=False without a message: aiosmtpd's standard
            # "535 5.7.8 Authentication credentials invalid".
            return AuthResult(success=False, handled=False)
    except Exception:
        log.exception("relay: could not check a login from %s", ip)
        recheck_connection()
        return AuthResult(success=False, handled=False, message=AUTH_UNAVAILABLE)
    return AuthResult(success=True, auth_data=credential)


def active_credential(pk: int) -> RelayCredential | None:
    """The credential as it is now: revocation and new limits reach open connections."""
    return (
        RelayCredential.objects.select_related("category", "channel")
        .filter(pk=pk, revoked_at__isnull=True)
        .first()
    )


def admit_recipient(credential: RelayCredential, address: str) -> Reservation | str:
    """The recipient's reservation against the credential's limits, or the refusal."""
    category = services.relay_category(credential, None)
    reason = services.refusal_for([address], category).get(address.lower())
    if reason:
        return f"550 5.7.1 {reason}"
    try:
        return relay_limits.reserve(credential)
    except relay_limits.OverLimit as exc:
        return f"451 4.7.1 This login's limit of {exc} is reached, try later"


def store_message(
    *,
    credential: RelayCredential,
    mail_from: str,
    rcpt_tos: list[str],
    raw: bytes,
    reservations: list[Reservation],
) -> str:
    """Store the message and give the reply for DATA; 250 only once it is committed."""
    try:
        accepted = services.accept_relay(
            credential=credential,
            mail_from=mail_from,
            rcpt_tos=rcpt_tos,
            raw=raw,
            recipients_checked=True,  # by admit_recipient, at RCPT
        )
    except services.RelayRefused as exc:
        reply = f"{exc.code} {exc.status} {exc.message}"
    except services.IdempotencyConflict as exc:
        # Retrying cannot help: the key names another message.
        reply = f"554 5.6.0 {exc}"
    except services.TxError as exc:
        reply = f"554 5.6.0 {exc}"
    except Exception:
        log.exception("relay: could not store a message from %s", credential.username)
        recheck_connection()
        reply = NOT_STORED
    else:
        if not accepted.duplicate:
            return queued_reply(accepted.ids)
        # An application retrying a message whose 250 it missed: it was
        # counted the first time.
        reply = queued_reply(accepted.ids, duplicate=True)
    try:
        relay_limits.refund(reservations)
    except Exception:
        log.warning("relay: could not give back %s's unused allowance", credential.username)
    return reply


def queued_reply(ids: list[str], *, duplicate: bool = False) -> str:
    """``250 2.0.0 Ok: queued as <id> …``, over several lines when there are many ids."""
    text = "Ok: already queued as" if duplicate else "Ok: queued as"
    groups = [ids[i : i + IDS_PER_LINE] for i in range(0, len(ids), IDS_PER_LINE)] or [[]]
    lines = [" ".join([f"2.0.0 {text}", *group]) for group in groups]
    return "\r\n".join([*(f"250-{line}" for line in lines[:-1]), f"250 {lines[-1]}"])


# --- the protocol -------------------------------------------------------------------


class RelayEnvelope(Envelope):
    def __init__(self) -> None:
        super().__init__()
        # What RCPT counted against the credential's limits, to give back if
        # the message is not stored after all.
        self.reservations: list[Reservation] = []


def _defer_login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    # aiosmtpd calls its authenticator synchronously, in the event loop, and
    # the check needs the database: this only hands the decoded login on to
    # RelaySMTP, which checks it in a database thread.
    return AuthResult(success=False, handled=False, auth_data=auth_data)


class RelaySMTP(SMTP):
    """aiosmtpd's SMTP with logins checked off the event loop, the size limit
    of the logged-in credential, and enhanced status codes on every refusal."""

    event_handler: RelayHandler
    # The logged-in credential, re-read at a MAIL once it is this old.
    credential: RelayCredential | None = None
    credential_read_at = 0.0

    def __init__(self, handler: RelayHandler, *, implicit_tls: bool = False, **kwargs: Any):
        super().__init__(handler, **kwargs)
        if implicit_tls:
            # aiosmtpd counts only STARTTLS as encryption, and its documented
            # switch (auth_require_tls=False) warns and logs on every
            # connection. On this listener the whole connection is TLS, so
            # AUTH may be offered at once. (The implicit-TLS tests fail if an
            # aiosmtpd release renames this.)
            self._auth_require_tls = False

    def _create_envelope(self) -> Envelope:
        return RelayEnvelope()

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """The address of a MAIL or RCPT command, as aiosmtpd parses it.

        aiosmtpd's own (1.4) defines a ``typing.Protocol`` class inside the
        method, so every MAIL and RCPT built a class: a twentieth of the
        relay's CPU per message. Same parsing, same answers (None, None for
        what does not parse or has too long a local part).
        """
        if not arg:
            return "", ""
        parse = get_angle_addr if arg.lstrip().startswith("<") else get_addr_spec
        try:
            address, rest = parse(arg)
        except HeaderParseError:
            return None, None
        addr: str = address.addr_spec
        local_part = addr.rpartition("@")[0]
        if self.local_part_limit and len(local_part) > self.local_part_limit:
            return None, None
        return addr, rest

    async def auth_PLAIN(self, _: Any, args: list[str]) -> AuthResult:
        return await self._check(await super().auth_PLAIN(_, args))

    async def auth_LOGIN(self, _: Any, args: list[str]) -> AuthResult:
        return await self._check(await super().auth_LOGIN(_, args))

    async def _check(self, decoded: AuthResult) -> AuthResult:
        if not isinstance(decoded.auth_data, LoginPassword):
            return decoded  # malformed or aborted: aiosmtpd answered already
        assert self.session is not None
        ip = str(self.session.peer[0]) if self.session.peer else "unknown"
        result = await self.event_handler.run(check_login, ip, decoded.auth_data)
        if result.success:
            credential = result.auth_data
            assert isinstance(credential, RelayCredential)
            self.credential, self.credential_read_at = credential, time.monotonic()
            # This connection's SIZE is now the credential's.
            self.data_size_limit = credential.max_message_bytes
        return result

    async def push(self, status: Any) -> None:
        if isinstance(status, str):
            status = _ENHANCED.get(status, status)
        await super().push(status)


class RelayHandler:
    """The relay's decisions at MAIL, RCPT and DATA (aiosmtpd handler hooks)."""

    def __init__(self, *, db_threads: int = DEFAULT_DB_THREADS) -> None:
        self.db_threads = db_threads
        self.executor = ThreadPoolExecutor(max_workers=db_threads, thread_name_prefix="relay-db")

    async def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``function`` in a database thread, awaited from the event loop."""
        call = functools.partial(_in_db_thread, function, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self.executor, call)

    async def handle_MAIL(
        self,
        server: RelaySMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        credential = server.credential
        assert credential is not None  # aiosmtpd asks for AUTH before MAIL
        if time.monotonic() - server.credential_read_at >= CREDENTIAL_REFRESH_SECONDS:
            fresh = await self.run(active_credential, credential.pk)
            if fresh is None:
                session.authenticated = False
                return "530 5.7.0 Authentication required: this login was revoked"
            server.credential, server.credential_read_at = fresh, time.monotonic()
            credential = fresh
        if not credentials.from_allowed(credential, address):
            return f"550 5.7.1 This login may not send from <{address}>"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Sender OK"

    async def handle_RCPT(
        self,
        server: RelaySMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        assert isinstance(envelope, RelayEnvelope)
        try:
            validate_email(address)
        except ValidationError:
            return f"553 5.1.3 <{address}> is not an email address"
        if len(envelope.rcpt_tos) >= int(settings.POSTINO["TX_MAX_RECIPIENTS"]):
            return "452 4.5.3 Too many recipients"
        assert server.credential is not None
        outcome = await self.run(admit_recipient, server.credential, address)
        if isinstance(outcome, str):
            return outcome
        envelope.reservations.append(outcome)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 Recipient OK"

    async def handle_DATA(self, server: RelaySMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope, RelayEnvelope)
        assert server.credential is not None
        raw = envelope.original_content or b""
        try:
            return await self.run(
                store_message,
                credential=server.credential,
                mail_from=envelope.mail_from or "",
                rcpt_tos=list(envelope.rcpt_tos),
                raw=bytes(raw),
                reservations=list(envelope.reservations),
            )
        except Exception:
            log.exception("relay: DATA failed")
            return NOT_STORED

    async def handle_exception(self, error: Exception) -> str:
        # Whatever broke, the client keeps the message and retries: a 500
        # (aiosmtpd's default) would tell it the message is bad.
        log.exception("relay: unexpected error", exc_info=error)
        return "451 4.3.0 Temporary failure, try again later"

    def close(self) -> None:
        """Close every database thread's connection, then the threads."""
        threads = self.db_threads
        # Each task waits for the others, so the pool must give every one a
        # thread of its own: each thread closes its own connection (Django's
        # are per thread and may not be closed from another).
        barrier = threading.Barrier(threads)

        def close_here() -> None:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=5)
            connections.close_all()

        futures = [self.executor.submit(close_here) for _ in range(threads)]
        for future in futures:
            future.result(timeout=10)
        self.executor.shutdown(wait=True)


class Relay(Controller):
    """The relay in a background thread; ``stop()`` closes its database connections.

    With ``reuse_port``, several processes listen on the same port
    (SO_REUSEPORT) and the kernel spreads connections among them: one relay
    process is one core, the ORM work being bound to its interpreter.
    """

    handler: RelayHandler

    def __init__(self, handler: RelayHandler, *, reuse_port: bool = False, **kwargs: Any) -> None:
        self.reuse_port = reuse_port
        super().__init__(handler, **kwargs)

    def _create_server(self) -> Any:
        if not self.reuse_port:
            return super()._create_server()
        return self.loop.create_server(
            self._factory_invoker,
            host=self.hostname,
            port=self.port,
            ssl=self.ssl_context,
            reuse_port=True,
        )

    def _trigger_server(self) -> None:
        if not self.reuse_port:
            super()._trigger_server()
            return
        # aiosmtpd proves its factory works by connecting to the port; with
        # the port shared that connection may reach a sibling process, so
        # the factory is run once here instead, as a first connection would.
        self.loop.call_soon_threadsafe(self._factory_invoker)

    def factory(self) -> SMTP:
        return RelaySMTP(self.handler, **self.SMTP_kwargs)

    def stop(self, no_assert: bool = False) -> None:
        try:
            super().stop(no_assert=no_assert)
        finally:
            self.handler.close()


def start_relay(
    host: str,
    port: int,
    *,
    tls: ssl.SSLContext,
    implicit_tls: bool = False,
    db_threads: int = DEFAULT_DB_THREADS,
    server_hostname: str | None = None,
    reuse_port: bool = False,
) -> Relay:
    """Start listening (in a thread); call ``.stop()`` on the result."""
    options: dict[str, Any] = {
        "hostname": host,
        "port": port,
        "auth_required": True,
        # AUTH only once the connection is encrypted (see RelaySMTP for implicit TLS).
        "auth_require_tls": True,
        "authenticator": _defer_login,
        "data_size_limit": int(settings.POSTINO["TX_MAX_MESSAGE_BYTES"]),
        "decode_data": False,
        "enable_SMTPUTF8": True,
        # aiosmtpd's default is getfqdn(), a DNS lookup that can stall start-up.
        "server_hostname": server_hostname or socket.gethostname(),
    }
    handler = RelayHandler(db_threads=db_threads)
    if implicit_tls:
        relay = Relay(handler, reuse_port=reuse_port, ssl_context=tls, implicit_tls=True, **options)
    else:
        # Nothing but EHLO, STARTTLS, NOOP and QUIT in the clear.
        relay = Relay(
            handler, reuse_port=reuse_port, tls_context=tls, require_starttls=True, **options
        )
    relay.start()
    return relay
