"""POST /campaigns answers every problem in one 400."""

from __future__ import annotations

from typing import Any

from campaigns.models import Campaign
from delivery.models import SmtpServer
from subscribers.models import MailingList
from tests.api.client import ApiClient


def test_all_problems_come_back_in_one_400(
    teammate_api: ApiClient, newsletter: MailingList, smtp_server: SmtpServer
) -> None:
    payload: dict[str, Any] = {
        "name": "March issue",
        "subject": "",
        "from_email": "nobody",
        "reply_to": "also wrong",
        "lists": [newsletter.pk],
        "html": "<p>Hi</p>\n{% if %}\n",
        "smtp_server": smtp_server.pk,
    }
    response = teammate_api.post("/campaigns", payload)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "The request is invalid."
    fields = {error["field"] for error in body["errors"]}
    assert fields == {"subject", "from_email", "reply_to", "html"}
    [template_error] = [error for error in body["errors"] if error["field"] == "html"]
    assert template_error["line"] == 2
    assert not Campaign.objects.exists()
