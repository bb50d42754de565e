"""Media files on a test's own disk: import ``media_on_disk`` into a test module."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def media_on_disk(settings: Any, tmp_path: Path) -> Path:
    # Changing STORAGES resets Django's storage handler, so the next
    # storages["media"] is built from these settings.
    settings.STORAGES = {
        **settings.STORAGES,
        "media": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
    }
    return tmp_path / "media"
