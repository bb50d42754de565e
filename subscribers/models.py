from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


class Subscriber(models.Model):
    class Status(models.TextChoices):
        ENABLED = "enabled", "Enabled"
        BLOCKLISTED = "blocklisted", "Blocklisted"

    # Always stored lower-cased (see services.normalize_email), so uniqueness
    # is case-insensitive. One unique index (see Meta) serves equality, the
    # email-prefix search and the import's ON CONFLICT: a second index on the
    # column would cost every bulk insert for nothing.
    email = models.EmailField(max_length=320)
    name = models.CharField(max_length=200, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ENABLED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="subscriber_email_lowercase"
            ),
            models.UniqueConstraint(
                fields=["email"], name="subscriber_email_unique", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return self.email


class MailingList(models.Model):
    class OptIn(models.TextChoices):
        SINGLE = "single", "Single opt-in"
        DOUBLE = "double", "Double opt-in"

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    optin = models.CharField(max_length=8, choices=OptIn.choices, default=OptIn.SINGLE)
    # Public lists are offered on the preference centre: a subscriber may join
    # them there, and sees them by name.
    public = models.BooleanField(default=False)
    # The double opt-in email, as sandboxed Jinja; empty: Postino's own wording
    # (subscribers.confirmation). Checked when saved, so it never fails at send.
    confirmation_subject = models.CharField(max_length=998, blank=True)
    confirmation_html = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Subscription(models.Model):
    class Status(models.TextChoices):
        UNCONFIRMED = "unconfirmed", "Unconfirmed"
        CONFIRMED = "confirmed", "Confirmed"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"

    class ConfirmedVia(models.TextChoices):
        SINGLE = "single", "Single opt-in list"
        CALLER = "caller", "Added as confirmed"
        LINK = "link", "Confirmation link"
        STAFF = "staff", "Confirmed by staff"
        IMPORT = "import", "Imported as confirmed"

    # No separate indexes: the unique (subscriber, list) and the (list,
    # status, subscriber) indexes lead with these columns. No database-level
    # constraint either: its per-row trigger cost more than the insert itself
    # in a million-row import, which locks the rows it refers to instead (see
    # subscribers.imports.apply); deletes cascade through Django.
    subscriber = models.ForeignKey(
        Subscriber,
        on_delete=models.CASCADE,
        related_name="subscriptions",
        db_index=False,
        db_constraint=False,
    )
    mailing_list = models.ForeignKey(
        MailingList,
        on_delete=models.CASCADE,
        related_name="subscriptions",
        db_index=False,
        db_constraint=False,
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UNCONFIRMED)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Consent evidence for double opt-in: when we asked, how the subscription
    # was confirmed, and by whom (the link's visitor IP, or the staff member).
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    # When the one reminder to confirm was queued (see confirmation.sweep).
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_via = models.CharField(
        max_length=8, choices=ConfirmedVia.choices, blank=True, default=""
    )
    confirmed_ip = models.GenericIPAddressField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # The import that created this subscription: its consent record (the
    # file, who ran it, when), written once with the row and never changed.
    # A million-row import writes this instead of a million ledger rows;
    # subscribers.consent.history reads it as the ledger's "imported" entry.
    # Later changes by an import are ledger rows like any other. Imports
    # that ran are never deleted (only drafts are), hence DO_NOTHING and,
    # as for the other references, neither a constraint nor an index.
    import_run = models.ForeignKey(
        "Import",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
        editable=False,
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "mailing_list"], name="subscription_unique_per_list"
            )
        ]
        indexes = [models.Index(fields=["mailing_list", "status", "subscriber"])]

    def __str__(self) -> str:
        return f"{self.subscriber_id} in {self.mailing_list_id}: {self.status}"


