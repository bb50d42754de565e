"""Apply a range of staged rows: a few set-based statements per batch, no loop per row.

Every batch of rows goes through the same steps, in the caller's transaction:

1. ``_resolved_sql`` joins the rows with what the database knows (the
   subscriber of each address, an active suppression, the blocklist,
   erasures, an earlier row of the same file with the same address) and
   gives each row its reason to be skipped, if any.
2. Skipped rows become the import's problems (its error report).
3. New addresses become subscribers; known ones are updated, replacing their
   name and attributes only with ``overwrite`` (otherwise the file only fills
   in what is missing).
4. In subscribe mode, every row's subscriber gets the import's lists with the
   status it asked for; nobody who unsubscribed is subscribed again, nobody
   confirmed becomes unconfirmed.
5. Each subscription the import created names the import
   (``Subscription.import_run``: its consent record, with the file and who
   ran it); each one it changed gets a consent event saying the same.

On PostgreSQL a new address's subscriber id is drawn from the sequence when
the batch is made, so no statement has to look new rows up by address, and
the new subscribers' rows skip the conflict checks that only known ones
need. SQLite (one writer, small files) takes the plainer road.
"""

# Every statement here is built from model metadata, an integer import id and
# fixed fragments; values always go as parameters.
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction

from bounces.models import Suppression
from subscribers import privacy
from subscribers.blocklist import rules as blocklist_rules
from subscribers.imports import staging
from subscribers.models import (
    BlocklistEntry,
    ConsentEvent,
    ErasedAddress,
    Import,
    ImportProblem,
    MailingList,
    Subscriber,
    Subscription,
)

CONSENT_COLUMNS = (
    "(subscriber_id, mailing_list_id, kind, via, status, ip, user_agent, "
    "consent_text_version, actor_id, actor_name, import_run_id, note, created_at)"
)


@dataclass(frozen=True)
class Outcome:
    imported: int
    updated: int
    skipped: int
    to_confirm: list[int]


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _reason_sql(mode: str) -> str:
    """Why a row of the batch is skipped (NULL: it is not), as a CASE."""
    cases = ["WHEN first_row IS NOT NULL THEN 'repeats the address of row ' || first_row"]
    if mode in (Import.Mode.SUBSCRIBE, Import.Mode.UPDATE):
        cases.append(
            f"WHEN subscriber_status = '{Subscriber.Status.BLOCKLISTED}' THEN 'blocklisted'"
        )
        cases.append("WHEN blocked THEN 'on the blocklist'")
        cases.append("WHEN erased THEN 'erased at their request'")
        cases.append(
            "WHEN suppression IS NOT NULL THEN "
            "'suppressed (' || replace(suppression, '_', ' ') || ')'"
        )
    if mode == Import.Mode.UPDATE:
        cases.append(
            "WHEN subscriber_id IS NULL THEN 'not a subscriber yet (this import only updates)'"
        )
    return "CASE " + " ".join(cases) + " END"


def _resolved_sql(import_id: int) -> tuple[str, list[Any]]:
    """The staged rows in ``[%s, %s)`` (the range's two params come last) with
    what the database knows of each address: its subscriber, the first
    earlier row of the file that holds it, an active suppression, and whether
    the blocklist covers it or its owner had it erased.

    Every lookup is by index, per row, so a batch costs the same whether
    the tables are empty or hold millions, and the rows before the batch
    are all staged (committed first, or in this transaction). An empty
    blocklist or erasure table costs nothing: its check is left out.
    """
    rows = staging.quoted(import_id)
    subscriber = _q(Subscriber._meta.db_table)
    suppression = _q(Suppression._meta.db_table)
    blocked, blocked_params = (
        blocklist_rules.blocked_sql("st.email")
        if BlocklistEntry.objects.exists()
        else ("false", [])
    )
    erased, erased_params = (
        privacy.erased_sql("st.email") if ErasedAddress.objects.exists() else ("false", [])
    )
    if connection.vendor == "postgresql":
        # LATERAL keeps the lookup by index even when the planner's figures
        # for a table that grows by 50,000 rows a batch are stale.
        known = (
            f"LEFT JOIN LATERAL (SELECT id, status FROM {subscriber} WHERE email = st.email) s "
            "ON true"
        )
    else:
        known = f"LEFT JOIN {subscriber} s ON s.email = st.email"
    return (
        "SELECT st.row, st.line, st.email, st.name, st.attributes, "
        "s.id AS subscriber_id, s.status AS subscriber_status, "
        # "+ 0": MIN(e.row) would let the planner walk the row index from the
        # file's start looking for the address (once per row: quadratic);
        # this way it finds the address's rows by the email index.
        f"(SELECT MIN(e.row + 0) FROM {rows} e WHERE e.email = st.email AND e.row < st.row) "
        "AS first_row, "
        f"(SELECT MIN(sp.reason) FROM {suppression} sp WHERE sp.email = st.email "
        "AND sp.lifted_at IS NULL) AS suppression, "
        f"{blocked} AS blocked, {erased} AS erased "
        f"FROM {rows} st {known} WHERE st.row >= %s AND st.row < %s",
        [*blocked_params, *erased_params],
    )


