"""The rules for a campaign's extra SMTP servers, weights and pause thresholds."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from campaigns.models import Campaign, CampaignServer
from campaigns.services import create_campaign, extra_servers_of, update_campaign
from delivery.models import SmtpServer
from subscribers.models import MailingList


def _create(newsletter: MailingList, relay: SmtpServer | None, **extra: Any) -> Campaign:
    return create_campaign(
        name="March",
        subject="Hello",
        from_email="news@example.com",
        html="<p>Hi</p>",
        lists=[newsletter],
        smtp_server=relay,
        **extra,
    )


def _update(campaign: Campaign, **extra: Any) -> Campaign:
    base: dict[str, Any] = {
        "name": campaign.name,
        "subject": campaign.subject,
        "from_email": campaign.from_email,
        "html": campaign.html,
        "lists": list(campaign.lists.all()),
        "smtp_server": campaign.smtp_server,
    }
    return update_campaign(campaign=campaign, **{**base, **extra})


def test_a_campaign_made_the_old_way_has_one_server_and_default_thresholds(
    newsletter: MailingList, relay: SmtpServer
) -> None:
    campaign = _create(newsletter, relay)
    assert (campaign.smtp_weight, campaign.max_error_rate, campaign.max_errors) == (1, None, None)
    assert not CampaignServer.objects.exists()


def test_extra_servers_are_stored_with_their_weights_in_order(
    newsletter: MailingList, relay: SmtpServer, backup: SmtpServer, overflow: SmtpServer
) -> None:
    campaign = _create(newsletter, relay, smtp_weight=3, extra_servers=[(overflow, 1), (backup, 2)])
    assert campaign.smtp_weight == 3
    assert extra_servers_of(campaign) == [(overflow, 1), (backup, 2)]


def test_the_main_server_cannot_also_be_an_extra_one(
    newsletter: MailingList, relay: SmtpServer
) -> None:
    with pytest.raises(ValidationError) as exc:
        _create(newsletter, relay, extra_servers=[(relay, 2)])
    [message] = exc.value.message_dict["extra_smtp_servers"]
    assert message.startswith("Relay is already the main server")
    assert not Campaign.objects.exists()


def test_a_server_cannot_be_listed_twice(
    newsletter: MailingList, relay: SmtpServer, backup: SmtpServer
) -> None:
    with pytest.raises(ValidationError) as exc:
        _create(newsletter, relay, extra_servers=[(backup, 1), (backup, 2)])
    assert exc.value.message_dict["extra_smtp_servers"] == ["Backup is listed more than once."]


@pytest.mark.parametrize("weight", [0, -1])
def test_an_extra_servers_weight_must_be_at_least_1(
    newsletter: MailingList, relay: SmtpServer, backup: SmtpServer, weight: int
) -> None:
    with pytest.raises(ValidationError) as exc:
        _create(newsletter, relay, extra_servers=[(backup, weight)])
    [message] = exc.value.message_dict["extra_smtp_servers"]
    assert message.startswith("Backup: a weight")


def test_the_main_servers_weight_must_be_at_least_1(
    newsletter: MailingList, relay: SmtpServer
) -> None:
    with pytest.raises(ValidationError) as exc:
        _create(newsletter, relay, smtp_weight=0)
    assert list(exc.value.message_dict) == ["smtp_weight"]


def test_extra_servers_need_a_main_server(newsletter: MailingList, backup: SmtpServer) -> None:
    with pytest.raises(ValidationError) as exc:
        _create(newsletter, None, extra_servers=[(backup, 1)])
    assert list(exc.value.message_dict) == ["extra_smtp_servers"]


@pytest.mark.parametrize("rate", [-0.01, 1.01, float("nan")])
def test_the_error_rate_is_a_fraction_from_0_to_1(
    newsletter: MailingList, relay: SmtpServer, rate: float
) -> None:
    with pytest.raises(ValidationError) as exc:
        _create(newsletter, relay, max_error_rate=rate)
    assert list(exc.value.message_dict) == ["max_error_rate"]


@pytest.mark.parametrize("rate", [0.0, 0.1, 1.0])
def test_error_rates_from_0_to_1_are_stored(
    newsletter: MailingList, relay: SmtpServer, rate: float
) -> None:
    assert _create(newsletter, relay, max_error_rate=rate).max_error_rate == rate


def test_failures_in_a_row_must_be_at_least_1(newsletter: MailingList, relay: SmtpServer) -> None:
    with pytest.raises(ValidationError) as exc:
        _create(newsletter, relay, max_errors=0)
    assert list(exc.value.message_dict) == ["max_errors"]


def test_all_routing_problems_are_reported_together(
    newsletter: MailingList, relay: SmtpServer
) -> None:
    with pytest.raises(ValidationError) as exc:
        _create(newsletter, relay, smtp_weight=0, max_error_rate=2, max_errors=0)
    assert set(exc.value.message_dict) == {"smtp_weight", "max_error_rate", "max_errors"}


def test_an_update_replaces_the_extra_servers(
    newsletter: MailingList, relay: SmtpServer, backup: SmtpServer, overflow: SmtpServer
) -> None:
    campaign = _create(newsletter, relay, extra_servers=[(backup, 1)])
    _update(campaign, extra_servers=[(overflow, 5)], max_errors=7, max_error_rate=0.5)
    campaign.refresh_from_db()
    assert extra_servers_of(campaign) == [(overflow, 5)]
    assert (campaign.max_errors, campaign.max_error_rate) == (7, 0.5)


def test_an_update_that_leaves_routing_out_keeps_it(
    newsletter: MailingList, relay: SmtpServer, backup: SmtpServer
) -> None:
    campaign = _create(newsletter, relay, smtp_weight=2, extra_servers=[(backup, 3)], max_errors=9)
    _update(campaign, name="Renamed")
    campaign.refresh_from_db()
    assert campaign.name == "Renamed"
    assert (campaign.smtp_weight, campaign.max_errors) == (2, 9)
    assert extra_servers_of(campaign) == [(backup, 3)]


def test_a_refused_update_leaves_the_extra_servers_alone(
    newsletter: MailingList, relay: SmtpServer, backup: SmtpServer
) -> None:
    campaign = _create(newsletter, relay, extra_servers=[(backup, 3)])
    with pytest.raises(ValidationError):
        _update(campaign, extra_servers=[(backup, 1), (relay, 1)])
    assert extra_servers_of(campaign) == [(backup, 3)]
