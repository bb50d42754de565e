"""The blocklist page: adding lines, errors by line, removing."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from subscribers.models import BlocklistEntry


def test_lines_are_added_and_a_bad_line_is_named(teammate_client: Client) -> None:
    url = reverse("subscribers:blocklist")
    response = teammate_client.post(url, {"entries": "x@example.com\n\nnope nope\n"})
    assert response.status_code == 400
    assert "Line 2: “nope nope” is neither an address nor a domain." in response.text
    assert not BlocklistEntry.objects.exists()

    response = teammate_client.post(
        url, {"entries": "x@example.com\nspam.test", "note": "bots"}, follow=True
    )
    assert "2 added to the blocklist." in response.text
    assert "<code>spam.test</code>" in response.text
    entry = BlocklistEntry.objects.get(value="spam.test")
    response = teammate_client.post(
        reverse("subscribers:blocklist_remove", args=[entry.pk]), follow=True
    )
    assert "“spam.test” is no longer on the blocklist." in response.text
    assert list(BlocklistEntry.objects.values_list("value", flat=True)) == ["x@example.com"]