def resolve_batch(import_id: int, first_row: int, end_row: int) -> None:
    """Resolve the staged rows ``first_row <= row < end_row`` into the resolved
    table: the reader does this for each batch it commits, in the same
    transaction, while the rows before are being applied."""
    resolved, params = _resolved_sql(import_id)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {staging.quoted_resolved(import_id)} (row, line, email, name, "
            "attributes, subscriber_id, subscriber_status, first_row, suppression, blocked, "
            f"erased) {resolved}",
            [*params, first_row, end_row],
        )


def rows_sql(import_id: int, mode: str) -> str:
    """The resolved rows in ``[%s, %s)`` with their reason to be skipped (two params)."""
    return (
        f"SELECT r.*, {_reason_sql(mode)} AS reason, 0 AS created "
        f"FROM {staging.quoted_resolved(import_id)} r WHERE r.row >= %s AND r.row < %s"
    )


def _batch_sql(import_id: int, mode: str) -> tuple[str, list[Any]]:
    """The batch's rows, as ``rows_sql``. On PostgreSQL each new address draws
    its subscriber's id from the sequence here (``created`` = 1), so the
    statements that follow need no lookup by address to find the new rows."""
    rows = rows_sql(import_id, mode)
    if connection.vendor != "postgresql" or mode == Import.Mode.UPDATE:
        return rows, []
    new = "y.reason IS NULL AND y.subscriber_id IS NULL"
    return (
        "SELECT y.row, y.line, y.email, y.name, y.attributes, y.subscriber_status, y.reason, "
        f"CASE WHEN {new} THEN nextval(%s::regclass) ELSE y.subscriber_id END AS subscriber_id, "
        f"CASE WHEN {new} THEN 1 ELSE 0 END AS created FROM ({rows}) y",
        [_id_sequence()],
    )


def _id_sequence() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [Subscriber._meta.db_table])
        return str(cursor.fetchone()[0])


def count_batch(import_run: Import, first_row: int, end_row: int) -> tuple[int, int, int]:
    """What applying the rows ``first_row <= row < end_row`` now would give:
    (new, existing, skipped). A dry run counts this way."""
    rows = rows_sql(import_run.pk, import_run.mode)
    sql = f"""
        SELECT
            SUM(CASE WHEN reason IS NULL AND subscriber_id IS NULL THEN 1 ELSE 0 END),
            SUM(CASE WHEN reason IS NULL AND subscriber_id IS NOT NULL THEN 1 ELSE 0 END),
            SUM(CASE WHEN reason IS NOT NULL THEN 1 ELSE 0 END)
        FROM ({rows}) y
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [first_row, end_row])
        new, existing, skipped = cursor.fetchone()
    return int(new or 0), int(existing or 0), int(skipped or 0)


def _json(expression: str) -> str:
    return (
        f"CAST({expression} AS jsonb)"
        if connection.vendor == "postgresql"
        else f"json({expression})"
    )


def _merge(base: str, extra: str) -> str:
    """``base`` with ``extra``'s keys on top."""
    if connection.vendor == "postgresql":
        return f"({base} || {extra})"
    return f"json_patch({base}, {extra})"


def _distinct(left: str, right: str) -> str:
    operator = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    return f"({left}) {operator} ({right})"


