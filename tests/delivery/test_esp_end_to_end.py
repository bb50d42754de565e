"""An ESP channel from the API to the ledger: configured with POST /esp-servers,
used by a campaign, sent by the chunk loop. Only Postmark's HTTP API is faked."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from api.services import create_token
from delivery.models import Delivery
from delivery.pipeline.chunk import run_chunk
from tests.api.client import ApiClient
from tests.support.esp import install_fake_api, postmark_ok
from tests.support.factories import add_audience, make_list

pytestmark = pytest.mark.django_db


def test_a_campaign_sends_through_an_esp_channel_added_over_the_api(
    owner: User,
    clean_redis: None,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    api = ApiClient(create_token(user=owner))
    postmark = api.post(
        "/esp-servers",
        {
            "name": "Postmark",
            "esp": "postmark",
            "credentials": {"server_token": "pm-e2e-token"},
            "messages_per_second": 500,
        },
    )
    assert postmark.status_code == 201, postmark.json()
    news = make_list()
    add_audience(news, 4)
    created = api.post(
        "/campaigns",
        {
            "name": "Through Postmark",
            "subject": "Hello {{ subscriber.name }}",
            "from_email": "News <news@postino.example.com>",
            "html": "<p>Hi {{ subscriber.name }}</p>",
            "lists": [news.pk],
            "smtp_server": postmark.json()["id"],
        },
    )
    assert created.status_code == 201, created.json()
    campaign_id = created.json()["id"]
    with django_capture_on_commit_callbacks(execute=False) as dispatch:
        assert api.post(f"/campaigns/{campaign_id}/start").status_code == 202
    assert len(dispatch) == 1
    fake = install_fake_api(monkeypatch, postmark_ok)

    assert run_chunk(campaign_id) == 4

    assert {call["url"] for call in fake.calls} == {"https://api.postmarkapp.com/email"}
    assert {call["headers"]["X-Postmark-Server-Token"] for call in fake.calls} == {"pm-e2e-token"}
    rows = Delivery.objects.filter(campaign_id=campaign_id).select_related("subscriber")
    assert {(r.status, r.smtp_server_id) for r in rows} == {("sent", postmark.json()["id"])}
    assert {r.provider_message_id for r in rows} == {f"pm-{r.subscriber.email}" for r in rows}
