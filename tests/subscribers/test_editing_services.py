"""Editing and deleting subscribers and lists: the services every caller shares."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from bounces.models import BounceEvent, Suppression
from campaigns.models import Campaign
from campaigns.services import snapshot_audience
from delivery.models import Delivery, SmtpServer
from subscribers.models import MailingList, Subscriber, Subscription
from subscribers.selectors import (
    list_deletion_impact,
    search_subscribers,
    subscriber_deletion_impact,
)
from subscribers.services import (
    DuplicateList,
    DuplicateSubscriber,
    ListInUse,
    SubscriberInUse,
    create_list,
    create_subscriber,
    delete_list,
    delete_subscriber,
    update_list,
    update_subscriber,
)
from tests.support.factories import add_audience, make_campaign, make_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def server() -> SmtpServer:
    return SmtpServer.objects.create(name="Relay", host="127.0.0.1", port=2525, security="none")


@pytest.fixture
def news() -> MailingList:
    return make_list("News")


@pytest.fixture
def bea(news: MailingList) -> Subscriber:
    return create_subscriber(email="bea@example.com", name="Bea", lists=[news])


def test_an_edit_normalises_the_email_and_changes_only_what_is_given(bea: Subscriber) -> None:
    update_subscriber(subscriber=bea, email="  Bea.New@Example.COM ")
    bea.refresh_from_db()
    assert bea.email == "bea.new@example.com"
    assert bea.name == "Bea"
    update_subscriber(subscriber=bea, name=" Beatriz ", attributes={"city": "Porto"})
    bea.refresh_from_db()
    assert (bea.email, bea.name, bea.attributes) == (
        "bea.new@example.com",
        "Beatriz",
        {"city": "Porto"},
    )


def test_taking_another_subscribers_address_is_a_conflict_naming_them(bea: Subscriber) -> None:
    carl = create_subscriber(email="carl@example.com")
    with pytest.raises(DuplicateSubscriber) as caught:
        update_subscriber(subscriber=carl, email="BEA@example.com", name="Carl")
    assert caught.value.existing_id == bea.pk
    carl.refresh_from_db()
    assert (carl.email, carl.name) == ("carl@example.com", "")


def test_every_invalid_field_is_reported_at_once(bea: Subscriber) -> None:
    with pytest.raises(ValidationError) as caught:
        update_subscriber(subscriber=bea, email="nope", attributes=["a"], status="vip")
    assert set(caught.value.message_dict) == {"email", "attributes", "status"}
    bea.refresh_from_db()
    assert bea.email == "bea@example.com"


def test_memberships_are_set_joining_by_subscribe_and_leaving_by_unsubscribe(
    bea: Subscriber, news: MailingList
) -> None:
    double = make_list("Insiders", optin=MailingList.OptIn.DOUBLE)
    update_subscriber(subscriber=bea, lists=[double])
    states = dict(bea.subscriptions.values_list("mailing_list__name", "status"))
    assert states == {"News": "unsubscribed", "Insiders": "unconfirmed"}
    assert bea.subscriptions.get(mailing_list=news).unsubscribed_at is not None

    # Ticking a list again re-subscribes (single opt-in confirms at once).
    update_subscriber(subscriber=bea, lists=[news, double])
    states = dict(bea.subscriptions.values_list("mailing_list__name", "status"))
    assert states == {"News": "confirmed", "Insiders": "unconfirmed"}


def test_leaving_lists_out_keeps_memberships(bea: Subscriber) -> None:
    update_subscriber(subscriber=bea, name="B")
    assert bea.subscriptions.get().status == Subscription.Status.CONFIRMED


def test_blocklisting_a_subscriber(bea: Subscriber) -> None:
    update_subscriber(subscriber=bea, status=Subscriber.Status.BLOCKLISTED)
    bea.refresh_from_db()
    assert bea.status == Subscriber.Status.BLOCKLISTED


def test_deleting_a_subscriber_takes_subscriptions_and_ledger_rows_and_keeps_suppressions(
    bea: Subscriber, news: MailingList, server: SmtpServer
) -> None:
    campaign = make_campaign(lists=[news], server=server)
    snapshot_audience(campaign)
    Delivery.objects.filter(subscriber=bea).update(status=Delivery.Status.SENT)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.FINISHED)
    bounce = BounceEvent.objects.create(
        email=bea.email, kind=BounceEvent.Kind.HARD, subscriber=bea, campaign=campaign
    )
    Suppression.objects.create(email=bea.email, reason=Suppression.Reason.HARD_BOUNCE)

    impact = subscriber_deletion_impact(bea)
    assert (impact.subscriptions, impact.deliveries, impact.campaigns) == (1, 1, 1)
    assert (impact.bounces, impact.suppressed, impact.sending_in) == (1, True, [])

    delete_subscriber(subscriber=bea)

    assert not Subscriber.objects.exists()
    assert not Subscription.objects.exists()
    assert not Delivery.objects.exists()
    bounce.refresh_from_db()
    assert (bounce.email, bounce.subscriber_id) == ("bea@example.com", None)
    # Re-added, the address is still suppressed: the campaign audience skips it.
    create_subscriber(email="bea@example.com", lists=[news])
    again = make_campaign(lists=[news], server=server, name="Again")
    assert snapshot_audience(again) == 0


def test_a_subscriber_with_a_message_queued_in_a_running_campaign_is_not_deleted(
    bea: Subscriber, news: MailingList, server: SmtpServer
) -> None:
    campaign = make_campaign(lists=[news], server=server)
    snapshot_audience(campaign)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.RUNNING)
    with pytest.raises(SubscriberInUse, match="Spring news"):
        delete_subscriber(subscriber=bea)
    assert Subscriber.objects.filter(pk=bea.pk).exists()

    # Once their message is sent, nothing waits for them.
    Delivery.objects.update(status=Delivery.Status.SENT, sent_at=timezone.now())
    delete_subscriber(subscriber=bea)
    assert not Subscriber.objects.filter(pk=bea.pk).exists()


def test_a_list_is_renamed_with_case_insensitive_uniqueness(news: MailingList) -> None:
    offers = create_list(name="Offers")
    with pytest.raises(DuplicateList):
        update_list(mailing_list=offers, name="  NEWS ")
    update_list(mailing_list=offers, name="Deals", description="Cheap", optin="double")
    offers.refresh_from_db()
    assert (offers.name, offers.description, offers.optin) == ("Deals", "Cheap", "double")
    # Renaming a list to its own name in another case is not a clash with itself.
    update_list(mailing_list=offers, name="DEALS")


def test_a_list_edit_reports_every_bad_field(news: MailingList) -> None:
    with pytest.raises(ValidationError) as caught:
        update_list(mailing_list=news, name=" ", optin="triple")
    assert set(caught.value.message_dict) == {"name", "optin"}


def test_switching_to_double_optin_leaves_confirmed_members_confirmed(
    news: MailingList, bea: Subscriber
) -> None:
    update_list(mailing_list=news, optin=MailingList.OptIn.DOUBLE)
    assert bea.subscriptions.get().status == Subscription.Status.CONFIRMED


def test_deleting_a_list_keeps_subscribers_and_sent_figures_and_drafts_lose_it(
    news: MailingList, bea: Subscriber, server: SmtpServer
) -> None:
    other = make_list("Other")
    sent = make_campaign(lists=[news], server=server, name="Sent one")
    snapshot_audience(sent)
    Campaign.objects.filter(pk=sent.pk).update(status=Campaign.Status.FINISHED)
    draft = make_campaign(lists=[news, other], server=server, name="Draft one")

    impact = list_deletion_impact(news)
    assert impact.subscriptions == 1
    assert impact.sent_campaigns == ["Sent one"]
    assert impact.draft_campaigns == ["Draft one"]
    assert impact.unfinished_campaigns == []

    delete_list(mailing_list=news)

    assert Subscriber.objects.filter(pk=bea.pk).exists()
    assert not Subscription.objects.exists()
    assert Delivery.objects.filter(campaign=sent).count() == 1
    assert list(draft.lists.all()) == [other]


def test_a_list_a_scheduled_campaign_targets_is_not_deleted(
    news: MailingList, server: SmtpServer
) -> None:
    campaign = make_campaign(lists=[news], server=server, name="Later")
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SCHEDULED)
    with pytest.raises(ListInUse, match="Later"):
        delete_list(mailing_list=news)
    assert MailingList.objects.filter(pk=news.pk).exists()


def test_search_matches_email_or_name_ignoring_case_and_pages_by_id(news: MailingList) -> None:
    add_audience(news, 3, prefix="reader")
    create_subscriber(email="zed@example.com", name="Mary ANN")
    create_subscriber(email="annie@example.com")
    create_subscriber(email="other@example.com", name="Bob")

    found = search_subscribers("ann")
    assert [s.email for s in found] == ["zed@example.com", "annie@example.com"]
    assert [s.email for s in search_subscribers("Reader reader 1")] == ["reader1@example.org"]
    first = found.first()
    assert first is not None
    assert [s.email for s in found.filter(id__gt=first.pk)] == ["annie@example.com"]