class Import(models.Model):
    """One CSV file brought in by a marketer, and how far its import got.

    The file is read into a staging table first (``subscribers.imports``), then
    applied in batches of rows, each in its own transaction that also moves
    ``rows_applied``: a worker killed mid-batch loses that batch's transaction
    and the next run starts from there, so no row is applied twice.
    """

    class Mode(models.TextChoices):
        SUBSCRIBE = "subscribe", "Subscribe to lists"
        UPDATE = "update", "Update existing subscribers only"
        BLOCKLIST = "blocklist", "Blocklist the addresses"

    class Status(models.TextChoices):
        # Uploaded, the mapping not yet accepted (the preview page).
        DRAFT = "draft", "Draft"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        # The file was read and checked without writing anything (a dry run).
        CHECKED = "checked", "Checked"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    class Phase(models.TextChoices):
        WAITING = "", "Waiting"
        READING = "reading", "Reading the file"
        APPLYING = "applying", "Importing"
        DONE = "done", "Done"

    original_name = models.CharField(max_length=255)
    # Relative to settings.POSTINO["IMPORT_DIR"]; the file is deleted once the
    # import has ended and its report no longer needs it.
    stored_name = models.CharField(max_length=255)
    size = models.BigIntegerField(default=0)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.SUBSCRIBE)
    overwrite = models.BooleanField(default=False)
    subscription_status = models.CharField(
        max_length=16, choices=Subscription.Status.choices, default=Subscription.Status.CONFIRMED
    )
    lists = models.ManyToManyField(MailingList, related_name="imports", blank=True)
    # What ``read.sniff`` found (compression, member, encoding, delimiter).
    dialect = models.JSONField(default=dict, blank=True)
    # One entry per column of the file: {"header", "target", "key", "type"}.
    mapping = models.JSONField(default=list, blank=True)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    phase = models.CharField(
        max_length=16, choices=Phase.choices, default=Phase.WAITING, blank=True
    )
    cancel_requested = models.BooleanField(default=False)
    bytes_done = models.BigIntegerField(default=0)
    # Data rows read (the header is not one) and rows of those applied so far.
    rows = models.IntegerField(default=0)
    # Rows written to the staging table: a resumed run checks the table still
    # holds them (a PostgreSQL crash empties UNLOGGED tables).
    staged_rows = models.IntegerField(default=0)
    # The last record number (header = 1) whose reading, and whose applying,
    # was committed: where a resumed run picks up.
    last_row_read = models.IntegerField(default=0)
    last_row_applied = models.IntegerField(default=0)
    imported = models.IntegerField(default=0)
    updated = models.IntegerField(default=0)
    skipped = models.IntegerField(default=0)
    error = models.TextField(blank=True)
    # The run that holds the import (see subscribers.imports.run.claim): it
    # renews heartbeat_at at every commit; a lapsed one is taken over.
    owner = models.CharField(max_length=32, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.IntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who ran it, as the consent record of its subscriptions names them: kept
    # when the user is deleted.
    created_by_name = models.CharField(max_length=150, blank=True)
    via = models.CharField(max_length=8, default="admin")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"import {self.pk} of {self.original_name}"

    @property
    def duration(self) -> float | None:
        """Seconds from the worker's start to the end, once ended."""
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    @property
    def ended(self) -> bool:
        return self.status in (
            self.Status.FINISHED,
            self.Status.FAILED,
            self.Status.CANCELLED,
            self.Status.CHECKED,
        )


class ImportProblem(models.Model):
    """A row of an import that was skipped, and why: the error report's lines."""

    import_run = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="problems")
    row = models.IntegerField()
    line = models.IntegerField()
    column = models.CharField(max_length=200, blank=True)
    value = models.CharField(max_length=200, blank=True)
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["import_run", "row"]
        indexes = [models.Index(fields=["import_run", "row"])]

    def __str__(self) -> str:
        return f"row {self.row}: {self.reason}"


# What a person may write about why they leave: a sentence or two, which
# also fits the unsubscribe page's one-line field.
REASON_TEXT_MAX_LENGTH = 250


