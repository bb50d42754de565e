"""The send pipeline (filled in below)."""

from __future__ import annotations


def dispatch(campaign_id: int) -> int:
    raise NotImplementedError


def run_chunk(campaign_id: int) -> int:
    raise NotImplementedError


def tick() -> None:
    raise NotImplementedError


def send_tests(campaign_id: int, emails: list[str]) -> list[str]:
    raise NotImplementedError
