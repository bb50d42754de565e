"""A private Dovecot (Debian's IMAP and POP3 server) for the mailbox poller tests.

Each server gets its own directory: configuration, runtime sockets (its own
``base_dir``, so it never meets a system Dovecot), a passwd-file with one test
user, and that user's Maildir. It listens on free loopback ports for IMAP
(STARTTLS), IMAPS, POP3 (STLS) and POP3S, with the test CA's certificate.

Test messages are delivered by writing files straight into the Maildir, the
way a local delivery agent does; what is left is read back the same way.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.certs import CertificateFiles
from tests.support.ports import free_ports

DOVECOT = Path("/usr/sbin/dovecot")
USER = "bounces@postino.test"
PASSWORD = 's3cret pass"word'  # a space and a quote: the clients must quote it
ROOT = Path(__file__).resolve().parents[2]


def ensure_dovecot_installed() -> None:
    """Install Debian's dovecot when missing and we are root; skip otherwise."""
    if _installed():
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip(
            "dovecot is not installed and we cannot install it (needs root and apt-get): "
            "run scripts/ensure-dovecot.sh as root, or apt-get install dovecot-imapd dovecot-pop3d"
        )
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "ensure-dovecot.sh")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0 or not _installed():
        pytest.fail(f"installing dovecot failed:\n{result.stdout}\n{result.stderr}")


def _installed() -> bool:
    return (
        DOVECOT.exists()
        and Path("/usr/lib/dovecot/imap").exists()
        and (Path("/usr/lib/dovecot/pop3").exists())
    )


@dataclass
class RunningDovecot:
    directory: Path
    imap_port: int
    imaps_port: int
    pop3_port: int
    pop3s_port: int
    process: subprocess.Popen[bytes]
    mail_uid: int = -1
    mail_gid: int = -1
    username: str = USER
    password: str = PASSWORD
    host: str = "localhost"

    @property
    def maildir(self) -> Path:
        return self.directory / "mail" / self.username

    def folder_path(self, folder: str) -> Path:
        # Maildir++: INBOX is the Maildir itself, other folders are ".Name".
        return self.maildir if folder.upper() == "INBOX" else self.maildir / f".{folder}"

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        """Drop one message into ``new/``, as a local delivery agent does."""
        base = self.folder_path(folder)
        for path in (self.maildir, base, base / "tmp", base / "new", base / "cur"):
            if not path.exists():
                path.mkdir(parents=True)
                self._own(path)
        name = f"{time.time():.6f}.{uuid.uuid4().hex}.localhost"
        (base / "tmp" / name).write_bytes(raw)
        self._own(base / "tmp" / name)
        (base / "tmp" / name).rename(base / "new" / name)

    def _own(self, path: Path) -> None:
        # Dovecot reads and expunges these as the mail user, not as us.
        if os.geteuid() == 0:
            os.chown(path, self.mail_uid, self.mail_gid)

    def stored(self, folder: str = "INBOX") -> list[bytes]:
        """The messages a folder holds, oldest first (expunged ones are gone)."""
        base = self.folder_path(folder)
        files = [
            path
            for sub in ("new", "cur")
            if (base / sub).is_dir()
            for path in (base / sub).iterdir()
            if path.is_file()
        ]
        return [path.read_bytes() for path in sorted(files, key=lambda p: p.name)]

    def log(self) -> str:
        path = self.directory / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _mail_user(as_root: bool) -> pwd.struct_passwd:
    # Dovecot never opens mail as root: as root, use the unprivileged "nobody"
    # (which is why first_valid_uid must come down from its default of 500).
    return pwd.getpwnam("nobody") if as_root else pwd.getpwuid(os.getuid())


