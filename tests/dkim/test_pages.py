"""The Sending domains pages: staff only, DNS records shown, private keys never."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from delivery import dkim, domains
from delivery.models import SendingDomain
from tests.dkim.test_domains import FakeResolver, published

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _plain_http(settings: Any) -> None:
    # As in tests/web: the suite's https BASE_URL would redirect the test client.
    settings.SECURE_SSL_REDIRECT = False


def key_material(sending_domain: SendingDomain) -> list[str]:
    """Recognisable pieces of the private keys: none may appear in a page."""
    pems = [sending_domain.rsa_private_key_pem, sending_domain.ed25519_private_key_pem]
    pieces = [line for pem in pems for line in pem.splitlines()[1:-1]]
    return [*pieces, sending_domain.rsa_private_key_encrypted[:40]]


def page_urls(sending_domain: SendingDomain) -> list[str]:
    return [
        reverse("delivery:domain_index"),
        reverse("delivery:domain_create"),
        reverse("delivery:domain_detail", args=[sending_domain.pk]),
        reverse("delivery:domain_import", args=[sending_domain.pk]),
    ]


def action_urls(sending_domain: SendingDomain) -> list[str]:
    return [
        reverse("delivery:domain_create"),
        *(
            reverse(f"delivery:domain_{name}", args=[sending_domain.pk])
            for name in ("check", "import", "regenerate", "delete")
        ),
    ]


def test_anonymous_visitors_are_sent_to_login(client: Client, both_keys: SendingDomain) -> None:
    for url in page_urls(both_keys):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"{reverse('login')}?next={url}", url


def test_outsiders_are_refused_pages_and_actions(
    outsider_client: Client, both_keys: SendingDomain
) -> None:
    for url in page_urls(both_keys):
        assert outsider_client.get(url).status_code == 403, url
    for url in action_urls(both_keys):
        assert outsider_client.post(url, {"kind": "rsa"}).status_code == 403, url
    assert SendingDomain.objects.filter(pk=both_keys.pk).exists()


def test_the_navigation_links_to_sending_domains(teammate_client: Client) -> None:
    response = teammate_client.get(reverse("delivery:domain_index"))
    assert b"No sending domains yet" in response.content
    assert b'aria-current="page">Sending domains</a>' in response.content


def test_adding_a_domain_shows_the_records_to_publish(teammate_client: Client) -> None:
    response = teammate_client.post(
        reverse("delivery:domain_create"),
        {
            "domain": "News.Example.com",
            "selector": "postino",
            "generate_rsa": "on",
            "generate_ed25519": "on",
        },
        follow=True,
    )
    sending_domain = SendingDomain.objects.get()
    assert sending_domain.domain == "news.example.com"
    page = response.content.decode()
    assert "news.example.com added" in page
    for record in domains.dns_records(sending_domain):
        assert record.name in page
        assert record.value in page
    assert "postino-ed._domainkey.news.example.com" in page
    for piece in key_material(sending_domain):
        assert piece not in page


def test_a_bad_domain_is_refused_beside_its_field(teammate_client: Client) -> None:
    response = teammate_client.post(
        reverse("delivery:domain_create"), {"domain": "me@example.com", "selector": "postino"}
    )
    assert response.status_code == 200
    assert b"Enter a domain name such as example.com" in response.content
    assert not SendingDomain.objects.exists()


def test_no_page_ever_shows_a_private_key(
    teammate_client: Client, both_keys: SendingDomain, owner_client: Client
) -> None:
    urls = [
        *page_urls(both_keys),
        reverse("admin:delivery_sendingdomain_change", args=[both_keys.pk]),
        reverse("admin:delivery_sendingdomain_changelist"),
    ]
    for url in urls:
        page = owner_client.get(url).content.decode()
        for piece in key_material(both_keys):
            assert piece not in page, url


def test_an_imported_key_is_not_echoed_back_even_when_refused(
    teammate_client: Client, both_keys: SendingDomain
) -> None:
    url = reverse("delivery:domain_import", args=[both_keys.pk])
    good = dkim.private_key_pem(dkim.generate_rsa())
    body = good.splitlines()[3]
    refused = teammate_client.post(url, {"pem": good.replace(body, body[:-8])})
    assert b"could not be read" in refused.content
    assert body[:-8].encode() not in refused.content

    accepted = teammate_client.post(url, {"pem": good}, follow=True)
    assert b"RSA key imported" in accepted.content
    assert body.encode() not in accepted.content
    both_keys.refresh_from_db()
    assert both_keys.rsa_private_key_pem == good


def test_check_dns_shows_each_record_status_and_what_was_found(
    teammate_client: Client, both_keys: SendingDomain, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolver = published(both_keys)
    del resolver.txt_records["_dmarc.news.example.com"]
    resolver.txt_records["postino-ed._domainkey.news.example.com"] = ["v=DKIM1; k=ed25519; p="]
    monkeypatch.setattr(domains, "default_resolver", lambda: resolver)

    response = teammate_client.post(reverse("delivery:domain_check", args=[both_keys.pk]))

    page = response.content.decode()
    assert 'data-record="dkim-rsa"' in page
    assert 'badge-dns-ok">ok<' in page
    assert 'badge-dns-missing">missing<' in page
    assert 'badge-dns-wrong">wrong<' in page
    assert "means revoked" in page
    assert "v=DKIM1; k=ed25519; p=" in page


def test_check_dns_never_touches_the_network_in_tests(
    teammate_client: Client, both_keys: SendingDomain, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(domains, "default_resolver", FakeResolver)
    response = teammate_client.post(reverse("delivery:domain_check", args=[both_keys.pk]))
    missing = response.content.decode().count('badge-dns-missing">missing<')
    assert missing == len(domains.dns_records(both_keys))


def test_regenerating_a_key_changes_its_record(
    teammate_client: Client, both_keys: SendingDomain
) -> None:
    before = {r.key: r.value for r in domains.dns_records(both_keys)}
    teammate_client.post(
        reverse("delivery:domain_regenerate", args=[both_keys.pk]), {"kind": "ed25519"}
    )
    both_keys.refresh_from_db()
    after = {r.key: r.value for r in domains.dns_records(both_keys)}
    assert after["dkim-ed25519"] != before["dkim-ed25519"]
    assert after["dkim-rsa"] == before["dkim-rsa"]


def test_deleting_a_domain(teammate_client: Client, both_keys: SendingDomain) -> None:
    response = teammate_client.post(
        reverse("delivery:domain_delete", args=[both_keys.pk]), follow=True
    )
    assert b"news.example.com removed" in response.content
    assert not SendingDomain.objects.exists()
