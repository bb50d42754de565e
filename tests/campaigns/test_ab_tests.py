"""A/B tests: the split of the audience in the ledger, the phases, the winner
by people's opens (or by hand), and each variant rendered as its recipients get it."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns import abtest
from campaigns.abtest import VariantIn
from campaigns.models import AbTest, Campaign
from campaigns.services import start_campaign
from delivery.models import Delivery, SmtpServer
from delivery.pipeline.prepare import MessageFactory
from tests.support.factories import add_audience, make_campaign, make_list
from tracking.models import Engagement

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_redis")]

SUBJECTS = [VariantIn(subject="Spring sale {{ subscriber.name }}"), VariantIn(subject="Save 20%")]


@pytest.fixture
def campaign() -> Campaign:
    server = SmtpServer.objects.create(name="Relay", host="127.0.0.1", port=2525)
    newsletter = make_list()
    add_audience(newsletter, 100)
    return make_campaign(lists=[newsletter], server=server)


def ledger(campaign: Campaign) -> dict[tuple[str, int | None], int]:
    counts: dict[tuple[str, int | None], int] = {}
    for status, variant in Delivery.objects.filter(campaign=campaign).values_list(
        "status", "variant"
    ):
        counts[(status, variant)] = counts.get((status, variant), 0) + 1
    return counts


def send_test_share(campaign: Campaign) -> None:
    Delivery.objects.filter(campaign=campaign, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.SENT, sent_at=timezone.now()
    )


@pytest.mark.parametrize(
    ("variants", "field", "message"),
    [
        ([VariantIn(subject="Only one")], "variants", "Give 2 to 4 variants."),
        (
            [VariantIn(subject="A"), VariantIn(from_name="Ana")],
            "variants",
            "All variants must change the same thing.",
        ),
        (
            [VariantIn(subject="A", from_name="B"), VariantIn(subject="C")],
            "variants[0]",
            "Each variant changes one thing",
        ),
        ([VariantIn(subject="Same"), VariantIn(subject="Same")], "variants", "Two variants"),
        (
            [VariantIn(subject="Hi {{ subscriber.name"), VariantIn(subject="B")],
            "variants[0].subject",
            "line 1",
        ),
    ],
)
def test_a_test_that_cannot_run_is_refused_with_the_reason(
    campaign: Campaign, variants: list[VariantIn], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        abtest.configure(campaign=campaign, variants=variants)
    assert field in refused.value.message_dict
    assert message in " ".join(refused.value.message_dict[field])


def test_picking_by_opens_needs_open_tracking_that_names_people(campaign: Campaign) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(tracking_privacy=True)
    campaign.refresh_from_db()
    with pytest.raises(ValidationError, match="Privacy mode"):
        abtest.configure(campaign=campaign, variants=SUBJECTS, metric="opens")
    abtest.configure(campaign=campaign, variants=SUBJECTS, metric="manual")


def test_the_test_share_is_split_evenly_and_the_rest_is_held(campaign: Campaign) -> None:
    abtest.configure(campaign=campaign, variants=SUBJECTS, test_percent=20)

    start_campaign(campaign=campaign)

    assert ledger(campaign) == {("pending", 0): 10, ("pending", 1): 10, ("held", None): 80}
    # A pseudo-random share, not the first 20 subscribers.
    tested = Delivery.objects.filter(campaign=campaign, variant__isnull=False)
    ids = sorted(tested.values_list("subscriber_id", flat=True))
    assert ids != list(range(ids[0], ids[0] + 20))


def test_the_winner_by_opens_goes_to_the_rest_after_the_wait(campaign: Campaign) -> None:
    test = abtest.configure(campaign=campaign, variants=SUBJECTS, wait_minutes=30)
    start_campaign(campaign=campaign)
    now = timezone.now()

    abtest.advance(now=now)  # variants still sending
    test.refresh_from_db()
    assert test.phase == AbTest.Phase.TESTING

    send_test_share(campaign)
    abtest.advance(now=now)
    test.refresh_from_db()
    assert (test.phase, test.waiting_since) == (AbTest.Phase.WAITING, now)

    # Three people opened variant 1, one opened variant 0.
    for variant, people in ((0, 1), (1, 3)):
        rows = Delivery.objects.filter(campaign=campaign, variant=variant)[:people]
        Engagement.objects.bulk_create(
            Engagement(campaign=campaign, subscriber_id=row.subscriber_id, opens=1) for row in rows
        )
    abtest.advance(now=now + timedelta(minutes=29))
    test.refresh_from_db()
    assert test.phase == AbTest.Phase.WAITING and test.winner is None

    assert abtest.advance(now=now + timedelta(minutes=30)) == [campaign.pk]
    test.refresh_from_db()
    assert (test.phase, test.winner, test.chosen_by) == (AbTest.Phase.SENDING_WINNER, 1, "opens")
    assert ledger(campaign) == {("sent", 0): 10, ("sent", 1): 10, ("pending", None): 80}
    figures = abtest.variant_figures(test)
    assert [(row.sent, row.opened) for row in figures] == [(10, 1), (10, 3)]
    assert abtest.margin(test, figures) == pytest.approx(20.0)  # 30% against 10%

    Delivery.objects.filter(campaign=campaign).update(status=Delivery.Status.SENT)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.FINISHED)
    abtest.advance()
    test.refresh_from_db()
    assert test.phase == AbTest.Phase.DONE


def test_a_manual_test_waits_for_a_person_and_goes_at_once(campaign: Campaign) -> None:
    test = abtest.configure(campaign=campaign, variants=SUBJECTS, metric="manual", wait_minutes=1)
    start_campaign(campaign=campaign)
    send_test_share(campaign)
    abtest.advance(now=timezone.now() + timedelta(days=2))
    test.refresh_from_db()
    assert (test.phase, test.winner) == (AbTest.Phase.WAITING, None)  # nobody picked

    with pytest.raises(ValidationError, match="no variant 5"):
        abtest.choose_winner(campaign=campaign, variant=5)
    test = abtest.choose_winner(campaign=campaign, variant=0)

    assert (test.phase, test.winner, test.chosen_by) == (AbTest.Phase.SENDING_WINNER, 0, "manual")
    assert ledger(campaign)[("pending", None)] == 80
    with pytest.raises(abtest.AbTestError):
        abtest.choose_winner(campaign=campaign, variant=1)


def test_a_held_campaign_does_not_finish_before_its_winner_goes(campaign: Campaign) -> None:
    from delivery.pipeline.scheduling import maybe_finish

    abtest.configure(campaign=campaign, variants=SUBJECTS, metric="manual")
    start_campaign(campaign=campaign)
    send_test_share(campaign)
    assert not maybe_finish(campaign.pk)


def test_each_recipient_gets_their_variant_and_the_rest_the_winner(campaign: Campaign) -> None:
    test = abtest.configure(
        campaign=campaign,
        variants=[VariantIn(from_name="Ana from Postino"), VariantIn(from_name="The Postino team")],
        metric="manual",
    )
    start_campaign(campaign=campaign)
    factory = MessageFactory(campaign)
    first = Delivery.objects.filter(campaign=campaign, variant=1).select_related("subscriber")[0]
    prepared = factory.prepare(subscriber=first.subscriber, delivery_id=first.pk, variant=1)
    assert prepared.from_header == '"The Postino team" <news@postino.example.com>'

    send_test_share(campaign)
    abtest.advance()
    abtest.choose_winner(campaign=campaign, variant=0)
    rest = Delivery.objects.filter(campaign=campaign, variant__isnull=True).select_related(
        "subscriber"
    )[0]
    # A factory made before the winner was chosen still finds it.
    prepared = factory.prepare(subscriber=rest.subscriber, delivery_id=rest.pk, variant=None)
    assert prepared.from_header == '"Ana from Postino" <news@postino.example.com>'
    test.refresh_from_db()
    assert test.winner == 0


def test_a_duplicate_gets_the_test_afresh(campaign: Campaign) -> None:
    from campaigns.services import duplicate_campaign

    abtest.configure(campaign=campaign, variants=SUBJECTS, test_percent=30, metric="clicks")
    start_campaign(campaign=campaign)
    send_test_share(campaign)
    abtest.advance()

    copy = duplicate_campaign(campaign=campaign)

    test = AbTest.objects.get(campaign=copy)
    assert (test.phase, test.winner, test.test_percent, test.metric) == (
        "testing",
        None,
        30,
        "clicks",
    )
    assert [v.subject for v in test.variants.all()] == [v.subject for v in SUBJECTS]


def test_the_report_csv_gives_each_variants_figures(
    campaign: Campaign, teammate_client: Any
) -> None:
    abtest.configure(campaign=campaign, variants=SUBJECTS, metric="manual")
    start_campaign(campaign=campaign)
    send_test_share(campaign)
    abtest.advance()
    abtest.choose_winner(campaign=campaign, variant=1)

    content = teammate_client.get(f"/campaigns/{campaign.pk}/report.csv").content.decode()
    rows = list(csv.reader(io.StringIO(content)))
    head = rows.index(
        ["A/B variant", "Sent", "People who opened", "Opened (%)", "People who clicked",
         "Clicked (%)", "Winner"]
    )  # fmt: skip
    assert rows[head + 1][:2] == ["A: Spring sale {{ subscriber.name }}", "10"]
    assert rows[head + 2] == ["B: Save 20%", "10", "0", "0.00", "0", "0.00", "yes"]


def test_a_variant_keeps_the_campaigns_preheader(campaign: Campaign) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(preheader="Our spring picks inside")
    campaign.refresh_from_db()
    abtest.configure(campaign=campaign, variants=SUBJECTS, metric="manual")
    start_campaign(campaign=campaign)
    row = Delivery.objects.filter(campaign=campaign, variant=1).select_related("subscriber")[0]

    prepared = MessageFactory(campaign).prepare(
        subscriber=row.subscriber, delivery_id=row.pk, variant=1
    )

    assert prepared.subject == "Save 20%"
    assert "Our spring picks inside" in prepared.html
