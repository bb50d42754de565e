"""`make run` (python -m postino.runner): up on embedded defaults, down on Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from postino.runner import configure, load_or_create_secrets
from tests.support.ports import free_port, free_ports

BASE_DIR = Path(__file__).resolve().parents[2]
# Everything that would point the runner at external services or change its
# defaults; the smoke test must see a bare checkout.
_DROPPED = {
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "ENCRYPTION_KEY",
    "BASE_URL",
    "DEBUG",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "PORT",
    "POSTINO_WEB",
}
_DROPPED_PREFIXES = ("SMTP_", "MAILCATCHER_", "DJANGO_SUPERUSER_", "SEND_", "SECURE_")


def bare_environment(var_dir: Path, *, port: int, catcher_port: int) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _DROPPED and not key.startswith(_DROPPED_PREFIXES)
    }
    env.update(POSTINO_VAR_DIR=str(var_dir), PORT=str(port), MAILCATCHER_PORT=str(catcher_port))
    return env


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except (urllib.error.URLError, OSError):
        return 0, ""


def processes_started_for(var_dir: Path, redis_port: int | None) -> list[str]:
    """Live processes whose environment names our var dir (the runner's children
    and grandchildren, e.g. Celery pool processes), plus our redis-server, which
    overwrites its environment when it sets its process title."""
    marker = f"POSTINO_VAR_DIR={var_dir}".encode()
    redis_title = f"redis-server 127.0.0.1:{redis_port}".encode() if redis_port else None
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue  # gone, or not ours to read
        if marker in environ or (redis_title is not None and redis_title in cmdline):
            found.append(f"{entry.name}: {cmdline.decode(errors='replace')}")
    return found


class Runner:
    """``python -m postino.runner`` in a subprocess, on a bare environment."""

    def __init__(self, tmp_path: Path) -> None:
        self.var_dir = tmp_path / "var"
        self.port, catcher_port = free_ports(2)
        self.log_path = tmp_path / "runner.log"
        env = bare_environment(self.var_dir, port=self.port, catcher_port=catcher_port)
        self.env = env
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "postino.runner"],
                cwd=BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_until_up(self, timeout: float = 60.0) -> None:
        """Until /healthz answers 200 and the banner has been printed."""
        deadline = time.monotonic() + timeout
        while get(self.url("/healthz"))[0] != 200 or "Press Ctrl-C" not in self.output:
            assert self.proc.poll() is None, "runner exited:\n" + self.output
            assert time.monotonic() < deadline, "runner not up in time:\n" + self.output
            time.sleep(0.3)

    @property
    def redis_port(self) -> int | None:
        found = re.search(r"Redis +embedded, 127\.0\.0\.1:(\d+)", self.output)
        return int(found.group(1)) if found else None

    def manage_shell(self, code: str) -> str:
        """Run Python in ``manage.py shell`` beside the runner, as a user would
        in a second terminal (it finds the instance's keys in var/)."""
        env = dict(self.env, REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0")
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "--verbosity", "0", "-c", code],
            cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        lines = result.stdout.strip().splitlines()
        return lines[-1] if lines else ""

    def children(self) -> list[str]:
        return processes_started_for(self.var_dir, self.redis_port)

    def cleanup(self) -> list[str]:
        """Kill whatever is left (so nothing leaks into the suite); return what was."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        leftovers = self.children()
        for _ in range(20):
            if not leftovers:
                break
            time.sleep(0.1)
            leftovers = self.children()
        for line in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(line.partition(":")[0]), signal.SIGKILL)
        return leftovers


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[Runner]:
    started = Runner(tmp_path)
    yield started
    started.cleanup()


needs_proc = pytest.mark.skipif(
    not Path("/proc/self/environ").exists(), reason="finds children through Linux /proc"
)


@pytest.mark.worker
@needs_proc
def test_it_serves_the_app_and_stops_every_child_on_ctrl_c(runner: Runner) -> None:
    runner.wait_until_up()

    status, body = get(runner.url("/login/"))
    assert status == 200 and 'name="password"' in body
    banner = runner.output
    assert runner.url("/outbox/") in banner
    assert "Log in as    admin / " in banner
    assert any("redis-server" in p for p in runner.children())

    # The demo campaign goes out on SQLite and the embedded Redis, into the Outbox.
    runner.manage_shell(
        "from campaigns.models import Campaign; from campaigns.services import start_campaign;"
        "start_campaign(campaign=Campaign.objects.get(name='Welcome to Postino'))"
    )
    # One shell polls (each one costs a Django start-up): the Outbox count and
    # the campaign's status, printed once both are final or after a minute.
    delivered = runner.manage_shell(
        "import time\n"
        "from campaigns.models import Campaign\n"
        "from delivery.models import CaughtMessage\n"
        "deadline = time.monotonic() + 60\n"
        "def seen(): return CaughtMessage.objects.count(), Campaign.objects.get().status\n"
        "while seen() != (5, 'finished') and time.monotonic() < deadline: time.sleep(0.3)\n"
        "print(*seen())"
    )
    assert delivered == "5 finished", f"demo campaign: {delivered}\n" + runner.output

    runner.proc.send_signal(signal.SIGINT)
    assert runner.proc.wait(timeout=20) == 0, runner.output
    assert runner.cleanup() == []
    assert stat.S_IMODE((runner.var_dir / "secrets.env").stat().st_mode) == 0o600
    assert (runner.var_dir / "postino.sqlite3").exists()


@pytest.mark.worker
@needs_proc
def test_when_a_child_dies_it_stops_the_rest_and_fails_naming_it(runner: Runner) -> None:
    runner.wait_until_up()
    [catcher] = [p for p in runner.children() if "manage.py mailcatcher" in p]
    catcher_pid = int(catcher.partition(":")[0])

    os.kill(catcher_pid, signal.SIGKILL)

    assert runner.proc.wait(timeout=20) != 0
    assert f"mailcatcher (pid {catcher_pid}) exited unexpectedly" in runner.output
    assert runner.cleanup() == []


def _touch_runner_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # configure() writes os.environ; touching each variable first makes
    # monkeypatch restore it afterwards.
    for name in (
        "DATABASE_URL",
        "REDIS_URL",
        "SECRET_KEY",
        "ENCRYPTION_KEY",
        "BASE_URL",
        "DEBUG",
        "SMTP_HOST",
        "MAILCATCHER_ENABLED",
        "MAILCATCHER_PORT",
        "PYTHONUNBUFFERED",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("POSTINO_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PORT", str(free_port()))


def test_on_a_bare_environment_it_embeds_redis_and_the_mail_catcher(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _touch_runner_variables(monkeypatch, tmp_path)

    config = configure()

    assert config.debug and os.environ["DEBUG"] == "true"
    assert config.redis_port is not None
    assert os.environ["REDIS_URL"] == f"redis://127.0.0.1:{config.redis_port}/0"
    assert config.mailcatcher and os.environ["MAILCATCHER_ENABLED"] == "true"
    assert config.database.startswith("SQLite")
    assert os.environ["SECRET_KEY"] and os.environ["ENCRYPTION_KEY"]
    assert os.environ["BASE_URL"] == f"http://127.0.0.1:{config.port}"


def test_with_external_services_configured_it_uses_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _touch_runner_variables(monkeypatch, tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgres://postino:hunter2@db.internal:5432/postino")
    monkeypatch.setenv("REDIS_URL", "redis://cache.internal:6379/0")
    monkeypatch.setenv("SMTP_HOST", "smtp.example.net")
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")

    config = configure()

    assert config.redis_port is None
    assert os.environ["REDIS_URL"] == "redis://cache.internal:6379/0"
    assert not config.mailcatcher and os.environ["MAILCATCHER_ENABLED"] == "false"
    assert "db.internal" in config.database and "hunter2" not in config.database
    assert config.secrets_file is None
    assert not (tmp_path / "var" / "secrets.env").exists()


def test_the_mail_catcher_can_be_forced_on_beside_a_real_smtp_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _touch_runner_variables(monkeypatch, tmp_path)
    monkeypatch.setenv("SMTP_HOST", "smtp.example.net")
    monkeypatch.setenv("MAILCATCHER_ENABLED", "true")

    assert configure().mailcatcher is True


def test_secrets_are_generated_once_privately_and_reused(tmp_path: Path) -> None:
    first, created = load_or_create_secrets(tmp_path)
    again, created_again = load_or_create_secrets(tmp_path)

    assert created is True and created_again is False
    assert again == first
    assert set(first) == {"SECRET_KEY", "ENCRYPTION_KEY"}
    assert len(first["SECRET_KEY"]) >= 50
    assert stat.S_IMODE((tmp_path / "secrets.env").stat().st_mode) == 0o600
