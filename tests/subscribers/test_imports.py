"""Importing subscribers from CSV: what lands, what is skipped and why, resuming, cancelling."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bounces.models import Suppression
from postino import jobs
from subscribers import consent, privacy
from subscribers.imports import run, staging
from subscribers.imports.selectors import problem_report, progress
from subscribers.imports.services import (
    ImportStateError,
    cancel_import,
    configure,
    create_import,
    preview,
    start_import,
    store_upload,
)
from subscribers.models import ConsentEvent, Import, MailingList, Subscriber, Subscription
from tests.support.jobs import QueuedJobs

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _import_dir(settings: Any, tmp_path: Path) -> None:
    settings.POSTINO = {**settings.POSTINO, "IMPORT_DIR": tmp_path / "imports"}


@pytest.fixture
def newsletter() -> MailingList:
    return MailingList.objects.create(name="Newsletter")


def upload(text: str | bytes, name: str = "people.csv") -> io.BytesIO:
    return io.BytesIO(text.encode() if isinstance(text, str) else text)


def run_to_end(import_run: Import) -> Import:
    run.run_import(import_run.pk)
    import_run.refresh_from_db()
    return import_run


def imported(text: str, lists: list[MailingList], **options: Any) -> Import:
    import_run = create_import(source=upload(text), name="people.csv", lists=lists, **options)
    return run_to_end(import_run)


def report(import_run: Import) -> list[str]:
    return "".join(problem_report(import_run)).splitlines()


def test_rows_become_confirmed_subscribers_with_typed_attributes(newsletter: MailingList) -> None:
    result = imported(
        "email,name,city,age,vip\n"
        "Ada@Example.com,Ada Lovelace,London,36,yes\n"
        "grace@example.com,Grace Hopper,Arlington,85,no\n",
        [newsletter],
    )
    assert (result.status, result.rows, result.imported, result.updated, result.skipped) == (
        Import.Status.FINISHED,
        2,
        2,
        0,
        0,
    )
    ada = Subscriber.objects.get(email="ada@example.com")
    assert ada.name == "Ada Lovelace"
    assert ada.attributes == {"city": "London", "age": 36, "vip": True}
    subscription = Subscription.objects.get(subscriber=ada, mailing_list=newsletter)
    assert subscription.status == Subscription.Status.CONFIRMED
    assert subscription.confirmed_via == Subscription.ConfirmedVia.IMPORT
    assert not staging.exists(result.pk)
    assert not run.file_path(result).exists()


def test_every_bad_row_is_reported_and_every_good_row_imported(newsletter: MailingList) -> None:
    Subscriber.objects.create(email="blocked@example.com", status=Subscriber.Status.BLOCKLISTED)
    Suppression.objects.create(email="bounced@example.com", reason=Suppression.Reason.HARD_BOUNCE)
    long_name = "x" * 201
    result = imported(
        "email,name,age\n"
        "good1@example.com,One,1\n"
        "not-an-address,Two,2\n"
        "good1@EXAMPLE.com,Again,3\n"
        "blocked@example.com,Blocked,4\n"
        "bounced@example.com,Bounced,5\n"
        f"long@example.com,{long_name},6\n"
        "typed@example.com,Typed,seven\n"
        "good2@example.com,Two,8\n",
        [newsletter],
        mapping=[
            {"header": "email", "target": "email"},
            {"header": "name", "target": "name"},
            {"header": "age", "target": "attribute", "key": "age", "type": "number"},
        ],
    )
    assert (result.rows, result.imported, result.skipped) == (8, 2, 6)
    assert set(Subscription.objects.values_list("subscriber__email", flat=True)) == {
        "good1@example.com",
        "good2@example.com",
    }
    assert report(result) == [
        "row,line,column,value,reason",
        "3,3,email,not-an-address,not a valid email address",
        "4,4,email,good1@example.com,repeats the address of row 2",
        "5,5,email,blocked@example.com,blocklisted",
        "6,6,email,bounced@example.com,suppressed (hard bounce)",
        f"7,7,name,{long_name[:200]},longer than 200 characters",
        "8,8,age,seven,is not a number",
    ]


def test_existing_names_and_attributes_are_kept_unless_overwrite(newsletter: MailingList) -> None:
    Subscriber.objects.create(email="ada@example.com", name="Ada", attributes={"city": "Paris"})
    Subscriber.objects.create(email="bob@example.com", name="", attributes={})
    text = "email,name,city,plan\nada@example.com,Ada L,London,pro\nbob@example.com,Bob,Rome,free\n"
    kept = imported(text, [newsletter])
    assert (kept.imported, kept.updated) == (0, 2)
    ada = Subscriber.objects.get(email="ada@example.com")
    assert (ada.name, ada.attributes) == ("Ada", {"city": "Paris", "plan": "pro"})
    bob = Subscriber.objects.get(email="bob@example.com")
    assert (bob.name, bob.attributes) == ("Bob", {"city": "Rome", "plan": "free"})

    imported(text, [newsletter], overwrite=True)
    ada.refresh_from_db()
    assert (ada.name, ada.attributes) == ("Ada L", {"city": "London", "plan": "pro"})


def test_an_import_never_resubscribes_or_unconfirms_anyone(newsletter: MailingList) -> None:
    gone = Subscriber.objects.create(email="gone@example.com")
    Subscription.objects.create(
        subscriber=gone, mailing_list=newsletter, status=Subscription.Status.UNSUBSCRIBED
    )
    waiting = Subscriber.objects.create(email="waiting@example.com")
    Subscription.objects.create(subscriber=waiting, mailing_list=newsletter)
    text = "email\ngone@example.com\nwaiting@example.com\n"

    imported(text, [newsletter], subscription_status=Subscription.Status.UNCONFIRMED)
    statuses = dict(Subscription.objects.values_list("subscriber__email", "status"))
    assert statuses == {"gone@example.com": "unsubscribed", "waiting@example.com": "unconfirmed"}

    imported(text, [newsletter], subscription_status=Subscription.Status.CONFIRMED)
    statuses = dict(Subscription.objects.values_list("subscriber__email", "status"))
    assert statuses == {"gone@example.com": "unsubscribed", "waiting@example.com": "confirmed"}


def test_unconfirmed_rows_of_a_double_optin_list_are_asked_to_confirm(
    queued_jobs: QueuedJobs, django_capture_on_commit_callbacks: Any
) -> None:
    double = MailingList.objects.create(name="Double", optin=MailingList.OptIn.DOUBLE)
    with django_capture_on_commit_callbacks(execute=True):
        result = imported(
            "email\na@example.com\nb@example.com\n",
            [double],
            subscription_status=Subscription.Status.UNCONFIRMED,
        )
    ids = sorted(Subscription.objects.values_list("pk", flat=True))
    assert result.imported == 2
    assert queued_jobs.of(jobs.SEND_CONFIRMATIONS) == [(ids,)]


def test_each_change_is_in_the_consent_ledger_with_the_import(
    newsletter: MailingList, owner: Any
) -> None:
    first = create_import(
        source=upload("email\nada@example.com\n"),
        name="fair.csv",
        lists=[newsletter],
        actor=owner,
        subscription_status=Subscription.Status.UNCONFIRMED,
    )
    run_to_end(first)
    ada = Subscriber.objects.get()

    def ledger() -> list[tuple[Any, ...]]:
        return [
            (e.kind, e.via, e.status, e.actor_id, e.actor_name, e.import_run_id, e.note)
            for e in consent.history(ada.pk)
        ]

    # A new subscription carries its consent record: no ledger row is written.
    assert not ConsentEvent.objects.exists()
    assert Subscription.objects.get().import_run == first
    imported_first = (
        ConsentEvent.Kind.IMPORTED,
        ConsentEvent.Via.IMPORT,
        Subscription.Status.UNCONFIRMED,
        owner.pk,
        owner.get_username(),
        first.pk,
        "file fair.csv",
    )
    assert ledger() == [imported_first]
    # Importing the same row again changes nothing, so records nothing.
    imported("email\nada@example.com\n", [newsletter], subscription_status="unconfirmed")
    assert ledger() == [imported_first]
    # A second file that confirms the subscription writes a row of its own;
    # the subscription still names the import that made it.
    second = create_import(
        source=upload("email\nada@example.com\n"), name="later.csv", lists=[newsletter], actor=owner
    )
    run_to_end(second)
    assert ledger() == [
        (
            ConsentEvent.Kind.IMPORTED,
            ConsentEvent.Via.IMPORT,
            Subscription.Status.CONFIRMED,
            owner.pk,
            owner.get_username(),
            second.pk,
            "file later.csv",
        ),
        imported_first,
    ]
    assert Subscription.objects.get().import_run == first
    # The person's own copy of their data holds both, oldest first.
    assert [(e["what"], e["note"]) for e in privacy.export_data(ada)["consent_history"]] == [
        ("imported", "file fair.csv"),
        ("imported", "file later.csv"),
    ]
    # Who ran it stays named when their account goes.
    owner.delete()
    assert [entry[4] for entry in ledger()] == [owner.get_username()] * 2


def test_update_mode_adds_nobody(newsletter: MailingList) -> None:
    Subscriber.objects.create(email="ada@example.com")
    result = imported(
        "email,city\nada@example.com,London\nnew@example.com,Paris\n",
        [],
        mode=Import.Mode.UPDATE,
    )
    assert (result.imported, result.updated, result.skipped) == (0, 1, 1)
    assert list(Subscriber.objects.values_list("email", "attributes")) == [
        ("ada@example.com", {"city": "London"})
    ]
    assert not Subscription.objects.exists()


def test_blocklist_mode_blocks_known_and_unknown_addresses() -> None:
    Subscriber.objects.create(email="ada@example.com")
    result = imported("email\nada@example.com\nspam@example.com\n", [], mode=Import.Mode.BLOCKLIST)
    assert (result.imported, result.updated) == (1, 1)
    assert set(Subscriber.objects.values_list("email", "status")) == {
        ("ada@example.com", "blocklisted"),
        ("spam@example.com", "blocklisted"),
    }
    assert ConsentEvent.objects.filter(kind=ConsentEvent.Kind.BLOCKLISTED).count() == 2


def test_a_dry_run_counts_and_writes_nothing(newsletter: MailingList) -> None:
    Subscriber.objects.create(email="known@example.com")
    result = imported(
        "email\nknown@example.com\nnew@example.com\nbad\n", [newsletter], dry_run=True
    )
    assert (result.status, result.imported, result.updated, result.skipped) == (
        Import.Status.CHECKED,
        1,
        1,
        1,
    )
    assert Subscriber.objects.count() == 1
    assert not Subscription.objects.exists()
    # The real import can follow from the same upload.
    start_import(import_run=result)
    finished = run_to_end(result)
    assert (finished.status, finished.imported, finished.updated, finished.skipped) == (
        Import.Status.FINISHED,
        1,
        1,
        1,
    )


def test_a_run_killed_mid_way_resumes_without_importing_twice(
    newsletter: MailingList, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.POSTINO = {**settings.POSTINO, "IMPORT_BATCH_ROWS": 3}
    rows = "".join(f"p{n}@example.com,{n}\n" for n in range(10))
    import_run = create_import(source=upload("email,n\n" + rows), name="p.csv", lists=[newsletter])
    calls = 0
    real_apply = run.apply.apply_batch

    def dies_on_second_batch(**kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        outcome = real_apply(**kwargs)
        if calls == 2:
            raise SystemExit("worker killed")  # after the work, before the commit
        return outcome

    monkeypatch.setattr(run.apply, "apply_batch", dies_on_second_batch)
    with pytest.raises(SystemExit):
        run.run_import(import_run.pk)
    import_run.refresh_from_db()
    assert (import_run.status, import_run.last_row_applied, import_run.imported) == (
        Import.Status.RUNNING,
        4,
        3,
    )
    assert Subscriber.objects.count() == 3

    # Nobody else may take it while its heartbeat is fresh; after the lease, the next run does.
    assert run.claim(import_run.pk) is None
    Import.objects.filter(pk=import_run.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=run.lease_seconds() + 1)
    )
    monkeypatch.setattr(run.apply, "apply_batch", real_apply)
    finished = run_to_end(import_run)
    assert (finished.status, finished.imported, finished.skipped) == (Import.Status.FINISHED, 10, 0)
    assert Subscriber.objects.count() == 10
    assert Subscription.objects.filter(import_run=import_run).count() == 10


def test_staged_rows_lost_in_a_database_crash_are_read_again(
    newsletter: MailingList, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.POSTINO = {**settings.POSTINO, "IMPORT_BATCH_ROWS": 3}
    rows = "".join(f"p{n}@example.com\n" for n in range(8))
    import_run = create_import(source=upload("email\n" + rows), name="p.csv", lists=[newsletter])
    real_apply = run.apply.apply_batch

    def dies_after_first_batch(**kwargs: Any) -> Any:
        if kwargs["first_row"] > 2:
            raise SystemExit("worker killed")
        return real_apply(**kwargs)

    monkeypatch.setattr(run.apply, "apply_batch", dies_after_first_batch)
    with pytest.raises(SystemExit):
        run.run_import(import_run.pk)
    # What PostgreSQL's crash recovery does to an UNLOGGED table.
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {staging.quoted(import_run.pk)}")
    Import.objects.filter(pk=import_run.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=run.lease_seconds() + 1)
    )
    monkeypatch.setattr(run.apply, "apply_batch", real_apply)
    finished = run_to_end(import_run)
    assert (finished.status, finished.rows, finished.imported, finished.skipped) == (
        Import.Status.FINISHED,
        8,
        8,
        0,
    )
    assert Subscription.objects.filter(import_run=import_run).count() == 8


def test_cancelling_stops_between_batches_and_keeps_what_was_applied(
    newsletter: MailingList, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.POSTINO = {**settings.POSTINO, "IMPORT_BATCH_ROWS": 2}
    rows = "".join(f"p{n}@example.com\n" for n in range(6))
    import_run = create_import(source=upload("email\n" + rows), name="p.csv", lists=[newsletter])
    real_apply = run.apply.apply_batch

    def cancel_during_first_batch(**kwargs: Any) -> Any:
        outcome = real_apply(**kwargs)
        Import.objects.filter(pk=import_run.pk).update(cancel_requested=True)
        return outcome

    monkeypatch.setattr(run.apply, "apply_batch", cancel_during_first_batch)
    cancelled = run_to_end(import_run)
    assert (cancelled.status, cancelled.imported) == (Import.Status.CANCELLED, 2)
    assert Subscriber.objects.count() == 2
    assert not staging.exists(import_run.pk)
    with pytest.raises(ImportStateError):
        cancel_import(import_run=cancelled)


def test_a_queued_import_cancels_at_once(newsletter: MailingList) -> None:
    import_run = create_import(
        source=upload("email\na@example.com\n"), name="a.csv", lists=[newsletter]
    )
    cancel_import(import_run=import_run)
    assert import_run.status == Import.Status.CANCELLED
    assert run.claim(import_run.pk) is None


def test_the_preview_reads_rows_as_the_import_will(newsletter: MailingList) -> None:
    draft = store_upload(
        source=upload("E-Mail;Name;Score\nada@example.com;Ada;1,5\nnope;Bob;2\n"), name="p.csv"
    )
    assert draft.dialect["delimiter"] == ";"
    assert draft.mapping == [
        {"header": "E-Mail", "target": "email"},
        {"header": "Name", "target": "name"},
        {"header": "Score", "target": "attribute", "key": "score", "type": "number"},
    ]
    shown = preview(draft)
    assert [(r.row, r.email, r.name, r.attributes, r.problem) for r in shown.rows] == [
        (2, "ada@example.com", "Ada", {"score": 1.5}, ""),
        (3, "", None, {}, "E-Mail: not a valid email address"),
    ]


def test_a_file_without_header_is_recognised() -> None:
    draft = store_upload(source=upload("ada@example.com,Ada\nbob@example.com,Bob\n"), name="p.csv")
    assert draft.dialect["has_header"] is False
    assert draft.mapping[0] == {"header": "Column 1", "target": "email"}


def test_a_mapping_without_email_is_refused_naming_the_problem(newsletter: MailingList) -> None:
    draft = store_upload(source=upload("email,name\na@example.com,A\n"), name="p.csv")
    with pytest.raises(ValidationError) as caught:
        configure(
            import_run=draft,
            mapping=[{"header": "email", "target": "ignore"}, {"header": "name", "target": "name"}],
            lists=[],
        )
    assert caught.value.message_dict == {
        "mapping": ["Exactly one column must be the email address."],
        "lists": ["Choose at least one list to subscribe the rows to."],
    }


def test_a_file_that_is_not_csv_is_refused_at_upload(settings: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        store_upload(source=upload(b""), name="empty.csv")
    assert "file" in caught.value.message_dict
    assert not any(Path(settings.POSTINO["IMPORT_DIR"]).iterdir())


def test_an_import_takes_the_same_queries_for_ten_rows_or_five_hundred(
    newsletter: MailingList,
) -> None:
    def queries_for(rows: int) -> int:
        text = "email,name,n\n" + "".join(f"p{rows}x{n}@example.com,P,{n}\n" for n in range(rows))
        import_run = create_import(source=upload(text), name="p.csv", lists=[newsletter])
        with CaptureQueriesContext(connection) as captured:
            run.run_import(import_run.pk)
        assert Import.objects.get(pk=import_run.pk).imported == rows
        return len(captured)

    assert queries_for(10) == queries_for(500)


def test_uploads_left_unstarted_for_a_day_are_let_go(newsletter: MailingList) -> None:
    draft = store_upload(source=upload("email\na@example.com\n"), name="a.csv")
    checked = imported("email\nb@example.com\n", [newsletter], dry_run=True)
    recent = store_upload(source=upload("email\nc@example.com\n"), name="c.csv")
    Import.objects.filter(pk__in=[draft.pk, checked.pk]).update(
        updated_at=timezone.now() - timedelta(days=1, minutes=1)
    )
    assert run.forget_abandoned() == 2
    assert not Import.objects.filter(pk=draft.pk).exists()
    assert not run.file_path(draft).exists()
    assert Import.objects.get(pk=checked.pk).status == Import.Status.CANCELLED
    assert not run.file_path(checked).exists()
    assert run.file_path(recent).exists()


def test_headers_of_common_languages_are_recognised() -> None:
    draft = store_upload(
        source=upload("E-Mail-Adresse;Vorname;Nachname;Stadt\nanna@example.de;Anna;Müller;Köln\n"),
        name="kunden.csv",
    )
    assert [entry["target"] for entry in draft.mapping] == [
        "email",
        "first_name",
        "last_name",
        "attribute",
    ]
    assert preview(draft).rows[0].name == "Anna Müller"


def test_progress_counts_the_file_read_and_its_rows_applied_side_by_side() -> None:
    started = timezone.now() - timedelta(seconds=10)
    import_run = Import.objects.create(
        original_name="p.csv",
        stored_name="x",
        status=Import.Status.RUNNING,
        phase=Import.Phase.READING,
        size=1000,
        bytes_done=500,
        last_row_read=5001,
        last_row_applied=2501,
        started_at=started,
    )
    shown = progress(import_run)
    # Half the file read, a quarter of its 10,000 rows applied: 37.5% in 10 s.
    assert (shown.percent, shown.rows_per_second) == (37.5, pytest.approx(250, rel=0.01))
    assert shown.eta_seconds == pytest.approx(10 / 0.375 - 10, rel=0.01)
    import_run.phase = Import.Phase.APPLYING
    import_run.bytes_done = 1000
    import_run.last_row_read = 10001
    import_run.last_row_applied = 10001
    assert progress(import_run).percent == 100.0
    import_run.phase = Import.Phase.WAITING
    assert progress(import_run).percent == 0.0