class ConsentEvent(models.Model):
    """An append-only record of what a subscriber agreed to, or withdrew, and how.

    Rows are only ever inserted. They go with the subscriber when an admin
    deletes one; an erasure leaves a hashed suppression, not these.
    """

    class Kind(models.TextChoices):
        SUBSCRIBED = "subscribed", "Subscribed"
        CONFIRMED = "confirmed", "Confirmed"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        PREFERENCES = "preferences", "Changed preferences"
        IMPORTED = "imported", "Imported"
        BLOCKLISTED = "blocklisted", "Blocklisted"
        CHANGED = "changed", "Changed"
        ERASED = "erased", "Erased"
        EXPIRED = "expired", "Not confirmed in time"
        REMINDED = "reminded", "Reminded to confirm"

    class Reason(models.TextChoices):
        """Why a person says they left, as the unsubscribe pages offer it.

        Campaign reports count by these codes (``selectors.unsubscribe_reasons``);
        a row with none (blank) is an unsubscribe whose person gave no reason,
        or that nobody asked about (one-click, bounces, staff).
        """

        TOO_MANY = "too_many", "Too many emails"
        NOT_RELEVANT = "not_relevant", "Not what I expected"
        NEVER_ASKED = "never_asked", "I never signed up"
        OTHER = "other", "Something else"

    class Via(models.TextChoices):
        FORM = "form", "Subscription form"
        IMPORT = "import", "Import"
        API = "api", "API"
        ADMIN = "admin", "Admin"
        LINK = "link", "Link in an email"
        EMAIL = "email", "Unsubscribe email"
        SYSTEM = "system", "Postino (bounces, complaints, expiry)"

    # An append-only record outlives what it names: the list, the staff
    # member and the import may be deleted, the row stays as written (hence
    # DO_NOTHING and no database constraints). Only the (subscriber, time)
    # index is kept, which the subscriber page reads.
    subscriber = models.ForeignKey(
        Subscriber,
        on_delete=models.CASCADE,
        related_name="consent_events",
        db_index=False,
        db_constraint=False,
    )
    mailing_list = models.ForeignKey(
        MailingList,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    via = models.CharField(max_length=8, choices=Via.choices)
    # The subscription's status after the event, where it concerns one.
    status = models.CharField(max_length=16, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    consent_text_version = models.CharField(max_length=64, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    # Who acted, as written at the time (the account may go).
    actor_name = models.CharField(max_length=150, blank=True)
    import_run = models.ForeignKey(
        Import,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    # The campaign whose link the subscriber acted through (an unsubscribe
    # from a newsletter, say): a campaign's report counts its unsubscribes.
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )
    # Our own words about the event ("One-click (RFC 8058)", "Asked to be
    # erased"); the person's own go in ``reason_text``, so a report can tell
    # them apart.
    note = models.CharField(max_length=300, blank=True)
    # Why they left, as they chose it on an unsubscribe page, and anything they
    # added. Written with the unsubscribe itself, never afterwards. Defaults in
    # the database too: an import's raw INSERTs name only the columns it fills.
    reason = models.CharField(
        max_length=16, choices=Reason.choices, blank=True, default="", db_default=""
    )
    reason_text = models.CharField(
        max_length=REASON_TEXT_MAX_LENGTH, blank=True, default="", db_default=""
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["subscriber", "created_at", "id"]
        indexes = [models.Index(fields=["subscriber", "created_at"])]

    def __str__(self) -> str:
        return f"{self.subscriber_id} {self.kind} via {self.via}"

    def reason_summary(self) -> str:
        """The reason as one line, for the subscriber page and their data export:
        ``Too many emails: “weekly would do”``; blank when none was given."""
        words = f"“{self.reason_text}”" if self.reason_text else ""
        label = self.get_reason_display() if self.reason else ""
        return f"{label}: {words}" if label and words else label or words


class Segment(models.Model):
    """A saved filter over subscribers, evaluated each time it is used.

    It holds no people: campaigns evaluate it when they start, and their
    ledger keeps who was targeted. ``definition`` is checked by
    ``subscribers.segments.definition.parse`` before it is stored.
    """

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    definition = models.JSONField(default=dict)
    # The last count, with when it was taken: the index shows these instead of
    # counting every segment over the whole audience on each visit.
    last_count = models.IntegerField(null=True, blank=True)
    counted_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BlocklistEntry(models.Model):
    """An address, a whole domain or a wildcard pattern that is never mailed,
    imported or subscribed (see ``subscribers.blocklist``).

    ``value`` is what the marketer wrote, normalised: an address, a domain, or
    a pattern with ``*``. ``like_pattern`` is the SQL LIKE form a pattern is
    matched with; addresses and domains are matched by equality, through the
    unique index on ``value``.
    """

    class Kind(models.TextChoices):
        ADDRESS = "address", "Address"
        DOMAIN = "domain", "Domain"
        PATTERN = "pattern", "Pattern"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    value = models.CharField(max_length=320, unique=True)
    like_pattern = models.CharField(max_length=400, blank=True)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["value"]
        verbose_name_plural = "blocklist entries"

    def __str__(self) -> str:
        return self.value


class SignupForm(models.Model):
    """A public subscription form: a hosted page, and a snippet for other sites.

    The consent text a visitor sees is versioned (``ConsentText``): each
    subscription made through the form records which version was shown.
    """

    name = models.CharField(max_length=200, unique=True, help_text="Only your team sees this.")
    slug = models.SlugField(max_length=80, unique=True, help_text="The page's address.")
    lists = models.ManyToManyField(MailingList, related_name="signup_forms")
    title = models.CharField(max_length=200)
    intro = models.TextField(blank=True)
    consent_text = models.TextField()
    consent_version = models.PositiveIntegerField(default=1)
    ask_name = models.BooleanField(default=True)
    # Where the visitor goes after submitting (a page on the site embedding
    # the snippet); empty: Postino's own thank-you page.
    redirect_url = models.URLField(max_length=500, blank=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def consent_label(self) -> str:
        """How a consent record names the text shown: the form and its version."""
        return f"{self.slug} v{self.consent_version}"


class ConsentText(models.Model):
    """Every wording a form's consent text ever had, kept to prove what was shown."""

    form = models.ForeignKey(SignupForm, on_delete=models.CASCADE, related_name="consent_texts")
    version = models.PositiveIntegerField()
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["form", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["form", "version"], name="consent_text_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.form_id} v{self.version}"


class ErasedAddress(models.Model):
    """What is left of a person who erased themselves: a hash of the address,
    so it is never imported, added or mailed again, and nothing else."""

    email_hash = models.CharField(max_length=64, unique=True)
    erased_at = models.DateTimeField()
    # How the erasure was asked for (a ConsentEvent.Via value).
    via = models.CharField(max_length=8)

    class Meta:
        ordering = ["-erased_at"]

    def __str__(self) -> str:
        return f"erased {self.erased_at:%Y-%m-%d}"


class BulkAction(models.Model):
    """One change applied to every subscriber a filter matches, by a worker in
    batches (``subscribers.bulk``): each batch commits with ``last_id``, so a
    killed worker's action resumes after the last subscriber it finished."""

    class Kind(models.TextChoices):
        ADD_TO_LIST = "add", "Add to a list"
        REMOVE_FROM_LIST = "remove", "Unsubscribe from a list"
        BLOCKLIST = "blocklist", "Blocklist"
        DELETE = "delete", "Delete"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    # subscribers.browse.SubscriberFilter.as_dict(): who it applies to.
    filters = models.JSONField(default=dict)
    mailing_list = models.ForeignKey(
        MailingList, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    cancel_requested = models.BooleanField(default=False)
    # How many matched when it was asked for (an estimate beyond 10,000), how
    # many were gone through, and how many of those it changed.
    total = models.IntegerField(default=0)
    done = models.IntegerField(default=0)
    changed = models.IntegerField(default=0)
    skipped = models.IntegerField(default=0)
    last_id = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)
    owner = models.CharField(max_length=32, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.status})"

    @property
    def ended(self) -> bool:
        return self.status in (self.Status.FINISHED, self.Status.FAILED, self.Status.CANCELLED)

    @property
    def percent(self) -> float:
        if self.status == self.Status.FINISHED:
            return 100.0
        return min(99.9, 100.0 * self.done / self.total) if self.total else 0.0


class Export(models.Model):
    """A list's or segment's subscribers written to a CSV file in the
    background (``subscribers.exports``), with its progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"

    mailing_list = models.ForeignKey(
        MailingList, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What was exported, as written at the time (the list may be renamed or go).
    label = models.CharField(max_length=250)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.IntegerField(default=0)
    rows_done = models.IntegerField(default=0)
    # Relative to settings.POSTINO["EXPORT_DIR"]; emptied when the file goes.
    stored_name = models.CharField(max_length=255, blank=True)
    size = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)
    owner = models.CharField(max_length=32, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"export of the {self.label} ({self.status})"

    @property
    def ended(self) -> bool:
        return self.status in (self.Status.FINISHED, self.Status.FAILED)

    @property
    def percent(self) -> float:
        if self.status == self.Status.FINISHED:
            return 100.0
        return min(99.9, 100.0 * self.rows_done / self.rows_total) if self.rows_total else 0.0

    @property
    def rows_per_second(self) -> float | None:
        if not self.started_at or not self.heartbeat_at or not self.rows_done:
            return None
        seconds = (self.heartbeat_at - self.started_at).total_seconds()
        return self.rows_done / seconds if seconds > 0 else None

    @property
    def eta_seconds(self) -> float | None:
        rate = self.rows_per_second
        if not rate or self.rows_total <= self.rows_done:
            return None
        return (self.rows_total - self.rows_done) / rate


class ImportBatch(models.Model):
    """A row range of an import that was applied, committed with it: the
    record that lets batches be applied side by side and a resumed import
    skip exactly the ones done."""

    import_run = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="batches")
    first_row = models.IntegerField()
    end_row = models.IntegerField()

    class Meta:
        ordering = ["import_run", "first_row"]
        constraints = [
            models.UniqueConstraint(fields=["import_run", "first_row"], name="import_batch_once")
        ]

    def __str__(self) -> str:
        return f"rows {self.first_row}-{self.end_row - 1} of import {self.import_run_id}"
