"""Sending-domain services: keys at rest, key import, DNS records and live checks."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from delivery import dkim, domains
from delivery.domains import DnsLookupError
from delivery.models import SendingDomain

pytestmark = pytest.mark.django_db


# Too small for DKIM (RFC 8301); `cryptography` refuses to generate one, so it is inline.
SMALL_RSA_PEM = """\
-----BEGIN PRIVATE KEY-----
MIIB5AIBADANBgkqhkiG9w0BAQEFAASCAc4wggHKAgEAAmEAtmYS8RcsaFmDDGMY
/msgTchHxUJwsWJvZvnad4RmysIqoDJRSRNk9XpXA3DP3VeDVeirBzdNjfpHsei3
+0kCQxN7GPVlexLO29agFvb2cnrWoo5qgCzULRWS9mYiBxdvAgMBAAECYCtfWmG6
APVPU7o+VlMpZiUY2vgtNF756UOzZh/FfCv6v+gYDvwxgHBfBxHqYYNgq5OYAFr8
wQZC78HT4P8Fcq/hN+NSE9HsJFpAa848YXwwupPTtVzTmQFgTt7xuP5hAQIxANyC
VO4igBldi+ks1qUOeJ0P6LIzouxOk14f0TBGzrgiyMju/23NpUjqIPTn/XSwLQIx
ANPBeYgLZ/PCOEn9BD7+Uhpilw7OhYO6Z4rHAR/Z80iAKA8BkSyCC1O4lTziJu+L
iwIxAK2h/uhoyD+w9puMUBQ2Wekq/stbd53lnYsPOLRv/RTnZv05nG5E8TKCEaNn
DaAVnQIwHX15Vmf4PytSOYOiHr++YWxPi0FZuMGx/9K9JlltFzC543UdaaxmtW8k
YYlBUOUHAjBwAHwPuviewmPPIc3r3nx2s7SwFzTbXnrr/5vQotM3+YQWC+WohGmX
fGG4iLGsv6U=
-----END PRIVATE KEY-----
"""


def pem_of(private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


@dataclass
class FakeResolver:
    """Answers from a dict; names it does not know have no records."""

    txt_records: dict[str, list[str]] = field(default_factory=dict)
    mx_records: dict[str, list[str]] = field(default_factory=dict)
    failing: set[str] = field(default_factory=set)

    def txt(self, name: str) -> list[str]:
        if name in self.failing:
            raise DnsLookupError(f"TXT lookup of {name} failed: timed out")
        return self.txt_records.get(name, [])

    def mx(self, name: str) -> list[str]:
        return self.mx_records.get(name, [])


def published(sending_domain: SendingDomain) -> FakeResolver:
    """A DNS where everything we recommend is published as we say."""
    resolver = FakeResolver()
    for record in domains.dns_records(sending_domain):
        if record.type == "TXT":
            resolver.txt_records.setdefault(record.name, []).append(record.value)
        else:
            resolver.mx_records[record.name] = [record.value.split()[1].rstrip(".")]
    return resolver


def statuses(checks: list[domains.DnsCheck]) -> dict[str, str]:
    return {check.record.key: check.status for check in checks}


def test_private_keys_are_stored_encrypted(both_keys: SendingDomain) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rsa_private_key_encrypted, ed25519_private_key_encrypted "
            "FROM delivery_sendingdomain WHERE id = %s",
            [both_keys.pk],
        )
        columns = cursor.fetchone()
    for stored in columns:
        assert stored and "PRIVATE KEY" not in stored
    assert both_keys.rsa_private_key_pem.startswith("-----BEGIN PRIVATE KEY-----")


def test_a_domain_is_stored_lower_case_in_ascii(db: None) -> None:
    created = domains.create_sending_domain(domain=" Bücher.Example. ", selector="Pst")
    assert (created.domain, created.dkim_selector) == ("xn--bcher-kva.example", "pst")


def test_a_domain_is_added_once(both_keys: SendingDomain) -> None:
    with pytest.raises(ValidationError) as error:
        domains.create_sending_domain(domain="NEWS.example.com")
    assert "already a sending domain" in str(error.value)


@pytest.mark.parametrize("bad", ["", "news@example.com", "https://example.com", "localhost"])
def test_a_domain_must_look_like_one(db: None, bad: str) -> None:
    with pytest.raises(ValidationError) as error:
        domains.create_sending_domain(domain=bad)
    assert "domain" in error.value.message_dict


def test_importing_a_key_replaces_the_key_of_its_type(rsa_only: SendingDomain) -> None:
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert domains.import_key(sending_domain=rsa_only, pem=pem_of(new_key)) == "rsa"
    rsa_only.refresh_from_db()
    rsa_record = domains.dns_records(rsa_only)[0]
    assert rsa_record.value == dkim.dns_txt_value(new_key)
    assert "PRIVATE KEY" not in rsa_only.rsa_private_key_encrypted


def test_importing_an_ed25519_key_adds_it_beside_rsa(rsa_only: SendingDomain) -> None:
    key = dkim.generate_ed25519()
    assert domains.import_key(sending_domain=rsa_only, pem=dkim.private_key_pem(key)) == "ed25519"
    assert [k.algorithm for k in domains.load_keys(rsa_only)] == [dkim.RSA, dkim.ED25519]


@pytest.mark.parametrize(
    ("pem", "says"),
    [
        ("hello", "not a PEM private key"),
        (
            "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----",
            "could not be read",
        ),
        (SMALL_RSA_PEM, "has 768 bits; DKIM needs at least 1024"),
        (pem_of(ec.generate_private_key(ec.SECP256R1())), "must be RSA or Ed25519"),
    ],
)
def test_import_refuses_keys_we_cannot_use_with_a_clear_message(
    rsa_only: SendingDomain, pem: str, says: str
) -> None:
    before = rsa_only.rsa_private_key_encrypted
    with pytest.raises(ValidationError) as error:
        domains.import_key(sending_domain=rsa_only, pem=pem)
    assert says in " ".join(error.value.message_dict["pem"])
    rsa_only.refresh_from_db()
    assert rsa_only.rsa_private_key_encrypted == before


def test_an_encrypted_pem_is_refused(rsa_only: SendingDomain) -> None:
    key = dkim.generate_rsa()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    ).decode()
    with pytest.raises(ValidationError, match="passphrase"):
        domains.import_key(sending_domain=rsa_only, pem=pem)


def test_the_records_to_publish(both_keys: SendingDomain, settings: object) -> None:
    records = {r.key: r for r in domains.dns_records(both_keys)}
    assert records["dkim-rsa"].name == "postino._domainkey.news.example.com"
    assert records["dkim-rsa"].value.startswith("v=DKIM1; k=rsa; p=MIIB")
    assert len(records["dkim-rsa"].txt_strings) == 2
    assert records["dkim-ed25519"].name == "postino-ed._domainkey.news.example.com"
    ed_p = dkim.parse_tag_list(records["dkim-ed25519"].value)["p"]
    assert len(ed_p) == 44  # base64 of the 32 raw public key bytes
    assert records["spf"].value.startswith("v=spf1")
    assert records["dmarc"].name == "_dmarc.news.example.com"
    assert records["dmarc"].value == "v=DMARC1; p=none; rua=mailto:dmarc@news.example.com"
    assert records["bounce-mx"].type == "MX" and records["bounce-mx"].advice


def test_a_domain_with_its_own_return_path_gets_records_for_it(db: None) -> None:
    created = domains.create_sending_domain(
        domain="example.com", return_path_domain="bounce.example.com", generate_rsa=False
    )
    records = {r.key: r for r in domains.dns_records(created)}
    assert records["bounce-mx"].name == "bounce.example.com"
    assert records["bounce-spf"].name == "bounce.example.com"


def test_every_record_checks_ok_when_published_as_shown(both_keys: SendingDomain) -> None:
    checks = domains.check_dns(both_keys, resolver=published(both_keys))
    assert set(statuses(checks).values()) == {"ok"}
    dmarc = next(c for c in checks if c.record.key == "dmarc")
    assert dmarc.message == "Published, policy p=none."


def test_nothing_published_is_reported_missing(both_keys: SendingDomain) -> None:
    checks = domains.check_dns(both_keys, resolver=FakeResolver())
    assert set(statuses(checks).values()) == {"missing"}


def test_a_different_dkim_key_is_reported_wrong_with_what_was_found(
    both_keys: SendingDomain,
) -> None:
    resolver = published(both_keys)
    stale = dkim.dns_txt_value(dkim.generate_rsa())
    resolver.txt_records["postino._domainkey.news.example.com"] = [stale]
    check = next(
        c for c in domains.check_dns(both_keys, resolver=resolver) if c.record.key == "dkim-rsa"
    )
    assert (check.status, check.found) == ("wrong", stale)
    assert "different public key" in check.message


def test_a_dkim_key_split_into_strings_with_spaces_still_matches(rsa_only: SendingDomain) -> None:
    record = domains.dns_records(rsa_only)[0]
    p = dkim.parse_tag_list(record.value)["p"]
    reformatted = f"v=DKIM1;k=rsa;  p={p[:200]} {p[200:]}"
    resolver = FakeResolver(txt_records={record.name: [reformatted]})
    assert statuses(domains.check_dns(rsa_only, resolver=resolver))["dkim-rsa"] == "ok"


def test_two_spf_records_are_wrong(rsa_only: SendingDomain) -> None:
    resolver = published(rsa_only)
    resolver.txt_records["rsa.example.com"] = ["v=spf1 mx ~all", "v=spf1 include:x.example -all"]
    assert statuses(domains.check_dns(rsa_only, resolver=resolver))["spf"] == "wrong"


def test_an_mx_elsewhere_is_reported_with_where_it_points(rsa_only: SendingDomain) -> None:
    resolver = published(rsa_only)
    bounce = domains.bounce_domain_for(rsa_only)
    resolver.mx_records[bounce] = ["mx.provider.example"]
    check = next(
        c for c in domains.check_dns(rsa_only, resolver=resolver) if c.record.key == "bounce-mx"
    )
    assert (check.status, check.found) == ("wrong", "mx.provider.example")


def test_a_failed_lookup_is_an_error_not_a_missing_record(rsa_only: SendingDomain) -> None:
    resolver = published(rsa_only)
    resolver.failing.add("_dmarc.rsa.example.com")
    check = next(
        c for c in domains.check_dns(rsa_only, resolver=resolver) if c.record.key == "dmarc"
    )
    assert check.status == "error" and "timed out" in check.message


def test_keys_for_returns_both_keys_and_caches_them(
    both_keys: SendingDomain, django_assert_num_queries: object
) -> None:
    keys = domains.keys_for("News.Example.com")
    assert [(k.selector, k.algorithm) for k in keys] == [
        ("postino", dkim.RSA),
        ("postino-ed", dkim.ED25519),
    ]
    with django_assert_num_queries(0):  # type: ignore[operator]
        assert domains.keys_for("news.example.com") is keys


def test_keys_for_sees_a_regenerated_key(both_keys: SendingDomain) -> None:
    before = domains.keys_for("news.example.com")
    domains.regenerate_key(sending_domain=both_keys, kind="ed25519")
    after = domains.keys_for("news.example.com")
    assert dkim.public_key_base64(after[1].private_key) != dkim.public_key_base64(
        before[1].private_key
    )


def test_keys_for_rereads_a_changed_row_after_the_cache_period(
    both_keys: SendingDomain, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(domains.keys_for("news.example.com")) == 2
    # Another process removes a key: this one notices once its entry is stale.
    SendingDomain.objects.filter(pk=both_keys.pk).update(
        rsa_private_key_encrypted="", updated_at=timezone.now()
    )
    monkeypatch.setattr(domains, "KEY_CACHE_SECONDS", 0.0)
    assert [k.algorithm for k in domains.keys_for("news.example.com")] == [dkim.ED25519]


def test_no_keys_for_an_unknown_domain_or_an_ip_literal(db: None) -> None:
    assert domains.keys_for("elsewhere.example") == []
    assert domains.keys_for("[127.0.0.1]") == []


def test_deleting_a_domain_stops_signing(both_keys: SendingDomain) -> None:
    assert domains.keys_for("news.example.com")
    domains.delete_sending_domain(sending_domain=both_keys)
    assert domains.keys_for("news.example.com") == []
