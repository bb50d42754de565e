"""Small builders for test data; audiences are inserted in bulk."""

from __future__ import annotations

from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services import create_campaign, snapshot_audience
from delivery.models import SmtpServer
from delivery.services import create_smtp_server
from subscribers.models import MailingList, Subscriber, Subscription
from tests.support.smtpd import RunningSmtpServer

HTML = """<html><body>
<h1>Hello {{ subscriber.name }}</h1>
<p>Your city: {{ subscriber.attributes.city }}. Campaign: {{ campaign.name }}</p>
<p><a href="{{ unsubscribe_url }}">Unsubscribe</a> ·
<a href="{{ preferences_url }}">Preferences</a> · <a href="{{ webview_url }}">View online</a></p>
</body></html>"""


def make_list(name: str = "Newsletter", optin: str = "single") -> MailingList:
    return MailingList.objects.create(name=name, optin=optin)


def add_audience(
    mailing_list: MailingList,
    count: int,
    *,
    prefix: str = "reader",
    domain: str = "example.org",
    status: str = Subscription.Status.CONFIRMED,
) -> list[Subscriber]:
    now = timezone.now()
    subscribers = Subscriber.objects.bulk_create(
        [
            Subscriber(
                email=f"{prefix}{i}@{domain}",
                name=f"Reader {prefix} {i}",
                attributes={"city": f"City-{i}"},
            )
            for i in range(count)
        ],
        batch_size=1000,
    )
    Subscription.objects.bulk_create(
        [
            Subscription(subscriber=s, mailing_list=mailing_list, status=status, confirmed_at=now)
            for s in subscribers
        ],
        batch_size=1000,
    )
    return subscribers


def make_smtp_server(
    smtpd: RunningSmtpServer, *, rate: float = 2000.0, connections: int = 4, name: str = "Test"
) -> SmtpServer:
    return create_smtp_server(
        name=name,
        host=smtpd.host,
        port=smtpd.port,
        security="starttls",
        username=smtpd.username,
        password=smtpd.password,
        max_connections=connections,
        messages_per_second=rate,
    )


def make_campaign(
    *, lists: list[MailingList], server: SmtpServer | None, name: str = "Spring news"
) -> Campaign:
    return create_campaign(
        name=name,
        subject="News for {{ subscriber.name }}",
        from_email="Postino News <news@postino.example.com>",
        html=HTML,
        lists=lists,
        smtp_server=server,
    )


def running(campaign: Campaign) -> Campaign:
    """The campaign with its audience snapshotted and marked running, as
    ``start_campaign`` leaves it, without queuing any task."""
    snapshot_audience(campaign)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.RUNNING)
    campaign.refresh_from_db()
    return campaign


def esp_campaign(
    esp: str, credentials: dict[str, str], count: int, *, max_connections: int = 2
) -> Campaign:
    """A running campaign of ``count`` recipients through an ESP channel."""
    server = SmtpServer(
        name=f"{esp} channel", kind="esp", esp=esp, messages_per_second=1000,
        max_connections=max_connections,
    )  # fmt: skip
    server.esp_credentials = credentials
    server.save()
    news = make_list()
    add_audience(news, count)
    return running(make_campaign(lists=[news], server=server))