def _config(
    directory: Path, certs: CertificateFiles, ports: dict[str, int], *, as_root: bool
) -> str:
    me = _mail_user(as_root)
    if as_root:
        # Debian's package creates these unprivileged users for the login and
        # internal processes.
        users = "default_login_user = dovenull\ndefault_internal_user = dovecot\n"
    else:
        users = f"default_login_user = {me.pw_name}\ndefault_internal_user = {me.pw_name}\n"
    return f"""\
# Written by tests/support/dovecot.py for one test session.
instance_name = postino-test-{directory.name}
base_dir = {directory}/run
state_dir = {directory}/state
log_path = {directory}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
{users}
first_valid_uid = 0
mail_uid = {me.pw_uid}
mail_gid = {me.pw_gid}
mail_location = maildir:{directory}/mail/%u
namespace inbox {{
  inbox = yes
  separator = /
}}

ssl = yes
ssl_cert = <{certs.cert_file}
ssl_key = <{certs.key_file}
ssl_min_protocol = TLSv1.2
# Loopback counts as secure for Dovecot; "no" also lets the plain-text
# tests log in, which is what those tests are about.
disable_plaintext_auth = no
auth_mechanisms = plain login
# Wrong passwords are part of the tests: answer at once, not after 2 s.
auth_failure_delay = 0

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {directory}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {directory}/users
  default_fields = uid={me.pw_uid} gid={me.pw_gid} home={directory}/home/%u
}}

service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {ports["imap"]}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ports["imaps"]}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {ports["pop3"]}
  }}
  inet_listener pop3s {{
    address = 127.0.0.1
    port = {ports["pop3s"]}
    ssl = yes
  }}
}}
"""


def _wait_for_ports(server: RunningDovecot, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    pending = {server.imap_port, server.imaps_port, server.pop3_port, server.pop3s_port}
    while pending:
        if server.process.poll() is not None:
            raise RuntimeError(f"dovecot exited early:\n{server.log()[-3000:]}")
        for port in list(pending):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    pending.discard(port)
            except OSError:
                pass
        if pending and time.monotonic() > deadline:
            raise RuntimeError(f"dovecot ports {pending} not open:\n{server.log()[-3000:]}")
        if pending:
            time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the master and every child it forked (they share its process group);
    signalling the whole group at once is much faster than the master's own
    orderly shutdown, and nothing here needs to be kept."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        # A master signalled while still starting up may ignore it: don't wait long.
        process.wait(1)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


@contextmanager
def dovecot_server(certs: CertificateFiles) -> Iterator[RunningDovecot]:
    """Start a private Dovecot; stop it and remove its files afterwards."""
    ensure_dovecot_installed()
    as_root = os.geteuid() == 0
    # Not under pytest's tmp_path: that lives in a 0700 directory the
    # unprivileged login processes could not traverse to reach base_dir.
    directory = Path(tempfile.mkdtemp(prefix="postino-dovecot-"))
    directory.chmod(0o755)
    try:
        names = ("imap", "imaps", "pop3", "pop3s")
        ports = dict(zip(names, free_ports(len(names)), strict=True))
        (directory / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        # The auth process runs as the unprivileged internal user: it must read it.
        (directory / "users").chmod(0o644)
        mail_user = _mail_user(as_root)
        for sub in ("run", "state", "mail", "home"):
            (directory / sub).mkdir()
            if as_root and sub in ("mail", "home"):
                os.chown(directory / sub, mail_user.pw_uid, mail_user.pw_gid)
        config = directory / "dovecot.conf"
        config.write_text(_config(directory, certs, ports, as_root=as_root))
        log_file = (directory / "stderr.log").open("wb")
        process = subprocess.Popen(
            [str(DOVECOT), "-F", "-c", str(config)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = RunningDovecot(
            directory=directory,
            imap_port=ports["imap"],
            imaps_port=ports["imaps"],
            pop3_port=ports["pop3"],
            pop3s_port=ports["pop3s"],
            process=process,
            mail_uid=mail_user.pw_uid,
            mail_gid=mail_user.pw_gid,
        )
        try:
            try:
                _wait_for_ports(server)
            except RuntimeError as exc:
                stderr = (directory / "stderr.log").read_text(errors="replace")
                if not as_root:
                    pytest.skip(f"dovecot would not start without root: {exc}\n{stderr}")
                raise RuntimeError(f"{exc}\n{stderr}") from exc
            yield server
        finally:
            _stop(process)
            log_file.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
