"""Claiming an event and its items: conditional UPDATEs, so two workers never run the same work.

Each claim is one statement that also returns the row it took (`UPDATE ... RETURNING`, on PostgreSQL
and SQLite alike): the worker does not read it again.
"""

from datetime import timedelta

from django.db import connections
from django.db.models import F, Max, Q, QuerySet, Subquery
from django.db.models.sql import UpdateQuery
from django.utils import timezone

from sync import conf
from sync.models import Event, EventItem


def _update_returning(queryset: QuerySet, *, also: QuerySet | None = None, **values) -> list[tuple]:
    """`queryset.update(**values)` returning each updated row (in no set order) as (model instance, the
    value of `also`): a queryset of one value, read in the same statement, before the update."""
    model, using = queryset.model, queryset.db
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    sql, params = query.get_compiler(using).as_sql()
    connection = connections[using]
    fields = model._meta.concrete_fields
    quote = connection.ops.quote_name
    returning = ", ".join(f"{quote(model._meta.db_table)}.{quote(field.column)}" for field in fields)
    if also is not None:
        also_sql, also_params = also.query.sql_with_params()
        returning, params = f"{returning}, ({also_sql})", (*params, *also_params)
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING {returning}", params)
        rows = cursor.fetchall()
    columns = [field.get_col(model._meta.db_table) for field in fields]
    converters = [
        (index, [*connection.ops.get_db_converters(column), *column.get_db_converters(connection)], column)
        for index, column in enumerate(columns)
    ]
    updated = []
    for row in rows:
        row = list(row)
        for index, column_converters, column in converters:
            for converter in column_converters:
                row[index] = converter(row[index], column, connection)
        instance = model.from_db(using, [field.attname for field in fields], row[:len(fields)])
        updated.append((instance, row[len(fields)] if also is not None else None))
    return updated


def _stale(now):
    return now - timedelta(seconds=conf.stuck_after_seconds())


def event_claim(event_id: int) -> Event | None:
    """The event, claimed for this worker; None when another worker holds it or it is done."""
    now = timezone.now()
    claimable = Q(state__in=[Event.State.RECEIVED, Event.State.FAILED]) | Q(
        state=Event.State.PROCESSING, claimed_at__lt=_stale(now)
    )
    claimed = _update_returning(
        Event.objects.filter(claimable, pk=event_id),
        state=Event.State.PROCESSING, claimed_at=now, attempts=F("attempts") + 1,
    )
    return claimed[0][0] if claimed else None


def item_due() -> Q:
    return Q(state=EventItem.State.PENDING) | Q(
        state__in=[EventItem.State.FAILED, EventItem.State.WAITING], next_attempt_at__lte=timezone.now()
    )


def item_claim_next(event: Event, after_position: int) -> tuple[EventItem | None, bool]:
    """(The event's next item after `after_position` due now and run by no other worker, claimed, or None
    when none is left; whether it is the last such item). The condition is checked again on the row the
    UPDATE takes, so two workers never take one item. Positions only go forward: an item run in this pass
    and due again at once (waiting for a circuit whose probe is overdue) waits for the next pass."""
    now = timezone.now()
    due = EventItem.objects.filter(item_due(), event=event, position__gt=after_position)
    claimable = due.filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=_stale(now)))
    following = claimable.order_by("position").values("pk")[:1]
    claimed = _update_returning(
        claimable.filter(pk__in=Subquery(following)), claimed_at=now,
        also=due.order_by().values("event").annotate(last=Max("position")).values("last"),
    )
    if not claimed:
        return None, False
    item, last_due_position = claimed[0]
    item.event = event
    return item, item.position >= last_due_position


def claim_renew(event: Event) -> bool:
    """Keep the event's claim fresh while it runs, so the sweeper does not hand it to a second worker;
    False when another worker took it over (this one must stop)."""
    now = timezone.now()
    renewed = Event.objects.filter(pk=event.pk, state=Event.State.PROCESSING, claimed_at=event.claimed_at).update(
        claimed_at=now
    )
    if renewed:
        event.claimed_at = now
    return bool(renewed)


def still_claimed(event: Event) -> QuerySet:
    """The event, as long as this worker's claim on it holds (for the conditional write of its outcome)."""
    return Event.objects.filter(pk=event.pk, state=Event.State.PROCESSING, claimed_at=event.claimed_at)
