"""Production settings pass Django's deployment checklist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_check_deploy_is_clean_with_production_settings() -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SECURE_", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"))
    }
    env.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": "k9$Qv!2mZr7@xLp4#Wn8&Tb5^Hc1*Yd6(Fs3)Gj0_Ua-e7Ro%Ki2+Xm9=Zq4",
            "BASE_URL": "https://mail.example.com",
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    env["DEBUG"] = "false"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_malformed_boolean_stops_start_up() -> None:
    env = dict(os.environ, DEBUG="maybe")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_commands_beside_make_run_use_its_generated_keys(tmp_path: Path) -> None:
    (tmp_path / "secrets.env").write_text(
        "# generated\nSECRET_KEY=from-the-file-0123456789\nENCRYPTION_KEY=" + "A" * 43 + "=\n"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG", "ENCRYPTION_KEY", "SECRET_KEY_FILE"}
    }
    env["POSTINO_VAR_DIR"] = str(tmp_path)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os;"
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'postino.settings');"
            "django.setup(); from django.conf import settings;"
            "print(settings.SECRET_KEY, settings.ENCRYPTION_KEYS[0])",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["from-the-file-0123456789", "A" * 43 + "="]


def test_an_ip_base_url_gives_bracketed_mail_domains() -> None:
    env = dict(os.environ, BASE_URL="http://127.0.0.1:8000")
    env.pop("BOUNCE_DOMAIN", None)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os;"
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'postino.settings');"
            "django.setup(); from django.conf import settings;"
            "print(settings.POSTINO['BOUNCE_DOMAIN'], settings.DEFAULT_FROM_EMAIL)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[127.0.0.1] Postino <postino@[127.0.0.1]>"
