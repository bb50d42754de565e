"""Prepare: render, build and sign every outgoing message, in one place.

A campaign's templates are compiled once per process; ``MessageFactory``
holds what is the same for all its recipients (From, Reply-To, DKIM keys) and
``prepare`` renders one recipient into a ``PreparedMessage``: subject, HTML
and text, signed links, ``Message-ID``, ``List-Unsubscribe`` (one-click URL
and mailto) with ``List-Unsubscribe-Post``, and the VERP envelope sender that
names the ledger row. SMTP sends it as DKIM-signed bytes (``as_bytes``); an
ESP channel hands the same parts to the provider's API
(``delivery.pipeline.esp``).
"""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import parseaddr

from django.conf import settings

from campaigns.abtest import VariantRenderer
from campaigns.models import Campaign
from campaigns.personalize import build_context, subscriber_links
from campaigns.rendering import CompiledCampaign, compiled_for, sample_context
from delivery import dkim, verp
from delivery.domains import keys_for
from delivery.mime import build_message, format_address, format_address_header, new_message_id
from delivery.pipeline.types import PreparedMessage
from subscribers.models import Subscriber
from tracking.links import track_message


class MessageFactory:
    """Everything per-campaign computed once; ``prepare`` renders one recipient."""

    def __init__(self, campaign: Campaign) -> None:
        self.campaign = campaign
        self.compiled: CompiledCampaign = compiled_for(campaign)
        name, address = parseaddr(campaign.from_email)
        self.from_header = format_address(name, address)
        self.from_domain = address.rpartition("@")[2] or settings.BASE_HOST
        self.reply_to = format_address_header(campaign.reply_to) if campaign.reply_to else ""
        self.bounce_domain = settings.POSTINO["BOUNCE_DOMAIN"]
        self.mailto_local = settings.POSTINO["UNSUBSCRIBE_MAILTO_LOCALPART"]
        # The From domain's DKIM keys, decrypted once per process.
        self.dkim_keys = keys_for(self.from_domain)
        # An A/B test's variants (each compiled once, when first met).
        self.variants = VariantRenderer(campaign)
        self._address = address

    def prepare(
        self,
        *,
        subscriber: Subscriber,
        delivery_id: int | None,
        links: dict[str, str] | None = None,
        variant: int | None = None,
    ) -> PreparedMessage:
        if links is None:
            links = subscriber_links(subscriber_id=subscriber.pk, campaign_id=self.campaign.pk)
        compiled, from_header = self.compiled, self.from_header
        index = self.variants.index_for(variant) if self.variants.active else None
        if index is not None:
            compiled = self.variants.compiled(index)
            if from_name := self.variants.from_name(index):
                from_header = format_address(from_name, self._address)
        rendered = compiled.render(build_context(self.campaign, subscriber, links))
        html, text = rendered.html, rendered.text
        campaign = self.campaign
        if delivery_id is not None and (campaign.track_opens or campaign.track_clicks):
            html, text = track_message(
                html_text=html,
                text=text,
                campaign_id=campaign.pk,
                subscriber_id=None if campaign.tracking_privacy else subscriber.pk,
                opens=campaign.track_opens,
                clicks=campaign.track_clicks,
                keep=set(links.values()),
            )
        return self._prepare(
            subject=rendered.subject,
            html=html,
            text=text,
            to_header=format_address(subscriber.name, subscriber.email),
            recipient=subscriber.email,
            links=links,
            delivery_id=delivery_id,
            from_header=from_header,
        )

    def as_bytes(self, prepared: PreparedMessage) -> bytes:
        return message_bytes(prepared, self.dkim_keys)

    def _prepare(
        self,
        *,
        subject: str,
        html: str,
        text: str,
        to_header: str,
        recipient: str,
        links: dict[str, str],
        delivery_id: int | None,
        from_header: str = "",
    ) -> PreparedMessage:
        unsubscribe_token = links["one_click_url"].rstrip("/").rpartition("/")[2]
        mailto = (
            f"mailto:{self.mailto_local}+{unsubscribe_token}@{self.bounce_domain}"
            "?subject=unsubscribe"
        )
        headers = [
            ("List-Unsubscribe", f"<{links['one_click_url']}>, <{mailto}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("Feedback-ID", f"{self.campaign.pk}:campaign:postino"),
            ("X-Postino-Campaign", str(self.campaign.pk)),
        ]
        verp_token = verp.make_token(delivery_id) if delivery_id is not None else None
        if verp_token is not None:
            # Lets complaint reports that redact the recipient still be matched.
            headers.append(("X-Postino-Ref", verp_token))
        return PreparedMessage(
            envelope_from=verp.envelope_sender_for(verp_token),
            message_id=new_message_id(self.from_domain),
            from_header=from_header or self.from_header,
            to_header=to_header,
            recipient=recipient,
            reply_to=self.reply_to,
            subject=subject,
            html=html,
            text=text,
            headers=headers,
        )

    def prepare_test(self, email: str, subscriber: Subscriber | None) -> PreparedMessage:
        """A test message: the subscriber's own rendering if the address is one,
        else the sample subscriber the preview shows; the subject is marked [Test]."""
        if subscriber is not None:
            links = subscriber_links(subscriber_id=subscriber.pk, campaign_id=self.campaign.pk)
            context = build_context(self.campaign, subscriber, links)
            to_header = format_address(subscriber.name, subscriber.email)
        else:
            context = sample_context(
                campaign_name=self.campaign.name, campaign_subject=self.campaign.subject
            )
            context["campaign"]["id"] = self.campaign.pk
            links = {
                "one_click_url": context["unsubscribe_url"],
                "unsubscribe_url": context["unsubscribe_url"],
                "preferences_url": context["preferences_url"],
                "webview_url": context["webview_url"],
            }
            to_header = email
        rendered = self.compiled.render(context)
        return self._prepare(
            subject="[Test] " + rendered.subject,
            html=rendered.html,
            text=rendered.text,
            to_header=to_header,
            recipient=email,
            links=links,
            delivery_id=None,
        )


def message_bytes(prepared: PreparedMessage, dkim_keys: Sequence[dkim.DkimKey]) -> bytes:
    """The MIME message of ``prepared``, DKIM-signed when the From domain has keys."""
    data = build_message(
        from_header=prepared.from_header,
        to_header=prepared.to_header,
        subject=prepared.subject,
        html=prepared.html,
        text=prepared.text,
        message_id=prepared.message_id,
        reply_to=prepared.reply_to,
        extra_headers=prepared.headers,
    )
    return dkim.sign(data, dkim_keys) if dkim_keys else data
