"""The compliance fragment: the complaint alert in words, not colour alone."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from delivery.models import Delivery
from tests.ops.conftest import Ledger, make_campaign
from tests.ops.test_compliance_rates import report

COMPLIANCE = "/operations/compliance/"


def test_a_quiet_week_shows_no_alert(teammate_client: Client, ledger: Ledger) -> None:
    ledger.add(make_campaign(), 1000, status=Delivery.Status.SENT, sent_at=timezone.now())

    html = teammate_client.get(COMPLIANCE).content.decode()

    assert 'data-testid="complaint-alert"' not in html
    assert '<span class="badge badge-level-ok">0% · OK</span>' in html


def test_a_tenth_of_a_percent_is_a_warning_in_words(
    teammate_client: Client, ledger: Ledger
) -> None:
    ledger.add(make_campaign(), 1000, status=Delivery.Status.SENT, sent_at=timezone.now())
    report("complaint", at=timezone.now())

    response = teammate_client.get(COMPLIANCE)

    assert "no-cache" in response["Cache-Control"]
    html = response.content.decode()
    assert '<div class="alert alert-warning" role="alert" data-testid="complaint-alert">' in html
    assert "Warning: the complaint rate is at or above 0.1%." in html
    assert '<span class="badge badge-level-warning">0.1% · warning</span>' in html


def test_three_tenths_of_a_percent_is_critical_in_words(
    teammate_client: Client, ledger: Ledger
) -> None:
    ledger.add(make_campaign(), 1000, status=Delivery.Status.SENT, sent_at=timezone.now())
    report("complaint", at=timezone.now() - timedelta(hours=2), count=3)

    html = teammate_client.get(COMPLIANCE).content.decode()

    assert '<div class="alert alert-error" role="alert" data-testid="complaint-alert">' in html
    assert "Critical: the complaint rate has reached 0.3%." in html
    assert '<span class="badge badge-level-critical">0.3% · critical</span>' in html
