"""Deleting, archiving and duplicating campaigns; layouts; deleting sending servers."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from campaigns.models import Campaign, CampaignServer, Template
from campaigns.services import (
    CampaignStateError,
    LayoutInUse,
    archive_campaign,
    create_campaign,
    create_layout,
    delete_campaign,
    delete_layout,
    duplicate_campaign,
    snapshot_audience,
    unarchive_campaign,
    update_layout,
)
from delivery.models import Delivery, SmtpServer
from delivery.services import ServerInUse, delete_server
from subscribers.models import MailingList
from tests.support.factories import add_audience, make_campaign, make_list

pytestmark = pytest.mark.django_db

LAYOUT = "<html><body>\n<header>News</header>\n{% block content %}{% endblock %}\n</body></html>"


@pytest.fixture
def server() -> SmtpServer:
    return SmtpServer.objects.create(name="Relay", host="127.0.0.1", port=2525, security="none")


@pytest.fixture
def news() -> MailingList:
    news = make_list("News")
    add_audience(news, 3)
    return news


def _set_status(campaign: Campaign, status: str) -> Campaign:
    Campaign.objects.filter(pk=campaign.pk).update(status=status)
    campaign.refresh_from_db()
    return campaign


def test_a_draft_is_deleted(news: MailingList, server: SmtpServer) -> None:
    campaign = make_campaign(lists=[news], server=server)
    delete_campaign(campaign=campaign)
    assert not Campaign.objects.exists()


@pytest.mark.parametrize("status", ["scheduled", "running", "paused", "finished"])
def test_a_campaign_past_the_draft_is_not_deleted(
    news: MailingList, server: SmtpServer, status: str
) -> None:
    campaign = _set_status(make_campaign(lists=[news], server=server), status)
    with pytest.raises(CampaignStateError, match=f"a {status} campaign cannot be deleted"):
        delete_campaign(campaign=campaign)
    assert Campaign.objects.filter(pk=campaign.pk).exists()


def test_a_cancelled_campaign_is_deleted_only_if_it_queued_nothing(
    news: MailingList, server: SmtpServer
) -> None:
    never_sent = _set_status(make_campaign(lists=[news], server=server), "cancelled")
    delete_campaign(campaign=never_sent)
    assert not Campaign.objects.filter(pk=never_sent.pk).exists()

    sent_some = make_campaign(lists=[news], server=server)
    snapshot_audience(sent_some)
    _set_status(sent_some, "cancelled")
    with pytest.raises(CampaignStateError, match="archive it instead"):
        delete_campaign(campaign=sent_some)
    assert Delivery.objects.filter(campaign=sent_some).count() == 3


def test_archiving_keeps_the_ledger_and_unarchiving_brings_it_back(
    news: MailingList, server: SmtpServer
) -> None:
    campaign = make_campaign(lists=[news], server=server)
    snapshot_audience(campaign)
    with pytest.raises(CampaignStateError, match="only finished or cancelled"):
        archive_campaign(campaign=campaign)
    _set_status(campaign, "finished")

    archive_campaign(campaign=campaign)
    assert campaign.archived_at is not None
    assert Delivery.objects.filter(campaign=campaign).count() == 3
    with pytest.raises(CampaignStateError, match="already archived"):
        archive_campaign(campaign=campaign)

    unarchive_campaign(campaign=campaign)
    assert campaign.archived_at is None
    with pytest.raises(CampaignStateError, match="not archived"):
        unarchive_campaign(campaign=campaign)


def test_a_duplicate_is_a_draft_with_everything_but_the_sending(
    news: MailingList, server: SmtpServer
) -> None:
    backup = SmtpServer.objects.create(name="Backup", host="127.0.0.1", port=2526, security="none")
    layout = create_layout(name="Plain", html=LAYOUT)
    original = create_campaign(
        name="Spring news",
        subject="Hi {{ subscriber.name }}",
        from_email="News <news@example.com>",
        reply_to="help@example.com",
        html="<p>Body</p>",
        text="Body",
        template=layout,
        lists=[news],
        smtp_server=server,
        smtp_weight=3,
        extra_servers=[(backup, 2)],
        max_error_rate=0.1,
        max_errors=7,
    )
    snapshot_audience(original)
    _set_status(original, "finished")

    copy = duplicate_campaign(campaign=original)

    assert copy.pk != original.pk
    assert (copy.name, copy.status, copy.archived_at) == ("Copy of Spring news", "draft", None)
    fields = ["subject", "from_email", "reply_to", "html", "text", "template_id"]
    fields += ["smtp_server_id", "smtp_weight", "max_error_rate", "max_errors"]
    assert [getattr(copy, f) for f in fields] == [getattr(original, f) for f in fields]
    assert list(copy.lists.all()) == [news]
    assert list(
        CampaignServer.objects.filter(campaign=copy).values_list("smtp_server_id", "weight")
    ) == [(backup.pk, 2)]
    assert not Delivery.objects.filter(campaign=copy).exists()
    assert (copy.started_at, copy.finished_at, copy.scheduled_at) == (None, None, None)


def test_a_duplicate_of_a_long_name_fits_the_column(news: MailingList, server: SmtpServer) -> None:
    original = make_campaign(lists=[news], server=server, name="x" * 200)
    assert len(duplicate_campaign(campaign=original).name) == 200


def test_a_layout_without_a_content_block_is_refused(db: None) -> None:
    with pytest.raises(ValidationError) as caught:
        create_layout(name="Bare", html="<html><body>Nothing here</body></html>")
    assert caught.value.message_dict == {"html": ["must contain {% block content %}{% endblock %}"]}


def test_a_layout_syntax_error_names_its_line(db: None) -> None:
    with pytest.raises(ValidationError) as caught:
        create_layout(name="Broken", html="<html>\n{% block content %}{% endblock %}\n{% if %}\n")
    (message,) = caught.value.message_dict["html"]
    assert message.startswith("Line 3: ")


def test_layout_names_are_unique_ignoring_case(db: None) -> None:
    create_layout(name="Plain", html=LAYOUT)
    with pytest.raises(ValidationError) as caught:
        create_layout(name=" plain ", html=LAYOUT)
    assert caught.value.message_dict == {"name": ["A layout named “plain” already exists."]}


def test_a_layout_in_use_is_not_deleted_and_names_the_campaigns(
    news: MailingList, server: SmtpServer
) -> None:
    layout = create_layout(name="Plain", html=LAYOUT)
    campaign = make_campaign(lists=[news], server=server)
    campaign.template = layout
    campaign.save()
    with pytest.raises(LayoutInUse, match="“Spring news”"):
        delete_layout(layout=layout)
    campaign.template = None
    campaign.save()
    delete_layout(layout=layout)
    assert not Template.objects.filter(pk=layout.pk).exists()  # the shipped defaults stay


def test_a_layout_a_sending_campaign_uses_keeps_its_html(
    news: MailingList, server: SmtpServer
) -> None:
    layout = create_layout(name="Plain", html=LAYOUT)
    campaign = make_campaign(lists=[news], server=server)
    Campaign.objects.filter(pk=campaign.pk).update(template=layout, status="running")
    with pytest.raises(LayoutInUse, match="sending"):
        update_layout(layout=layout, name="Plain", html=LAYOUT.replace("News", "Old"))
    # Its name is not what workers render: renaming is fine.
    update_layout(layout=layout, name="Plain 2", html=LAYOUT)
    layout.refresh_from_db()
    assert (layout.name, layout.html) == ("Plain 2", LAYOUT)


def test_a_server_no_campaign_uses_is_deleted(server: SmtpServer) -> None:
    delete_server(server=server)
    assert not SmtpServer.objects.exists()


def test_a_server_used_as_main_or_extra_is_not_deleted(
    news: MailingList, server: SmtpServer
) -> None:
    backup = SmtpServer.objects.create(name="Backup", host="127.0.0.1", port=2526, security="none")
    create_campaign(
        name="Uses both",
        subject="s",
        from_email="a@example.com",
        html="<p>b</p>",
        lists=[news],
        smtp_server=server,
        extra_servers=[(backup, 1)],
    )
    for used in (server, backup):
        with pytest.raises(ServerInUse, match="used by 1 campaign: “Uses both”"):
            delete_server(server=used)
    assert SmtpServer.objects.count() == 2
