"""The rules for recipient-domain limits."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from delivery.models import DomainLimit
from delivery.services import create_domain_limit, delete_domain_limit, update_domain_limit


def test_the_big_providers_have_limits_out_of_the_box(db: None) -> None:
    assert DomainLimit.objects.filter(domain="gmail.com").exists()


def test_a_domain_is_stored_lower_case_without_a_trailing_dot(db: None) -> None:
    limit = create_domain_limit(domain="  Example.COM. ", messages_per_minute=60)
    assert limit.domain == "example.com"


def test_an_international_domain_is_stored_in_idna_form(db: None) -> None:
    limit = create_domain_limit(domain="Bücher.example", messages_per_minute=60)
    assert limit.domain == "xn--bcher-kva.example"


@pytest.mark.parametrize(
    "domain", ["", "user@example.com", "http://example.com", "exa mple.com", "-bad.com", "com"]
)
def test_something_that_is_not_a_host_name_is_refused(db: None, domain: str) -> None:
    with pytest.raises(ValidationError) as exc:
        create_domain_limit(domain=domain, messages_per_minute=60)
    assert list(exc.value.message_dict) == ["domain"]


def test_a_second_limit_for_the_same_domain_is_refused_clearly(db: None) -> None:
    with pytest.raises(ValidationError) as exc:
        create_domain_limit(domain="GMAIL.com", messages_per_minute=10)
    assert exc.value.message_dict == {
        "domain": ["gmail.com already has a limit; edit that one instead."]
    }


@pytest.mark.parametrize("per_minute", [0, -1])
def test_at_least_one_message_per_minute(db: None, per_minute: int) -> None:
    with pytest.raises(ValidationError) as exc:
        create_domain_limit(domain="example.com", messages_per_minute=per_minute)
    assert list(exc.value.message_dict) == ["messages_per_minute"]


def test_updating_a_limit_keeps_its_own_domain(db: None) -> None:
    gmail = DomainLimit.objects.get(domain="gmail.com")
    update_domain_limit(domain_limit=gmail, domain="gmail.com", messages_per_minute=99)
    gmail.refresh_from_db()
    assert gmail.messages_per_minute == 99


def test_updating_a_limit_onto_another_domain_is_refused(db: None) -> None:
    gmail = DomainLimit.objects.get(domain="gmail.com")
    with pytest.raises(ValidationError) as exc:
        update_domain_limit(domain_limit=gmail, domain="yahoo.com", messages_per_minute=5)
    assert list(exc.value.message_dict) == ["domain"]


def test_deleting_a_limit_removes_it(db: None) -> None:
    gmail = DomainLimit.objects.get(domain="gmail.com")
    delete_domain_limit(domain_limit=gmail)
    assert not DomainLimit.objects.filter(domain="gmail.com").exists()