def apply_batch(
    *, import_run: Import, first_row: int, end_row: int, list_ids: list[int], now: datetime
) -> Outcome:
    """Apply staged rows ``first_row <= row < end_row``; the caller holds the transaction."""
    subscriber = _q(Subscriber._meta.db_table)
    problem = _q(ImportProblem._meta.db_table)
    mode = import_run.mode
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Compiling these plans costs more than running them on a batch.
            cursor.execute("SET LOCAL jit = off")
    batch_sql, batch_params = _batch_sql(import_run.pk, mode)
    with (
        staging.batch_table(batch_sql, [*batch_params, first_row, end_row]) as batch,
        connection.cursor() as cursor,
    ):
        _hold_existing(cursor, batch)
        cursor.execute(
            f"INSERT INTO {problem} (import_run_id, row, line, {_q('column')}, value, reason) "
            f"SELECT %s, row, line, 'email', substr(email, 1, 200), reason FROM {batch} "
            "WHERE reason IS NOT NULL",
            [import_run.pk],
        )
        if mode != Import.Mode.UPDATE:
            status = (
                Subscriber.Status.BLOCKLISTED
                if mode == Import.Mode.BLOCKLIST
                else Subscriber.Status.ENABLED
            )
            _create_subscribers(cursor, batch, status, now)
        if mode == Import.Mode.BLOCKLIST:
            cursor.execute(
                f"UPDATE {subscriber} SET status = %s, updated_at = %s WHERE status <> %s "
                f"AND id IN (SELECT subscriber_id FROM {batch} "
                "WHERE reason IS NULL AND created = 0)",
                [Subscriber.Status.BLOCKLISTED, now, Subscriber.Status.BLOCKLISTED],
            )
            _record_blocklisted(cursor, batch, import_run, now)
        else:
            _update_existing(cursor, batch, overwrite=import_run.overwrite, now=now)
        to_confirm: list[int] = []
        if mode == Import.Mode.SUBSCRIBE and list_ids:
            to_confirm = _subscribe(cursor, batch, import_run, list_ids, now)
        cursor.execute(
            "SELECT SUM(CASE WHEN reason IS NULL AND created = 1 THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN reason IS NULL AND created = 0 THEN 1 ELSE 0 END), "
            f"SUM(CASE WHEN reason IS NOT NULL THEN 1 ELSE 0 END) FROM {batch}"
        )
        imported, updated, skipped = cursor.fetchone()
    return Outcome(int(imported or 0), int(updated or 0), int(skipped or 0), to_confirm)


