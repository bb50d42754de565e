"""Polling an IMAP or POP3 mailbox where bounces and complaints arrive.

``poll_mailbox`` connects (TLS verified against the system trust store, which
OpenSSL locates through ``SSL_CERT_FILE``), hands each message's raw bytes to a
handler (by default ``ingest_message``), and only once the handler has
succeeded deletes the message or moves it to another folder. A message whose
handling fails stays where it is and is tried again at the next poll, so a
parser bug or a database outage never loses a report.

Connection problems are reported by stage (DNS, TCP, TLS, AUTH, MAILBOX,
PROTOCOL) into ``Mailbox.last_error``; ``check_mailbox`` runs the same steps
for the "Test connection" button. Several workers never poll one mailbox at the
same time: ``poll_mailbox_exclusively`` holds a Redis lock per mailbox.
"""

from __future__ import annotations

import base64
import contextlib
import imaplib
import logging
import poplib
import re
import socket
import ssl
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from bounces.models import BounceEvent, Mailbox
from delivery.pipeline.smtp import ConnectionCheck, tls_context
from postino.redis import redis_client

log = logging.getLogger(__name__)

# How often the workers poll every enabled mailbox.
# Every network operation (connect, each command) gives up after this long.
TIMEOUT_SECONDS = 30.0
# Messages fetched per IMAP FETCH, and handled before their delete/move is
# sent: a crash mid-poll re-processes at most one batch.
BATCH_SIZE = 25
# RFC 5322 caps lines at 998 octets, but real bounces quote whatever they got;
# poplib's own cap (2048) would refuse them.
POP3_MAX_LINE = 1024 * 1024

Handler = Callable[[bytes], object]


def default_handler(raw: bytes) -> object:
    """Parse and record one returned message (the production handler)."""
    from bounces.services import ingest_message

    return ingest_message(raw, source=BounceEvent.Source.MAILBOX)


class Stage(StrEnum):
    DNS = "dns"
    TCP = "tcp"
    TLS = "tls"
    AUTH = "auth"
    MAILBOX = "mailbox"  # the folder is missing, or the server refused to change it
    PROTOCOL = "protocol"  # an unexpected answer, or the connection dropped mid-session


class MailboxError(Exception):
    """The mailbox could not be read; ``stage`` says which step failed."""

    def __init__(self, stage: Stage, message: str) -> None:
        super().__init__(f"{stage.value.upper()}: {message}")
        self.stage = stage
        self.message = message


@dataclass(frozen=True, slots=True)
class MailboxSettings:
    protocol: str
    host: str
    port: int
    security: str
    username: str
    password: str
    folder: str = "INBOX"
    after_processing: str = Mailbox.AfterProcessing.DELETE
    move_to: str = ""
    timeout: float = TIMEOUT_SECONDS

    @classmethod
    def from_mailbox(cls, mailbox: Mailbox) -> MailboxSettings:
        return cls(
            protocol=mailbox.protocol,
            host=mailbox.host.strip(),
            port=int(mailbox.port),
            security=mailbox.security,
            username=mailbox.username,
            password=mailbox.password,
            folder=mailbox.folder or "INBOX",
            after_processing=mailbox.after_processing,
            move_to=mailbox.move_to,
        )

    @property
    def moves(self) -> bool:
        return self.after_processing == Mailbox.AfterProcessing.MOVE


@dataclass(frozen=True, slots=True)
class PollResult:
    fetched: int = 0
    processed: int = 0
    failed: int = 0
    error: str = ""  # why the poll stopped early ("STAGE: message"), if it did
    stage: str = ""
    skipped: bool = False  # another worker holds the mailbox


# --- sessions -------------------------------------------------------------------


