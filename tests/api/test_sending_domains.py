"""POST/GET /sending-domains, GET/DELETE /sending-domains/{id}."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dkim as dkimpy
import pytest

from delivery import dkim, domains
from delivery.models import SendingDomain
from tests.api.client import ApiClient
from tests.dkim.test_domains import FakeResolver, published
from tests.support.smtpd import ReceivedMessage, RunningSmtpServer
from tests.support.workers import start_worker

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_real_dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The outside DNS is beyond our machine: a test that forgets to fake it
    # sees an empty zone instead of reaching the network.
    monkeypatch.setattr(domains, "default_resolver", FakeResolver)
    domains.clear_key_cache()
    yield
    domains.clear_key_cache()


@pytest.fixture
def news_domain(db: None) -> SendingDomain:
    return domains.create_sending_domain(domain="news.example.com", selector="pst")


def records_by_key(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {record["key"]: record for record in body["records"]}


def test_creating_a_domain_answers_201_with_the_dns_records_to_publish(
    owner_api: ApiClient,
) -> None:
    response = owner_api.post(
        "/sending-domains", {"domain": "News.Example.com", "dkim": ["rsa", "ed25519"]}
    )

    assert response.status_code == 201
    body = response.json()
    assert body["domain"] == "news.example.com"
    assert body["dkim"] == [
        {"kind": "rsa", "algorithm": "rsa-sha256", "selector": "postino"},
        {"kind": "ed25519", "algorithm": "ed25519-sha256", "selector": "postino-ed"},
    ]
    records = records_by_key(body)
    assert set(records) >= {"dkim-rsa", "dkim-ed25519", "spf", "dmarc", "bounce-mx"}
    stored = SendingDomain.objects.get(pk=body["id"])
    rsa_record = records["dkim-rsa"]
    assert (rsa_record["name"], rsa_record["type"]) == (
        "postino._domainkey.news.example.com",
        "TXT",
    )
    assert rsa_record["value"] == dkim.dns_txt_value(
        dkim.load_private_key(stored.rsa_private_key_pem)
    )
    # An RSA-2048 public key does not fit one 255-character TXT string.
    assert "".join(rsa_record["txt_strings"]) == rsa_record["value"]
    assert len(rsa_record["txt_strings"]) == 2
    assert records["dkim-ed25519"]["name"] == "postino-ed._domainkey.news.example.com"
    assert records["dmarc"]["value"].startswith("v=DMARC1; p=none")
    assert records["bounce-mx"]["advice"] is True
    assert "checks" not in body


def test_no_private_key_is_ever_part_of_an_answer(
    owner_api: ApiClient, news_domain: SendingDomain
) -> None:
    created = owner_api.post("/sending-domains", {"domain": "other.example.com"})
    listed = owner_api.get("/sending-domains")
    one = owner_api.get(f"/sending-domains/{news_domain.pk}")
    for response in (created, listed, one):
        assert "PRIVATE KEY" not in response.content.decode()
        assert "private" not in response.content.decode()


def test_one_key_type_generates_only_that_key(owner_api: ApiClient) -> None:
    response = owner_api.post(
        "/sending-domains", {"domain": "ed.example.com", "dkim": ["ed25519"], "selector": "s2"}
    )
    assert response.status_code == 201
    body = response.json()
    assert [key["kind"] for key in body["dkim"]] == ["ed25519"]
    assert "dkim-rsa" not in records_by_key(body)
    stored = SendingDomain.objects.get(pk=body["id"])
    assert (stored.has_rsa_key, stored.has_ed25519_key) == (False, True)


def test_both_keys_are_generated_when_dkim_is_left_out(owner_api: ApiClient) -> None:
    response = owner_api.post("/sending-domains", {"domain": "example.net"})
    assert response.status_code == 201
    assert [key["kind"] for key in response.json()["dkim"]] == ["rsa", "ed25519"]


def test_a_return_path_domain_gets_its_own_bounce_records(owner_api: ApiClient) -> None:
    response = owner_api.post(
        "/sending-domains",
        {"domain": "example.net", "dkim": ["rsa"], "return_path_domain": "Bounces.Example.net"},
    )
    body = response.json()
    assert body["bounce_domain"] == body["return_path_domain"] == "bounces.example.net"
    assert records_by_key(body)["bounce-spf"]["name"] == "bounces.example.net"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"domain": "news@example.com"}, "domain", "Enter a domain name such as example.com"),
        ({"domain": "https://example.com"}, "domain", "Enter a domain name such as example.com"),
        ({"dkim": ["rsa"]}, "domain", "Field required"),
        ({"domain": "example.com", "dkim": []}, "dkim", "Choose at least one key type"),
        ({"domain": "example.com", "dkim": ["dsa"]}, "dkim.0", "Input should be 'rsa' or"),
        ({"domain": "example.com", "dkim": "rsa"}, "dkim", "Input should be a valid list"),
        ({"domain": "example.com", "selector": "no spaces"}, "selector", "Use letters, digits"),
        ({"domain": "example.com", "return_path_domain": "a b"}, "return_path_domain", "Enter"),
    ],
)
def test_bad_input_is_400_naming_the_field(
    owner_api: ApiClient, body: dict[str, Any], field: str, message: str
) -> None:
    response = owner_api.post("/sending-domains", body)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == field
    assert error["message"].startswith(message)
    assert not SendingDomain.objects.exists()


def test_a_domain_that_already_exists_is_409(
    owner_api: ApiClient, news_domain: SendingDomain
) -> None:
    response = owner_api.post("/sending-domains", {"domain": "NEWS.example.com."})
    assert response.status_code == 409
    body = response.json()
    assert body["detail"] == "news.example.com is already a sending domain."
    assert body["errors"] == [
        {"field": "domain", "message": "news.example.com is already a sending domain."}
    ]
    assert SendingDomain.objects.count() == 1


def test_the_list_is_by_domain_with_records_and_no_dns_lookups(
    owner_api: ApiClient, django_assert_num_queries: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("zeta.example.com", "alpha.example.com", "mid.example.com"):
        domains.create_sending_domain(domain=name, generate_rsa=False)

    def no_lookups() -> FakeResolver:
        raise AssertionError("the list must not look anything up")

    monkeypatch.setattr(domains, "default_resolver", no_lookups)
    # Authentication (token, then its user), then one query for all the domains.
    with django_assert_num_queries(3):
        response = owner_api.get("/sending-domains")

    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["domain"] for item in items] == [
        "alpha.example.com",
        "mid.example.com",
        "zeta.example.com",
    ]
    assert all("dkim-ed25519" in records_by_key(item) for item in items)


def test_one_domain_comes_with_the_live_dns_check_of_each_record(
    owner_api: ApiClient, news_domain: SendingDomain, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolver = published(news_domain)
    del resolver.txt_records["_dmarc.news.example.com"]
    resolver.txt_records["pst-ed._domainkey.news.example.com"] = ["v=DKIM1; k=ed25519; p="]
    resolver.failing.add("news.example.com")
    monkeypatch.setattr(domains, "default_resolver", lambda: resolver)

    response = owner_api.get(f"/sending-domains/{news_domain.pk}")

    assert response.status_code == 200
    body = response.json()
    checks = {check["key"]: check for check in body["checks"]}
    assert [check["key"] for check in body["checks"]] == [r["key"] for r in body["records"]]
    assert checks["dkim-rsa"]["status"] == "ok"
    assert checks["dkim-rsa"]["name"] == "pst._domainkey.news.example.com"
    assert checks["dkim-rsa"]["found"] == records_by_key(body)["dkim-rsa"]["value"]
    assert checks["dkim-ed25519"] == {
        "key": "dkim-ed25519",
        "name": "pst-ed._domainkey.news.example.com",
        "type": "TXT",
        "status": "wrong",
        "found": "v=DKIM1; k=ed25519; p=",
        "message": "The published key is empty (p=), which means revoked.",
    }
    assert checks["dmarc"]["status"] == "missing"
    assert checks["spf"]["status"] == "error"
    assert "timed out" in checks["spf"]["message"]
    assert checks["bounce-mx"]["type"] == "MX"


def test_an_unknown_domain_id_is_404(owner_api: ApiClient) -> None:
    for response in (
        owner_api.get("/sending-domains/424242"),
        owner_api.delete("/sending-domains/424242"),
    ):
        assert response.status_code == 404
        assert response.json()["detail"] == "Sending domain 424242 not found."


def test_deleting_a_domain_answers_204_and_its_mail_is_no_longer_signed(
    owner_api: ApiClient, news_domain: SendingDomain
) -> None:
    assert domains.keys_for("news.example.com")

    response = owner_api.delete(f"/sending-domains/{news_domain.pk}")

    assert response.status_code == 204
    assert not SendingDomain.objects.exists()
    assert domains.keys_for("news.example.com") == []
    assert owner_api.get(f"/sending-domains/{news_domain.pk}").status_code == 404


# --- Mail from the domain is signed ------------------------------------------------


def zone_from(records: list[dict[str, Any]]) -> Callable[..., bytes | None]:
    """A dkimpy ``dnsfunc`` serving exactly the TXT records the API told us to publish."""
    zone = {
        f"{record['name']}.".encode(): "".join(record["txt_strings"]).encode()
        for record in records
        if record["type"] == "TXT"
    }

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
        return zone.get(name)

    return dnsfunc


def wait_for_message(smtpd: RunningSmtpServer, timeout: float = 60.0) -> ReceivedMessage:
    deadline = time.monotonic() + timeout
    while not smtpd.handler.messages and time.monotonic() < deadline:
        time.sleep(0.1)
    assert smtpd.handler.messages, f"nothing arrived within {timeout}s"
    return smtpd.handler.messages[0]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_test_send_from_a_domain_created_through_the_api_carries_valid_signatures(
    owner_api: ApiClient, smtpd: RunningSmtpServer, clean_redis: None, worker_logs: Path
) -> None:
    created = owner_api.post(
        "/sending-domains", {"domain": "news.example.com", "dkim": ["rsa", "ed25519"]}
    )
    assert created.status_code == 201
    server = owner_api.post(
        "/smtp-servers",
        {
            "name": "Loopback",
            "host": smtpd.host,
            "port": smtpd.port,
            "security": "starttls",
            "username": smtpd.username,
            "password": smtpd.password,
        },
    ).json()
    newsletter = owner_api.post("/lists", {"name": "Newsletter"}).json()
    campaign = owner_api.post(
        "/campaigns",
        {
            "name": "Signed",
            "subject": "Hello",
            "from_email": "News <news@news.example.com>",
            "lists": [newsletter["id"]],
            "smtp_server": server["id"],
            "html": '<p>Hello</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>',
        },
    ).json()

    worker = start_worker(worker_logs, concurrency=1)
    try:
        sent = owner_api.post(f"/campaigns/{campaign['id']}/test", {"emails": ["qa@example.org"]})
        assert sent.status_code == 202
        received = wait_for_message(smtpd)
    finally:
        worker.stop()

    data = received.data
    assert data.count(b"DKIM-Signature:") == 2
    dnsfunc = zone_from(created.json()["records"])
    checker = dkimpy.DKIM(data)
    assert [checker.verify(idx=i, dnsfunc=dnsfunc) for i in range(2)] == [True, True]
    signatures = received.parsed().get_all("DKIM-Signature")
    assert signatures is not None
    tags = [dkim.parse_tag_list(str(signature)) for signature in signatures]
    assert [(t["d"], t["s"], t["a"]) for t in tags] == [
        ("news.example.com", "postino", "rsa-sha256"),
        ("news.example.com", "postino-ed", "ed25519-sha256"),
    ]
