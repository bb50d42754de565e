"""A viewer (a team member in the Viewers group) reads every page, report and
API answer, and changes nothing: pages and the API refuse any other method."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from api.services import create_token
from campaigns.models import Campaign
from postino.permissions import VIEWERS_GROUP
from tests.api.client import ApiClient
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer() -> User:
    user = User.objects.create_user("ivy", "ivy@example.com", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=VIEWERS_GROUP)[0])
    return user


@pytest.fixture
def campaign() -> Campaign:
    return Campaign.objects.create(
        name="Spring", subject="Hi", from_email="news@example.com", html="<p>Hi</p>"
    )


def test_a_viewer_reads_pages_but_every_change_is_refused(viewer: User, campaign: Campaign) -> None:
    browser = Client()
    browser.force_login(viewer)
    for url in ("/", f"/campaigns/{campaign.pk}/", "/campaigns/compare/", "/operations/"):
        assert browser.get(url).status_code == 200, url

    refused = browser.post(f"/campaigns/{campaign.pk}/duplicate/")
    assert refused.status_code == 403
    assert "a viewer: this account can see every page and report" in refused.content.decode()
    assert browser.post(f"/campaigns/{campaign.pk}/delete/").status_code == 403
    assert list(Campaign.objects.values_list("name", flat=True)) == ["Spring"]


def test_a_team_member_outside_the_group_still_changes_things(
    teammate_client: Client, campaign: Campaign
) -> None:
    assert teammate_client.post(f"/campaigns/{campaign.pk}/duplicate/").status_code == 302
    assert Campaign.objects.count() == 2


def test_a_viewers_token_reads_the_api_and_changes_nothing(
    viewer: User, campaign: Campaign
) -> None:
    api = ApiClient(create_token(user=viewer))
    assert api.get(f"/campaigns/{campaign.pk}/report").status_code == 200
    refused = api.post("/lists", {"name": "Mine"})
    assert refused.status_code == 403
    assert refused.json()["detail"] == "This token's account is a viewer: it can read, not change."


def test_a_superuser_in_the_group_is_never_held_back(campaign: Campaign) -> None:
    admin = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    admin.groups.add(Group.objects.get_or_create(name=VIEWERS_GROUP)[0])
    browser = Client()
    browser.force_login(admin)
    assert browser.post(f"/campaigns/{campaign.pk}/duplicate/").status_code == 302