class Session(Protocol):
    """One logged-in connection to a mailbox, whatever the protocol."""

    def message_ids(self, limit: int) -> list[str]:
        """Up to ``limit`` messages waiting, oldest first."""
        ...

    def fetch(self, ids: Sequence[str]) -> Iterator[tuple[str, bytes]]:
        """Each message's id and raw bytes."""
        ...

    def dispose(self, ids: Sequence[str]) -> None:
        """Delete or move messages that were handled successfully."""
        ...

    def count(self) -> int: ...

    def close(self) -> None: ...


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = exc.args[0] if exc.args else ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text) or exc.__class__.__name__


def _resolve(cfg: MailboxSettings, steps: list[str]) -> None:
    try:
        socket.getaddrinfo(cfg.host, cfg.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise MailboxError(Stage.DNS, f"cannot resolve {cfg.host}: {exc.strerror}") from exc
    except UnicodeError as exc:
        raise MailboxError(Stage.DNS, f"{cfg.host!r} is not a valid host name") from exc
    steps.append(f"Resolved {cfg.host}")


@contextmanager
def _connect_errors(cfg: MailboxSettings) -> Iterator[None]:
    """Classify what can go wrong while connecting (TLS before TCP: an
    ``SSLError`` is also an ``OSError``)."""
    try:
        yield
    except MailboxError:
        raise
    except ssl.SSLCertVerificationError as exc:
        raise MailboxError(
            Stage.TLS, f"certificate rejected: {exc.verify_message or exc.reason}"
        ) from exc
    except ssl.SSLError as exc:
        raise MailboxError(Stage.TLS, f"TLS handshake failed: {exc.reason or exc}") from exc
    except OSError as exc:
        raise MailboxError(
            Stage.TCP, f"cannot connect to {cfg.host}:{cfg.port}: {_describe(exc)}"
        ) from exc
    except (imaplib.IMAP4.error, poplib.error_proto, EOFError) as exc:
        raise MailboxError(
            Stage.PROTOCOL, f"unexpected greeting from {cfg.host}:{cfg.port}: {_describe(exc)}"
        ) from exc


@contextmanager
def _session_errors(what: str) -> Iterator[None]:
    """After login: a dropped connection or an unexpected answer."""
    try:
        yield
    except MailboxError:
        raise
    except (imaplib.IMAP4.error, poplib.error_proto, OSError, EOFError) as exc:
        raise MailboxError(Stage.PROTOCOL, f"{what} failed: {_describe(exc)}") from exc


def open_session(cfg: MailboxSettings, *, steps: list[str] | None = None) -> Session:
    """Connect, secure, log in and open the folder. Raises ``MailboxError``."""
    log_steps = steps if steps is not None else []
    _resolve(cfg, log_steps)
    if cfg.protocol == Mailbox.Protocol.POP3:
        return _Pop3Session.open(cfg, log_steps)
    return _ImapSession.open(cfg, log_steps)


# --- IMAP -----------------------------------------------------------------------


def imap_folder_name(name: str) -> str:
    """A folder name as IMAP spells it on the wire: modified UTF-7 (RFC 3501
    5.1.3) for anything beyond printable ASCII, then quoted."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + encoded.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if " " <= char <= "~":
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    quoted = "".join(out).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}"'


_UID = re.compile(rb"\bUID (\d+)")


def _response_text(data: Sequence[Any]) -> str:
    for item in reversed(data or []):
        if isinstance(item, bytes):
            return item.decode("utf-8", "replace")
        if isinstance(item, tuple) and item and isinstance(item[0], bytes):
            return item[0].decode("utf-8", "replace")
    return ""


class _ImapSession:
    def __init__(self, conn: imaplib.IMAP4, cfg: MailboxSettings) -> None:
        self.conn = conn
        self.cfg = cfg
        self.capabilities: set[str] = set()
        self._target_ready = False

    @classmethod
    def open(cls, cfg: MailboxSettings, steps: list[str]) -> _ImapSession:
        conn: imaplib.IMAP4
        with _connect_errors(cfg):
            if cfg.security == Mailbox.Security.TLS:
                conn = imaplib.IMAP4_SSL(
                    cfg.host, cfg.port, ssl_context=tls_context(), timeout=cfg.timeout
                )
            else:
                conn = imaplib.IMAP4(cfg.host, cfg.port, timeout=cfg.timeout)
        session = cls(conn, cfg)
        try:
            session._start(steps)
        except BaseException:
            session.close()
            raise
        return session

    def _start(self, steps: list[str]) -> None:
        cfg, conn = self.cfg, self.conn
        steps.append(f"Connected to {cfg.host}:{cfg.port} (IMAP)")
        if cfg.security == Mailbox.Security.TLS:
            steps.append("TLS established (implicit TLS), certificate verified")
        elif cfg.security == Mailbox.Security.STARTTLS:
            if "STARTTLS" not in conn.capabilities:
                raise MailboxError(Stage.TLS, "server does not offer STARTTLS")
            try:
                with _connect_errors(cfg):
                    conn.starttls(ssl_context=tls_context())
            except MailboxError as exc:
                if exc.stage == Stage.PROTOCOL:
                    raise MailboxError(Stage.TLS, f"STARTTLS refused: {exc.message}") from exc
                raise
            steps.append("STARTTLS negotiated, certificate verified")
        try:
            conn.login(cfg.username, cfg.password)
        except imaplib.IMAP4.abort as exc:
            raise MailboxError(Stage.AUTH, f"connection lost while logging in: {exc}") from exc
        except imaplib.IMAP4.error as exc:
            raise MailboxError(Stage.AUTH, f"login refused: {_describe(exc)}") from exc
        except OSError as exc:
            raise MailboxError(Stage.AUTH, f"connection lost while logging in: {exc}") from exc
        steps.append(f"Logged in as {cfg.username}")
        with _session_errors("CAPABILITY"):
            # Servers often announce more (MOVE, UIDPLUS) once logged in.
            typ, caps = conn.capability()
        if typ == "OK" and caps and isinstance(caps[-1], bytes):
            self.capabilities = set(caps[-1].decode("ascii", "replace").upper().split())
        else:
            self.capabilities = {str(item).upper() for item in conn.capabilities}
        with _session_errors("SELECT"):
            status, selected = conn.select(imap_folder_name(cfg.folder))
        if status != "OK":
            raise MailboxError(
                Stage.MAILBOX, f"cannot open folder {cfg.folder!r}: {_response_text(selected)}"
            )
        steps.append(f"Opened folder {cfg.folder!r} ({_response_text(selected) or 0} messages)")

    def count(self) -> int:
        with _session_errors("SEARCH"):
            typ, data = self.conn.uid("SEARCH", "UNDELETED")
        return len(data[0].split()) if typ == "OK" and data and data[0] else 0

    def message_ids(self, limit: int) -> list[str]:
        # Every message still in the folder is one we have not handled (handled
        # ones are deleted or moved), whether or not someone has read it; only
        # those already flagged for deletion are left out.
        with _session_errors("SEARCH"):
            typ, data = self.conn.uid("SEARCH", "UNDELETED")
        if typ != "OK":
            raise MailboxError(Stage.PROTOCOL, f"SEARCH refused: {_response_text(data)}")
        uids = sorted({int(uid) for uid in (data[0] or b"").split()}) if data else []
        return [str(uid) for uid in uids[:limit]]

    def fetch(self, ids: Sequence[str]) -> Iterator[tuple[str, bytes]]:
        if not ids:
            return
        with _session_errors("FETCH"):
            # BODY.PEEK leaves \\Seen alone: a message we fail on looks untouched.
            typ, data = self.conn.uid("FETCH", ",".join(ids), "(UID BODY.PEEK[])")
        if typ != "OK":
            raise MailboxError(Stage.PROTOCOL, f"FETCH refused: {_response_text(data)}")
        for item in data:
            if not isinstance(item, tuple) or len(item) < 2:
                continue
            match = _UID.search(item[0])
            if match is not None:
                yield match.group(1).decode("ascii"), item[1]

    def dispose(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        uid_set = ",".join(ids)
        if self.cfg.moves:
            self._move(uid_set)
        else:
            self._delete(uid_set)

    def _delete(self, uid_set: str) -> None:
        with _session_errors("STORE"):
            typ, data = self.conn.uid("STORE", uid_set, "+FLAGS.SILENT", "(\\Deleted)")
        if typ != "OK":
            raise MailboxError(
                Stage.MAILBOX, f"cannot delete processed messages: {_response_text(data)}"
            )
        with _session_errors("EXPUNGE"):
            if "UIDPLUS" in self.capabilities:
                # Only ours: a plain EXPUNGE would also purge whatever someone
                # else flagged \\Deleted in this folder.
                typ, data = self.conn.uid("EXPUNGE", uid_set)
            else:
                typ, data = self.conn.expunge()
        if typ != "OK":
            raise MailboxError(
                Stage.MAILBOX, f"cannot expunge processed messages: {_response_text(data)}"
            )

    def _move(self, uid_set: str) -> None:
        target = imap_folder_name(self.cfg.move_to)
        command = "MOVE" if "MOVE" in self.capabilities else "COPY"
        with _session_errors(command):
            typ, data = self.conn.uid(command, uid_set, target)
            if typ == "NO" and "[TRYCREATE]" in _response_text(data).upper():
                self._create_target()
                typ, data = self.conn.uid(command, uid_set, target)
        if typ != "OK":
            raise MailboxError(
                Stage.MAILBOX,
                f"cannot move processed messages to {self.cfg.move_to!r}: {_response_text(data)}",
            )
        if command == "COPY":
            # No MOVE extension: the copies are safe, now remove the originals.
            self._delete(uid_set)

    def _create_target(self) -> None:
        typ, data = self.conn.create(imap_folder_name(self.cfg.move_to))
        if typ != "OK":
            raise MailboxError(
                Stage.MAILBOX,
                f"cannot create folder {self.cfg.move_to!r}: {_response_text(data)}",
            )
        # So that mail clients show the new folder too; harmless if refused.
        with contextlib.suppress(imaplib.IMAP4.error):
            self.conn.subscribe(imap_folder_name(self.cfg.move_to))

    def close(self) -> None:
        # LOGOUT, not CLOSE: CLOSE would expunge messages others flagged.
        try:
            self.conn.logout()
        except (imaplib.IMAP4.error, OSError, EOFError):
            with contextlib.suppress(Exception):
                self.conn.shutdown()


# --- POP3 -----------------------------------------------------------------------


class _LongLines:
    """poplib refuses lines over 2048 octets; returned mail may hold longer."""

    file: Any

    def _getline(self) -> tuple[bytes, int]:
        line = self.file.readline(POP3_MAX_LINE + 1)
        if len(line) > POP3_MAX_LINE:
            raise poplib.error_proto("line too long")
        if not line:
            raise poplib.error_proto("-ERR EOF")
        octets = len(line)
        return line.rstrip(b"\r\n"), octets


class _POP3(_LongLines, poplib.POP3):
    pass


class _POP3_SSL(_LongLines, poplib.POP3_SSL):
    pass


class _Pop3Session:
    def __init__(self, conn: poplib.POP3, cfg: MailboxSettings) -> None:
        self.conn = conn
        self.cfg = cfg

    @classmethod
    def open(cls, cfg: MailboxSettings, steps: list[str]) -> _Pop3Session:
        conn: poplib.POP3
        with _connect_errors(cfg):
            if cfg.security == Mailbox.Security.TLS:
                conn = _POP3_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=tls_context())
            else:
                conn = _POP3(cfg.host, cfg.port, timeout=cfg.timeout)
        session = cls(conn, cfg)
        try:
            session._start(steps)
        except BaseException:
            session._drop()
            raise
        return session

    def _start(self, steps: list[str]) -> None:
        cfg, conn = self.cfg, self.conn
        steps.append(f"Connected to {cfg.host}:{cfg.port} (POP3)")
        if cfg.security == Mailbox.Security.TLS:
            steps.append("TLS established (implicit TLS), certificate verified")
        elif cfg.security == Mailbox.Security.STARTTLS:
            try:
                with _connect_errors(cfg):
                    conn.stls(context=tls_context())
            except MailboxError as exc:
                if exc.stage == Stage.PROTOCOL:
                    raise MailboxError(Stage.TLS, f"STLS refused: {exc.message}") from exc
                raise
            steps.append("STLS negotiated, certificate verified")
        try:
            conn.user(cfg.username)
            conn.pass_(cfg.password)
        except poplib.error_proto as exc:
            raise MailboxError(Stage.AUTH, f"login refused: {_describe(exc)}") from exc
        except (OSError, EOFError) as exc:
            raise MailboxError(Stage.AUTH, f"connection lost while logging in: {exc}") from exc
        steps.append(f"Logged in as {cfg.username}")

    def count(self) -> int:
        with _session_errors("STAT"):
            return int(self.conn.stat()[0])

    def message_ids(self, limit: int) -> list[str]:
        with _session_errors("LIST"):
            _, listing, _ = self.conn.list()
        numbers = [int(line.split()[0]) for line in listing if line.strip()]
        return [str(number) for number in sorted(numbers)[:limit]]

    def fetch(self, ids: Sequence[str]) -> Iterator[tuple[str, bytes]]:
        for number in ids:
            with _session_errors("RETR"):
                _, lines, _ = self.conn.retr(int(number))
            yield number, b"\r\n".join(lines) + b"\r\n"

    def dispose(self, ids: Sequence[str]) -> None:
        # POP3 has no folders: validation refuses "move" for POP3 mailboxes.
        for number in ids:
            with _session_errors("DELE"):
                self.conn.dele(int(number))

    def close(self) -> None:
        # QUIT is what commits the DELEs; without it the server keeps them all.
        try:
            self.conn.quit()
        except (poplib.error_proto, OSError, EOFError) as exc:
            self._drop()
            raise MailboxError(
                Stage.PROTOCOL, f"QUIT failed, deletions not committed: {_describe(exc)}"
            ) from exc

    def _drop(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()


# --- polling --------------------------------------------------------------------


def poll(cfg: MailboxSettings, *, handler: Handler, limit: int = 500) -> PollResult:
    """Read up to ``limit`` messages, hand each to ``handler``, dispose of
    those it handled. Never raises for mailbox trouble: see ``PollResult``."""
    fetched = processed = failed = 0
    if cfg.protocol == Mailbox.Protocol.POP3 and cfg.moves:
        return PollResult(
            error="MAILBOX: POP3 cannot move messages; choose delete", stage=Stage.MAILBOX
        )
    try:
        session = open_session(cfg)
    except MailboxError as exc:
        return PollResult(error=str(exc), stage=exc.stage.value)
    try:
        ids = session.message_ids(limit)
        for start in range(0, len(ids), BATCH_SIZE):
            done: list[str] = []
            for message_id, raw in session.fetch(ids[start : start + BATCH_SIZE]):
                fetched += 1
                if _handle(handler, raw, cfg, message_id):
                    done.append(message_id)
                else:
                    failed += 1
            session.dispose(done)
            processed += len(done)
        session.close()
    except MailboxError as exc:
        if isinstance(session, _Pop3Session):
            # Deletions only happen at QUIT; without it, nothing was removed.
            processed = 0
            session._drop()
        else:
            session.close()
        return PollResult(fetched, processed, failed, str(exc), exc.stage.value)
    except BaseException:
        if isinstance(session, _Pop3Session):
            session._drop()  # not QUIT: don't commit deletions after a crash
        else:
            session.close()
        raise
    return PollResult(fetched, processed, failed)


def _handle(handler: Handler, raw: bytes, cfg: MailboxSettings, message_id: str) -> bool:
    try:
        # A failed message must leave nothing half-recorded behind. The
        # transaction covers only our own database work, no network I/O.
        with transaction.atomic():
            handler(raw)
    except Exception:
        log.exception(
            "mailbox %s@%s: message %s could not be processed; left in place",
            cfg.username,
            cfg.host,
            message_id,
        )
        return False
    return True


def poll_mailbox(
    mailbox_id: int, *, handler: Handler = default_handler, limit: int = 500
) -> PollResult:
    """Poll one mailbox and record the outcome on its row."""
    mailbox = Mailbox.objects.filter(pk=mailbox_id).first()
    if mailbox is None:
        return PollResult(error="no such mailbox", skipped=True)
    result = poll(MailboxSettings.from_mailbox(mailbox), handler=handler, limit=limit)
    if result.error:
        last_error = result.error
        log.warning("mailbox %s (%s): %s", mailbox.pk, mailbox.name, result.error)
    elif result.failed:
        last_error = (
            f"{result.failed} message(s) could not be processed and were left in the "
            "mailbox; they will be tried again (see the worker log)."
        )
    else:
        last_error = ""
    # One autocommitted UPDATE after the network work, never a transaction around it.
    Mailbox.objects.filter(pk=mailbox_id).update(
        last_polled_at=timezone.now(),
        last_error=last_error[:2000],
        messages_processed=F("messages_processed") + result.processed,
    )
    return result


def check_mailbox(mailbox: Mailbox) -> ConnectionCheck:
    """Connect, log in and open the folder without touching any message."""
    steps: list[str] = []
    cfg = MailboxSettings.from_mailbox(mailbox)
    try:
        session = open_session(cfg, steps=steps)
        try:
            waiting = session.count()
        finally:
            with contextlib.suppress(MailboxError):
                session.close()
    except MailboxError as exc:
        return ConnectionCheck(ok=False, steps=steps, stage=exc.stage.value, message=exc.message)
    steps.append(f"{waiting} message(s) waiting")
    return ConnectionCheck(
        ok=True, steps=steps, message="Connection, TLS, login and folder all work."
    )


# --- one poller per mailbox ---------------------------------------------------------


def _lock_key(mailbox_id: int) -> str:
    return f"postino:mailbox-poll:{mailbox_id}"


# Compare-and-delete: only the holder releases, never a later holder's lock.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


@contextmanager
def mailbox_lock(mailbox_id: int, *, ttl: float | None = None) -> Iterator[bool]:
    """Hold the mailbox's poll lock if it is free; yields whether we got it.

    The lock expires on its own (a worker killed mid-poll must not block the
    mailbox forever); its lifetime covers a full poll of network timeouts.
    """
    poll_every = float(settings.POSTINO["BOUNCE_POLL_SECONDS"])
    seconds = int(ttl if ttl is not None else max(600.0, poll_every * 5))
    token = uuid.uuid4().hex
    key = _lock_key(mailbox_id)
    client = redis_client()
    acquired = bool(client.set(key, token, nx=True, ex=seconds))
    try:
        yield acquired
    finally:
        if acquired:
            client.eval(_RELEASE, 1, key, token)


def poll_mailbox_exclusively(
    mailbox_id: int, *, handler: Handler = default_handler, limit: int = 500
) -> PollResult:
    """``poll_mailbox``, unless another worker is already polling this mailbox."""
    with mailbox_lock(mailbox_id) as acquired:
        if not acquired:
            log.info("mailbox %s is being polled elsewhere; skipped", mailbox_id)
            return PollResult(skipped=True)
        return poll_mailbox(mailbox_id, handler=handler, limit=limit)


def is_enabled(mailbox_id: int) -> bool:
    return Mailbox.objects.filter(pk=mailbox_id, enabled=True).exists()


def enabled_mailbox_ids() -> list[int]:
    return list(Mailbox.objects.filter(enabled=True).order_by("pk").values_list("pk", flat=True))
