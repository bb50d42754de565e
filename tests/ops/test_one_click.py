"""One-click unsubscribe (RFC 8058) in the last campaigns: each campaign's
message is built for a real recipient as the send pipeline builds it, then
read back: an https List-Unsubscribe, List-Unsubscribe-Post, and both in the
h= of a DKIM signature from the From domain."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from campaigns.models import Campaign
from delivery import compliance, dkim, domains
from delivery.mime import build_message
from delivery.models import Delivery, SmtpServer
from delivery.pipeline.prepare import MessageFactory, message_bytes
from tests.ops.conftest import Ledger, make_campaign


def sent_campaign(ledger: Ledger, name: str = "Spring news", **fields: Any) -> Campaign:
    campaign = make_campaign(name, status=Campaign.Status.FINISHED, **fields)
    Campaign.objects.filter(pk=campaign.pk).update(from_email="News <news@news.example.com>")
    campaign.refresh_from_db()
    ledger.add(campaign, 2, status=Delivery.Status.SENT, sent_at=timezone.now())
    return campaign


def signing_domain() -> None:
    domains.create_sending_domain(domain="news.example.com", generate_rsa=False)


def checks() -> dict[str, compliance.OneClickCheck]:
    panel = compliance.compliance()
    return {check.campaign_name: check for check in panel.one_click}


def test_a_campaign_signed_by_its_from_domain_offers_one_click(ledger: Ledger) -> None:
    signing_domain()
    sent_campaign(ledger)

    check = checks()["Spring news"]

    assert (check.verdict, check.problems) == ("ok", [])


def test_mail_from_a_domain_without_dkim_keys_fails(ledger: Ledger) -> None:
    sent_campaign(ledger)  # no sending domain: the pipeline sends it unsigned

    check = checks()["Spring news"]

    assert check.verdict == "fail"
    assert check.problems == [
        "Not DKIM-signed: news.example.com has no DKIM key, so nothing covers the headers."
    ]


def test_an_http_base_url_is_no_one_click_link(ledger: Ledger, settings: Any) -> None:
    settings.BASE_URL = "http://postino.example.com"
    signing_domain()
    sent_campaign(ledger)

    (problem,) = checks()["Spring news"].problems

    assert problem.startswith("List-Unsubscribe has no https URL: <http://postino.example.com/")


def prepared_for(campaign: Campaign) -> tuple[MessageFactory, Any]:
    factory = MessageFactory(campaign)
    row = Delivery.objects.filter(campaign=campaign).select_related("subscriber").first()
    assert row is not None
    return factory, factory.prepare(subscriber=row.subscriber, delivery_id=row.pk)


def test_headers_left_out_of_the_signature_fail(ledger: Ledger) -> None:
    signing_domain()
    factory, prepared = prepared_for(sent_campaign(ledger))
    unsigned = message_bytes(prepared, [])
    without = tuple(h for h in dkim.SIGNED_HEADERS if not h.startswith("list-unsubscribe"))

    signed = dkim.sign(unsigned, factory.dkim_keys, headers=without)

    assert compliance.one_click_problems(factory.as_bytes(prepared), "news.example.com") == []
    assert compliance.one_click_problems(signed, "news.example.com") == [
        "The DKIM signature's h= does not cover List-Unsubscribe and -Post."
    ]


def test_a_message_without_the_headers_fails(ledger: Ledger) -> None:
    signing_domain()
    factory, prepared = prepared_for(sent_campaign(ledger))
    bare = build_message(
        from_header=prepared.from_header,
        to_header=prepared.to_header,
        subject=prepared.subject,
        html=prepared.html,
        text=prepared.text,
        message_id=prepared.message_id,
    )

    problems = compliance.one_click_problems(dkim.sign(bare, factory.dkim_keys), "news.example.com")

    assert problems == [
        "No List-Unsubscribe header.",
        "No List-Unsubscribe-Post: List-Unsubscribe=One-Click header.",
        "The DKIM signature's h= does not cover List-Unsubscribe and -Post.",
    ]


def test_a_signature_from_another_domain_does_not_count(ledger: Ledger) -> None:
    other = domains.create_sending_domain(domain="mailer.example.net", generate_rsa=False)
    _, prepared = prepared_for(sent_campaign(ledger))

    signed = dkim.sign(message_bytes(prepared, []), domains.load_keys(other))

    assert compliance.one_click_problems(signed, "news.example.com") == [
        "Signed by mailer.example.net, not by the From domain news.example.com."
    ]


def test_an_esp_campaign_has_the_headers_but_its_signature_cannot_be_seen(
    ledger: Ledger,
) -> None:
    signing_domain()
    esp = SmtpServer.objects.create(name="Postmark", kind=SmtpServer.Kind.ESP, esp="postmark")
    sent_campaign(ledger, smtp_server=esp)

    check = checks()["Spring news"]

    assert (check.verdict, check.problems) == ("unknown", [])
    assert check.notes[0].startswith("Sent through an ESP, which builds and signs the message")


def test_only_the_last_five_started_campaigns_are_checked(ledger: Ledger) -> None:
    signing_domain()
    for i in range(7):
        campaign = sent_campaign(ledger, f"C{i}")
        Campaign.objects.filter(pk=campaign.pk).update(
            started_at=timezone.now() - timedelta(days=7 - i)
        )
    make_campaign("Draft", status=Campaign.Status.DRAFT)

    assert list(checks()) == ["C6", "C5", "C4", "C3", "C2"]


def test_checking_more_campaigns_costs_no_more_queries(
    ledger: Ledger, django_assert_num_queries: Any
) -> None:
    signing_domain()
    sent_campaign(ledger, "C0")
    # domains, sends, reports, campaigns, sample recipients, the From domain's keys.
    with django_assert_num_queries(6):
        assert len(compliance.compliance().one_click) == 1
    domains.clear_key_cache()
    for i in range(1, 5):
        sent_campaign(ledger, f"C{i}")
    with django_assert_num_queries(5):  # the same, the sends cached
        assert [check.verdict for check in compliance.compliance().one_click] == ["ok"] * 5
    with django_assert_num_queries(3):  # every verdict cached: domains, reports, campaigns
        compliance.compliance()
