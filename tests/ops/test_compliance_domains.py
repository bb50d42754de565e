"""Sending domains on the compliance panel: DKIM, SPF and DMARC aligned with
the From domain, looked up in DNS (a fake resolver: DNS is outside the
machine), cached per domain, a few domains per poll."""

from __future__ import annotations

from typing import Any

import pytest

from delivery import compliance, domains
from delivery.models import SendingDomain
from tests.dkim.test_domains import FakeResolver, published


def sending_domain(name: str, **fields: Any) -> SendingDomain:
    # Ed25519 only: generating RSA keys would make every test slow.
    return domains.create_sending_domain(domain=name, generate_rsa=False, **fields)


def publish(dns: FakeResolver, row: SendingDomain) -> None:
    for name, values in published(row).txt_records.items():
        dns.txt_records.setdefault(name, []).extend(values)


def verdicts(*rows: SendingDomain) -> dict[str, compliance.DomainVerdict]:
    return {verdict.domain: verdict for verdict in compliance.domain_alignment(list(rows))}


def test_a_domain_with_its_records_published_is_aligned(db: None, dns: FakeResolver) -> None:
    row = sending_domain("news.example.com", return_path_domain="bounces.example.com")
    publish(dns, row)

    alignment = verdicts(row)["news.example.com"].alignment

    assert alignment is not None
    assert (alignment.dkim.status, alignment.spf.status, alignment.dmarc.status) == ("ok",) * 3
    assert alignment.status == "ok"
    assert alignment.dkim.message == "Signed with d=news.example.com; the key is published."


def test_a_missing_dmarc_record_or_dkim_key_is_not_aligned(db: None, dns: FakeResolver) -> None:
    row = sending_domain("news.example.com", return_path_domain="news.example.com")
    publish(dns, row)
    del dns.txt_records["_dmarc.news.example.com"]
    dns.txt_records["postino-ed._domainkey.news.example.com"] = ["v=DKIM1; k=ed25519; p="]

    alignment = verdicts(row)["news.example.com"].alignment

    assert alignment is not None
    assert alignment.status == "fail"
    assert (alignment.dkim.status, alignment.dmarc.status) == ("fail", "fail")
    assert alignment.dmarc.message == "No DMARC (v=DMARC1) record."
    assert alignment.spf.status == "ok"


def test_a_return_path_on_another_domain_cannot_align_spf(db: None, dns: FakeResolver) -> None:
    row = sending_domain("news.example.com", return_path_domain="bounce.mailer.example.net")
    publish(dns, row)

    alignment = verdicts(row)["news.example.com"].alignment

    assert alignment is not None
    assert alignment.spf.status == "fail"
    assert "does not align with news.example.com (relaxed)" in alignment.spf.message


def test_strict_spf_alignment_wants_the_very_same_domain(db: None, dns: FakeResolver) -> None:
    row = sending_domain("news.example.com", return_path_domain="bounces.example.com")
    publish(dns, row)
    dns.txt_records["_dmarc.news.example.com"] = ["v=DMARC1; p=reject; aspf=s"]

    alignment = verdicts(row)["news.example.com"].alignment

    assert alignment is not None
    assert alignment.spf.status == "fail"
    assert "(strict (aspf=s))" in alignment.spf.message


def test_a_failed_lookup_is_unknown_not_a_failure(db: None, dns: FakeResolver) -> None:
    row = sending_domain("news.example.com", return_path_domain="news.example.com")
    publish(dns, row)
    dns.failing.add("_dmarc.news.example.com")

    alignment = verdicts(row)["news.example.com"].alignment

    assert alignment is not None
    assert alignment.status == "error"
    assert alignment.dmarc.message == "TXT lookup of _dmarc.news.example.com failed: timed out"


def test_public_second_levels_keep_organizational_domains_apart() -> None:
    assert domains.organizational_domain("news.shop.example.co.uk") == "example.co.uk"
    assert domains.aligned("bounces.example.co.uk", "news.example.co.uk", strict=False)
    assert not domains.aligned("bounces.other.co.uk", "news.example.co.uk", strict=False)
    assert not domains.aligned("bounces.example.com", "example.com", strict=True)


class CountingResolver(FakeResolver):
    lookups: int = 0

    def txt(self, name: str) -> list[str]:
        self.lookups += 1
        return super().txt(name)


@pytest.fixture
def counting_dns(monkeypatch: pytest.MonkeyPatch) -> CountingResolver:
    resolver = CountingResolver()
    monkeypatch.setattr(domains, "default_resolver", lambda: resolver)
    return resolver


def test_verdicts_are_cached_until_the_domain_changes(
    db: None, counting_dns: CountingResolver
) -> None:
    row = sending_domain("news.example.com")
    verdicts(row)
    looked_up = counting_dns.lookups
    assert looked_up > 0

    verdicts(row)
    assert counting_dns.lookups == looked_up  # from the cache

    domains.regenerate_key(sending_domain=row, kind="ed25519")  # a new key: check again
    verdicts(SendingDomain.objects.get(pk=row.pk))
    assert counting_dns.lookups == 2 * looked_up


def test_one_poll_looks_up_a_few_domains_and_the_next_poll_the_rest(
    db: None, counting_dns: CountingResolver
) -> None:
    rows = [sending_domain(f"d{i}.example.com") for i in range(6)]

    first = compliance.domain_alignment(rows)
    second = compliance.domain_alignment(rows)

    assert [v.alignment is not None for v in first] == [True] * 4 + [False] * 2
    assert first[5].checked_at is None
    assert all(v.alignment is not None for v in second)


def test_the_panel_costs_the_same_queries_however_many_domains(
    db: None, django_assert_num_queries: Any
) -> None:
    sending_domain("d0.example.com")
    with django_assert_num_queries(4):  # domains, the week of sends, reports, campaigns
        assert len(compliance.compliance().domains) == 1
    for i in range(1, 7):
        sending_domain(f"d{i}.example.com")
    with django_assert_num_queries(3):  # the same but the sends (cached); DNS needs no query
        assert len(compliance.compliance().domains) == 7
