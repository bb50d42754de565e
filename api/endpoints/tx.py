"""Transactional mail: ``POST /tx`` sends now, ``GET /tx/{id}`` says what became of it."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Header, Router, Status

from api.schemas import (
    ErrorOut,
    TxMessageOut,
    TxSendIn,
    TxSendOut,
    TxTemplateCollection,
    TxTemplateIn,
    TxTemplateOut,
    TxTemplatePatch,
)
from api.selectors import get_or_404
from delivery.mime import Attachment
from transactional import services, template_services
from transactional.models import TxMessage, TxTemplate

router = Router(tags=["transactional"])


def _attachments(payload: TxSendIn) -> list[Attachment]:
    attachments = []
    problems = []
    for index, item in enumerate(payload.attachments):
        try:
            content = base64.b64decode(item.content, validate=True)
        except (binascii.Error, ValueError):
            problems.append((f"attachments.{index}.content", "not base64"))
            continue
        attachments.append(Attachment(item.filename, item.content_type, content))
    if problems:
        raise services.TxError(problems)
    return attachments


@router.post("/tx", response={202: TxSendOut, 400: ErrorOut, 422: ErrorOut})
def send(
    request: HttpRequest,
    payload: TxSendIn,
    idempotency_key: str = Header("", alias="Idempotency-Key"),
) -> Status[Any]:
    """Send a message to each recipient now, ahead of any campaign.

    202 with one entry per recipient: ``queued`` (with the id to follow it),
    or ``refused`` with the reason (suppressed, blocklisted, unsubscribed for
    a category that is not exempt). The same ``idempotency_key`` (field or
    ``Idempotency-Key`` header) within ``TX_IDEMPOTENCY_HOURS`` sends nothing
    more and returns the first answer, with ``duplicate: true``.
    """
    user = request.auth  # type: ignore[attr-defined]
    return Status(202, accept_send(payload, user_pk=user.pk, idempotency_key=idempotency_key))


def accept_send(payload: TxSendIn, *, user_pk: int, idempotency_key: str) -> dict[str, Any]:
    """The 202 answer's body; raises the services' errors. This endpoint's and
    ``api.fast_send``'s (the same route, ahead of Django) one implementation."""
    recipients = [
        services.Recipient(email=item)
        if isinstance(item, str)
        else services.Recipient(subscriber_id=item.subscriber_id)
        for item in payload.to
    ]
    answer = services.send(
        services.SendRequest(
            to=recipients,
            template_id=payload.template,
            subject=payload.subject,
            html=payload.html,
            text=payload.text,
            data=payload.data,
            from_email=payload.from_email,
            reply_to=payload.reply_to,
            headers=payload.headers,
            attachments=_attachments(payload),
            category=payload.category,
            channel=payload.channel,
            idempotency_key=payload.idempotency_key or idempotency_key,
        ),
        scope=f"user:{user_pk}",
    )
    return {
        "messages": [result.as_dict() for result in answer.messages],
        "duplicate": answer.duplicate,
    }


# --- templates ------------------------------------------------------------------


def _template_fields(payload: TxTemplateIn | TxTemplatePatch, template: TxTemplate | None) -> Any:
    """The service's fields: the payload's, and for a patch the template's own
    where the payload is silent."""
    given = payload.model_dump(exclude_unset=template is not None)
    fields: dict[str, Any] = {}
    for name in (
        "name", "subject", "html", "text", "description", "sample_data", "from_email",
        "reply_to", "track_opens", "track_clicks",
    ):  # fmt: skip
        if name in given and given[name] is not None:
            fields[name] = given[name]
        elif template is not None:
            fields[name] = getattr(template, name)
    if "category" in given:
        fields["category"] = (
            services.category_named(given["category"]) if given["category"] else None
        )
    elif template is not None:
        fields["category"] = template.category
    return fields


@router.get("/tx/templates", response=TxTemplateCollection)
def list_templates(request: HttpRequest) -> dict[str, Any]:
    return {"items": list(TxTemplate.objects.select_related("category").order_by("name"))}


@router.post("/tx/templates", response={201: TxTemplateOut, 400: ErrorOut})
def create_template(request: HttpRequest, payload: TxTemplateIn) -> Status[Any]:
    """Saved only if it compiles and renders with its ``sample_data``;
    otherwise 400 with each problem's field and line."""
    return Status(201, template_services.create_template(**_template_fields(payload, None)))


@router.get("/tx/templates/{template_id}", response={200: TxTemplateOut, 404: ErrorOut})
def get_template(request: HttpRequest, template_id: int) -> TxTemplate:
    return get_or_404(TxTemplate, template_id)


@router.patch(
    "/tx/templates/{template_id}", response={200: TxTemplateOut, 400: ErrorOut, 404: ErrorOut}
)
def update_template(request: HttpRequest, template_id: int, payload: TxTemplatePatch) -> Any:
    template = get_or_404(TxTemplate, template_id)
    return template_services.update_template(
        template=template, **_template_fields(payload, template)
    )


@router.delete("/tx/templates/{template_id}", response={204: None, 404: ErrorOut})
def delete_template(request: HttpRequest, template_id: int) -> Status[None]:
    """Its messages stay in the log."""
    template_services.delete_template(template=get_or_404(TxTemplate, template_id))
    return Status(204, None)


# Last: its path would otherwise take /tx/templates for a message id.
@router.get("/tx/{message_id}", response={200: TxMessageOut, 404: ErrorOut})
def status(request: HttpRequest, message_id: str) -> Any:
    """A message's status: ``queued``, ``sent``, ``deferred`` (will retry),
    ``bounced``, ``failed`` or ``refused``, with the last SMTP reply."""
    try:
        public_id = uuid.UUID(message_id)
    except ValueError:
        public_id = None
    message = (
        TxMessage.objects.select_related("template", "category", "smtp_server")
        .filter(public_id=public_id)
        .first()
        if public_id is not None
        else None
    )
    if message is None:
        raise Http404(f"No transactional message has id {message_id}.")
    return message
