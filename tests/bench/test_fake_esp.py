"""The benchmark's fake ESP is Postmark enough for anymail's real backend, and
reports how many calls it answered and held at once."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from anymail.message import AnymailMessage

from delivery.pipeline.esp import backend_for

ROOT = Path(__file__).resolve().parents[2]


def test_anymail_postmark_sends_through_the_fake_esp_and_it_counts_the_calls() -> None:
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "fake_esp.py"), "--delay-ms", "5"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        assert ready.startswith("fake ESP listening on 127.0.0.1:"), ready
        port = int(ready.rsplit(":", 1)[1])
        backend = backend_for(
            "postmark", {"server_token": "t", "api_url": f"http://127.0.0.1:{port}/"}
        )
        backend.open()
        messages = [
            AnymailMessage(subject="Hi", body="Hello", from_email="a@example.com",
                           to=[f"reader{i}@example.org"])
            for i in range(3)
        ]  # fmt: skip
        assert backend.send_messages(messages) == 3
        backend.close()
        assert [m.anymail_status.status for m in messages] == [{"sent"}] * 3

        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
        assert output.strip().splitlines()[-1] == "calls 3, most in flight 1"
        assert process.returncode == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
