"""An A/B test end to end in the browser with real workers: set up on a draft,
a test sent to two colleagues, the variants reach disjoint recipients, the
winner chosen by hand goes to the rest, and nobody gets two messages."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from campaigns.models import AbTest
from delivery.models import Delivery
from tests.conftest import PASSWORD
from tests.support.browser import BROWSER_MARKS, SCREENSHOTS, expect, log_in
from tests.support.factories import add_audience, make_campaign, make_list, make_smtp_server
from tests.support.smtpd import RunningSmtpServer
from tests.support.workers import running_workers

pytestmark = BROWSER_MARKS


@pytest.fixture
def staff(transactional_db: None) -> User:
    return User.objects.create_user("ana", "ana@example.com", PASSWORD, is_staff=True)


def test_variants_reach_disjoint_people_and_the_winner_the_rest(
    page: Any,
    staff: User,
    smtpd: RunningSmtpServer,
    clean_redis: None,
    worker_logs: Path,
    live_server: Any,
) -> None:
    newsletter = make_list()
    add_audience(newsletter, 60)
    campaign = make_campaign(lists=[newsletter], server=make_smtp_server(smtpd))

    log_in(page, f"/campaigns/{campaign.pk}/")
    page.get_by_test_id("ab-test-link").click()
    page.get_by_label("Subject").check()
    page.get_by_label("Variant A").fill("Spring is here")
    page.get_by_label("Variant B").fill("20% off, this week only")
    page.get_by_label("Test share (%)").fill("20")
    page.get_by_label("Winner").select_option("manual")
    page.get_by_role("button", name="Save A/B test").click()
    expect(page.get_by_test_id("ab-phase")).to_have_text("Sending the variants")

    with running_workers(worker_logs):
        # A test to two colleagues first: it arrives, marked, and counts for nothing.
        page.get_by_label("Send a test to").fill("ana@example.com, bob@example.com")
        page.get_by_role("button", name="Send test").click()
        for _ in range(100):
            if len(smtpd.handler.messages) >= 2:
                break
            page.wait_for_timeout(100)
        tests = {m.rcpt_tos[0]: m.parsed()["Subject"] for m in smtpd.handler.messages}
        assert set(tests) == {"ana@example.com", "bob@example.com"}
        assert all(subject.startswith("[Test] News for ") for subject in tests.values()), tests
        smtpd.handler.clear()

        page.get_by_role("button", name="Start").click()
        page.get_by_role("button", name="Confirm and send").click()
        # The test share goes out, then the test waits for a person's pick (live).
        expect(page.get_by_test_id("ab-phase")).to_have_text("Waiting for results", timeout=60_000)
        assert len(smtpd.handler.messages) == 12
        page.locator('[data-variant="1"]').get_by_role("button", name="Choose as winner").click()
        expect(page.get_by_test_id("ab-phase")).to_have_text("Sending the winner")
        expect(page.locator('[data-role="status"]')).to_have_text("Finished", timeout=60_000)

    received = smtpd.handler.recipients()
    assert len(received) == 60 and max(received.values()) == 1, "someone got two messages"
    subjects = {m.rcpt_tos[0]: m.parsed()["Subject"] for m in smtpd.handler.messages}
    tested: dict[str, int] = {
        email: variant
        for email, variant in Delivery.objects.filter(
            campaign=campaign, variant__isnull=False
        ).values_list("subscriber__email", "variant")
        if variant is not None
    }
    assert Counter(tested.values()) == {0: 6, 1: 6}
    for email, variant in tested.items():
        assert subjects[email] == ["Spring is here", "20% off, this week only"][variant]
    rest = set(subjects) - set(tested)
    assert len(rest) == 48 and {subjects[email] for email in rest} == {"20% off, this week only"}
    test = AbTest.objects.get(campaign=campaign)
    page.reload()
    expect(page.get_by_test_id("ab-phase")).to_have_text("Done", timeout=20_000)
    assert (test.winner, test.chosen_by) == (1, "manual")
    page.locator('[data-role="ab-test"]').screenshot(path=str(SCREENSHOTS / "postino-ab-test.png"))
