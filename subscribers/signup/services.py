"""Managing signup forms, and what happens when a visitor submits one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_slug
from django.db import IntegrityError, transaction

from bounces.services import suppressed_emails
from subscribers import consent, services
from subscribers.models import (
    ConsentEvent,
    ConsentText,
    MailingList,
    SignupForm,
    Subscriber,
    Subscription,
)

MAX_NAME = 200


@dataclass
class FormFields:
    name: str
    slug: str
    title: str
    consent_text: str
    lists: Sequence[MailingList]
    intro: str = ""
    ask_name: bool = True
    redirect_url: str = ""
    enabled: bool = True


def _clean(fields: FormFields, *, exclude_pk: int | None) -> None:
    problems: dict[str, list[str]] = {}
    if not fields.name.strip():
        problems["name"] = ["Give the form a name."]
    elif (
        SignupForm.objects.filter(name__iexact=fields.name.strip())
        .exclude(pk=exclude_pk or 0)
        .exists()
    ):
        problems["name"] = ["Another form has this name."]
    try:
        validate_slug(fields.slug)
    except ValidationError:
        problems["slug"] = ["Use letters, digits, dashes and underscores only."]
    else:
        if SignupForm.objects.filter(slug=fields.slug).exclude(pk=exclude_pk or 0).exists():
            problems["slug"] = ["Another form has this address."]
    if not fields.title.strip():
        problems["title"] = ["Give the page a title."]
    if not fields.consent_text.strip():
        problems["consent_text"] = [
            "Say what people agree to (what you will send, how often, how to unsubscribe): "
            "it is shown above the button and kept as the record of consent."
        ]
    if not fields.lists:
        problems["lists"] = ["Choose at least one list the form subscribes to."]
    if fields.redirect_url:
        try:
            URLValidator(schemes=["https", "http"])(fields.redirect_url)
        except ValidationError:
            problems["redirect_url"] = ["Give a full address, like https://example.com/thanks."]
    if problems:
        raise ValidationError(problems)


def create_form(fields: FormFields) -> SignupForm:
    _clean(fields, exclude_pk=None)
    try:
        with transaction.atomic():
            form = SignupForm.objects.create(
                name=fields.name.strip(),
                slug=fields.slug,
                title=fields.title.strip(),
                intro=fields.intro.strip(),
                consent_text=fields.consent_text.strip(),
                ask_name=fields.ask_name,
                redirect_url=fields.redirect_url,
                enabled=fields.enabled,
            )
            form.lists.set(list(fields.lists))
            ConsentText.objects.create(form=form, version=1, text=form.consent_text)
    except IntegrityError as exc:
        raise ValidationError({"slug": "Another form has this address."}) from exc
    return form


def update_form(form: SignupForm, fields: FormFields) -> SignupForm:
    """Save the form; a changed consent text becomes a new version, the old
    ones stay, so every consent record still says what its visitor saw."""
    _clean(fields, exclude_pk=form.pk)
    with transaction.atomic():
        locked = SignupForm.objects.select_for_update().get(pk=form.pk)
        text = fields.consent_text.strip()
        if text != locked.consent_text:
            locked.consent_version += 1
            ConsentText.objects.create(form=locked, version=locked.consent_version, text=text)
        locked.name = fields.name.strip()
        locked.slug = fields.slug
        locked.title = fields.title.strip()
        locked.intro = fields.intro.strip()
        locked.consent_text = text
        locked.ask_name = fields.ask_name
        locked.redirect_url = fields.redirect_url
        locked.enabled = fields.enabled
        locked.save()
        locked.lists.set(list(fields.lists))
    return locked


def delete_form(form: SignupForm) -> None:
    """Consent records keep the form's name and version as text: they stay."""
    form.delete()


@dataclass
class Submission:
    # The lists the visitor asked for, and which of them wait for a click in
    # the confirmation email.
    lists: list[MailingList] = field(default_factory=list)
    to_confirm: list[MailingList] = field(default_factory=list)


def chosen_lists(form: SignupForm, list_ids: Iterable[int] | None) -> list[MailingList]:
    offered = list(form.lists.order_by("name"))
    if len(offered) == 1:
        return offered
    wanted = set(list_ids or ())
    chosen = [m for m in offered if m.pk in wanted]
    if not chosen:
        raise ValidationError({"lists": "Choose at least one list."})
    return chosen


def submit(
    *,
    form: SignupForm,
    email: str,
    name: str = "",
    list_ids: Iterable[int] | None = None,
    origin: consent.Origin,
) -> Submission:
    """Subscribe the visitor to the lists they chose.

    A new subscription on a double opt-in list waits for the emailed link. A
    second submission never unconfirms anyone: confirmed subscriptions stay,
    unconfirmed ones get their email again, unsubscribed ones start over (the
    visitor asked again). Addresses that are blocklisted, suppressed or
    disabled are answered like everyone else, so the form reveals nothing
    about who is on file, but nothing is changed for them.
    """
    problems: dict[str, list[str]] = {}
    try:
        address = services.normalize_email(email)
    except ValidationError as exc:
        problems["email"] = exc.messages
    if len(name) > MAX_NAME:
        problems["name"] = [f"At most {MAX_NAME} characters."]
    try:
        lists = chosen_lists(form, list_ids)
    except ValidationError as exc:
        problems.update(exc.message_dict)
    if problems:
        raise ValidationError(problems)
    result = Submission(
        lists=lists,
        to_confirm=[m for m in lists if m.optin == MailingList.OptIn.DOUBLE],
    )
    if _declined(address):
        return result
    with transaction.atomic():
        subscriber, created = Subscriber.objects.get_or_create(
            email=address, defaults={"name": name.strip()}
        )
        if subscriber.status == Subscriber.Status.BLOCKLISTED:
            return result
        if not created and name.strip() and not subscriber.name:
            subscriber.name = name.strip()
            subscriber.save(update_fields=["name", "updated_at"])
        existing = {
            s.mailing_list_id: s
            for s in Subscription.objects.filter(subscriber=subscriber, mailing_list__in=lists)
        }
        services.subscribe(subscriber=subscriber, lists=lists, origin=origin)
        again = [s.pk for s in existing.values() if s.status == Subscription.Status.UNCONFIRMED]
        if again:
            services.request_confirmation(subscription_ids=again)
    return result


def _declined(address: str) -> bool:
    if services.blocked_reason(address) is not None:
        return True
    return address in suppressed_emails([address])


def origin_for(request: Any, form: SignupForm) -> consent.Origin:
    return consent.from_request(
        request, ConsentEvent.Via.FORM, consent_text_version=form.consent_label
    ).noting(f"Form “{form.name}”")
