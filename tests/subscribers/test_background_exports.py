"""Exports in the background: written by a worker with progress, downloaded
from disk, started over after a crash."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from postino import jobs
from subscribers import exports
from subscribers.models import Export, MailingList, Subscriber, Subscription
from subscribers.segments.services import create_segment
from tests.support.jobs import QueuedJobs

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _export_dir(settings: Any, tmp_path: Path) -> None:
    settings.POSTINO = {**settings.POSTINO, "EXPORT_DIR": tmp_path / "exports"}


@pytest.fixture
def news() -> MailingList:
    news = MailingList.objects.create(name="News")
    for i in range(25):
        person = Subscriber.objects.create(
            email=f"p{i}@example.com",
            name="=SUM(A1)" if i == 3 else f"P {i}",
            attributes={"n": i},
        )
        Subscription.objects.create(subscriber=person, mailing_list=news, status="confirmed")
    return news


def test_a_list_export_runs_in_the_background_and_downloads(
    teammate_client: Client,
    news: MailingList,
    queued_jobs: QueuedJobs,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = teammate_client.post(reverse("subscribers:export_list_start", args=[news.pk]))
    export = Export.objects.get()
    assert response["Location"] == reverse("subscribers:export_detail", args=[export.pk])
    assert queued_jobs.of(jobs.RUN_EXPORT) == [(export.pk,)]
    assert export.rows_total == 25

    exports.run_export(export.pk)
    export.refresh_from_db()
    assert (export.status, export.rows_done) == ("finished", 25)
    live = teammate_client.get(reverse("subscribers:export_progress", args=[export.pk])).text
    assert "data-live-done" in live and "Download the CSV" in live
    download = teammate_client.get(reverse("subscribers:export_download", args=[export.pk]))
    lines = download.getvalue().decode().splitlines()
    assert lines[0] == "email,name,status,subscribed_at,confirmed_at,unsubscribed_at,n"
    assert len(lines) == 26
    assert lines[4].startswith("p3@example.com,'=SUM(A1),confirmed,")


def test_a_segment_export_and_a_run_that_died_starts_over(
    news: MailingList,
    owner: Any,
    queued_jobs: QueuedJobs,
    django_capture_on_commit_callbacks: Any,
) -> None:
    segment = create_segment(
        name="Big", definition={"conditions": [{"field": "attributes.n", "op": "gt", "value": 19}]}
    )
    export = exports.start_export(segment=segment, actor=owner)
    Export.objects.filter(pk=export.pk).update(
        status="running",
        owner="dead",
        rows_done=2,
        heartbeat_at=timezone.now() - timedelta(minutes=5),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert exports.resume() == [export.pk]
    exports.run_export(export.pk)
    export.refresh_from_db()
    assert (export.status, export.rows_done, export.rows_total) == ("finished", 5, 5)
    with exports.open_file(export) as handle:
        assert handle.read().decode().count("\n") == 6  # header and five people
    leftovers = list(exports.export_dir().glob("*.part"))
    assert leftovers == []


def test_the_command_exports_a_segment_to_a_file_with_progress(
    news: MailingList, tmp_path: Path
) -> None:
    import io

    from django.core.management import call_command

    create_segment(
        name="Small n",
        definition={"conditions": [{"field": "attributes.n", "op": "lt", "value": 3}]},
    )
    target = tmp_path / "small.csv"
    err = io.StringIO()
    call_command("export_subscribers", "--segment", "small n", "-o", str(target), stderr=err)
    emails = [line.split(",")[0] for line in target.read_text().splitlines()[1:]]
    assert emails == ["p0@example.com", "p1@example.com", "p2@example.com"]
    assert "100.0%" in err.getvalue() and "Exported 3 rows." in err.getvalue()