def hold_lists(list_ids: list[int]) -> int:
    """Lock the import's lists against deletion until commit; how many exist."""
    if not list_ids:
        return 0
    lock = " FOR KEY SHARE" if connection.vendor == "postgresql" else ""
    placeholders = ", ".join(["%s"] * len(list_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {_q(MailingList._meta.db_table)} WHERE id IN ({placeholders}){lock}",
            list_ids,
        )
        return len(cursor.fetchall())


def _hold_existing(cursor: Any, batch: str) -> None:
    """Lock the batch's known subscribers against deletion until the batch
    commits (what a foreign key's trigger would do, once per batch instead of
    once per row), and treat any deleted since the batch was resolved as new."""
    subscriber = _q(Subscriber._meta.db_table)
    known = "subscriber_id IS NOT NULL AND created = 0"
    cursor.execute(f"SELECT COUNT(*) FROM {batch} WHERE {known}")
    (count,) = cursor.fetchone()
    if not count:
        return  # all new: nothing to hold (the common case of a first import)
    if connection.vendor == "postgresql":
        cursor.execute(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM {subscriber} s JOIN {batch} b "
            "ON s.id = b.subscriber_id WHERE b.created = 0 FOR KEY SHARE OF s) held"
        )
        if cursor.fetchone()[0] == count:
            return
    cursor.execute(
        f"UPDATE {batch} SET subscriber_id = NULL, subscriber_status = NULL "
        f"WHERE {known} AND NOT EXISTS "
        f"(SELECT 1 FROM {subscriber} s WHERE s.id = {batch}.subscriber_id)"
    )


def _create_subscribers(cursor: Any, batch: str, status: str, now: datetime) -> None:
    """The batch's new addresses become subscribers; afterwards every row
    without a reason to skip it has its ``subscriber_id``."""
    subscriber = _q(Subscriber._meta.db_table)
    values = f"COALESCE(name, ''), {_json('attributes')}, %s, %s, %s FROM {batch}"
    if connection.vendor == "postgresql":
        # The ids were drawn with the batch. Nobody else can have taken them,
        # only an address: a subscriber added since the batch was resolved (a
        # signup, say). Then this batch falls back to the slower statement
        # that skips those, and treats them as known.
        insert = (
            f"INSERT INTO {subscriber} (id, email, name, attributes, status, created_at, "
            f"updated_at) SELECT subscriber_id, email, {values} WHERE created = 1"
        )
        try:
            with transaction.atomic():
                cursor.execute(insert, [status, now, now])
            return
        except IntegrityError:
            cursor.execute(f"{insert} ON CONFLICT (email) DO NOTHING", [status, now, now])
        cursor.execute(
            f"UPDATE {batch} SET created = 0, subscriber_id = s.id, subscriber_status = s.status "
            f"FROM {subscriber} s WHERE {batch}.created = 1 AND s.email = {batch}.email "
            f"AND s.id <> {batch}.subscriber_id"
        )
        return
    cursor.execute(
        f"INSERT INTO {subscriber} (email, name, attributes, status, created_at, updated_at) "
        f"SELECT email, {values} WHERE reason IS NULL AND subscriber_id IS NULL "
        "ON CONFLICT (email) DO NOTHING",
        [status, now, now],
    )
    cursor.execute(
        f"UPDATE {batch} SET created = 1, subscriber_id = "
        f"(SELECT s.id FROM {subscriber} s WHERE s.email = {batch}.email) "
        "WHERE reason IS NULL AND subscriber_id IS NULL",
    )


def _update_existing(cursor: Any, batch: str, *, overwrite: bool, now: datetime) -> None:
    subscriber = _q(Subscriber._meta.db_table)
    table = subscriber
    staged = _json("b.attributes")
    if overwrite:
        name = "COALESCE(b.name, s.name)"
        attributes = _merge("s.attributes", staged)
    else:
        name = "CASE WHEN s.name = '' THEN COALESCE(b.name, '') ELSE s.name END"
        attributes = _merge(staged, "s.attributes")
    current = "s.attributes" if connection.vendor == "postgresql" else "json(s.attributes)"
    cursor.execute(
        f"UPDATE {table} AS s SET name = {name}, attributes = {attributes}, updated_at = %s "
        f"FROM {batch} AS b WHERE s.id = b.subscriber_id AND b.created = 0 AND b.reason IS NULL "
        f"AND ({_distinct(name, 's.name')} OR {_distinct(attributes, current)})",
        [now],
    )


def _subscribe(
    cursor: Any, batch: str, import_run: Import, list_ids: list[int], now: datetime
) -> list[int]:
    """Subscribe the batch's rows to the lists; the ids of the new unconfirmed
    subscriptions to double opt-in lists (they are asked to confirm).

    A new subscription carries its consent record itself (``import_run``);
    one the import changed (confirmed, or unsubscribed, by the file) gets a
    ledger row. The statement tells them apart by what it returns: a row it
    updated keeps the ``import_run`` it had.
    """
    subscription = _q(Subscription._meta.db_table)
    lists = _q(MailingList._meta.db_table)
    status = import_run.subscription_status
    confirmed = status == Subscription.Status.CONFIRMED
    unsubscribed = status == Subscription.Status.UNSUBSCRIBED
    if confirmed:
        on_conflict = (
            "DO UPDATE SET status = excluded.status, confirmed_at = excluded.confirmed_at, "
            "confirmed_via = excluded.confirmed_via, confirmed_by_id = excluded.confirmed_by_id, "
            f"updated_at = excluded.updated_at WHERE {subscription}.status = %s"
        )
        conflict_params: list[Any] = [Subscription.Status.UNCONFIRMED]
    elif unsubscribed:
        on_conflict = (
            "DO UPDATE SET status = excluded.status, unsubscribed_at = excluded.unsubscribed_at, "
            f"updated_at = excluded.updated_at WHERE {subscription}.status <> %s"
        )
        conflict_params = [Subscription.Status.UNSUBSCRIBED]
    else:
        on_conflict = "DO NOTHING"
        conflict_params = []
    conflict = f"ON CONFLICT (subscriber_id, mailing_list_id) {on_conflict}"
    placeholders = ", ".join(["%s"] * len(list_ids))

    def insert(rows: str, conflict: str) -> str:
        return (
            f"INSERT INTO {subscription} (subscriber_id, mailing_list_id, status, created_at, "
            "updated_at, confirmed_at, unsubscribed_at, confirmed_via, confirmed_by_id, "
            "import_run_id) "
            f"SELECT b.subscriber_id, l.id, %s, %s, %s, %s, %s, %s, %s, %s FROM {batch} b "
            f"CROSS JOIN {lists} l WHERE l.id IN ({placeholders}) AND b.reason IS NULL "
            f"AND {rows} {conflict} "
            "RETURNING id, subscriber_id, mailing_list_id, status, import_run_id"
        )

    values = [
        status,
        now,
        now,
        now if confirmed else None,
        now if unsubscribed else None,
        Subscription.ConfirmedVia.IMPORT if confirmed else "",
        import_run.created_by_id if confirmed else None,
        import_run.pk,
        *list_ids,
    ]
    # Only new unconfirmed subscriptions of double opt-in lists are asked.
    double = []
    if status == Subscription.Status.UNCONFIRMED:
        double = list(
            MailingList.objects.filter(pk__in=list_ids, optin=MailingList.OptIn.DOUBLE).values_list(
                "pk", flat=True
            )
        )
    event = _event(ConsentEvent.Kind.IMPORTED, import_run, now)
    consent = f"INSERT INTO {_q(ConsentEvent._meta.db_table)} {CONSENT_COLUMNS}"
    if connection.vendor == "postgresql":
        # A subscriber this batch created has no subscription to conflict
        # with: its rows skip the conflict check (a third of the insert's
        # cost). For the others, one statement: what the INSERT returns feeds
        # the ledger rows of the changed ones, with no join back to find them.
        wanted = f"mailing_list_id IN ({', '.join(['%s'] * len(double))})" if double else "false"
        asked = f"SELECT id FROM changed WHERE status = %s AND {wanted}"
        cursor.execute(
            f"WITH changed AS ({insert('b.created = 1', '')}) {asked}",
            [*values, Subscription.Status.UNCONFIRMED, *double],
        )
        to_confirm = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            f"WITH changed AS ({insert('b.created = 0', conflict)}), logged AS ({consent} "
            "SELECT subscriber_id, mailing_list_id, %s, %s, status, NULL, '', '', "
            "%s, %s, %s, %s, %s FROM changed WHERE import_run_id IS DISTINCT FROM %s) "
            f"{asked}",
            [
                *values,
                *conflict_params,
                *event,
                import_run.pk,
                Subscription.Status.UNCONFIRMED,
                *double,
            ],
        )
        to_confirm.extend(row[0] for row in cursor.fetchall())
        return sorted(to_confirm)
    cursor.execute(insert("1 = 1", conflict), [*values, *conflict_params])
    changed = cursor.fetchall()
    kind, via, *rest = event
    cursor.executemany(
        f"{consent} VALUES (%s, %s, %s, %s, %s, NULL, '', '', %s, %s, %s, %s, %s)",
        [
            (subscriber_id, list_id, kind, via, state, *rest)
            for _, subscriber_id, list_id, state, source in changed
            if source != import_run.pk
        ],
    )
    return sorted(
        pk
        for pk, _, list_id, state, _ in changed
        if state == Subscription.Status.UNCONFIRMED and list_id in double
    )


def _record_blocklisted(cursor: Any, batch: str, import_run: Import, now: datetime) -> None:
    # The batch knows each row's status before: new ones and those not yet
    # blocklisted are the ones this batch blocklisted.
    cursor.execute(
        f"INSERT INTO {_q(ConsentEvent._meta.db_table)} {CONSENT_COLUMNS} "
        "SELECT subscriber_id, NULL, %s, %s, '', NULL, '', '', %s, %s, %s, %s, %s "
        f"FROM {batch} WHERE reason IS NULL AND (created = 1 OR subscriber_status <> %s)",
        [*_event(ConsentEvent.Kind.BLOCKLISTED, import_run, now), Subscriber.Status.BLOCKLISTED],
    )


def _event(kind: str, import_run: Import, now: datetime) -> list[Any]:
    """The consent columns after the subscription's own: kind, via, who, which import, when."""
    actor = import_run.created_by_name
    note = f"file {import_run.original_name}"[:300]
    return [
        kind,
        ConsentEvent.Via.IMPORT,
        import_run.created_by_id,
        actor,
        import_run.pk,
        note,
        now,
    ]
