"""Claiming an event and its items: conditional UPDATEs, so two workers never run the same work.

Each claim is one statement that also returns the row it took (`UPDATE ... RETURNING`, on PostgreSQL
and SQLite alike): the worker does not read it again. The statements are written out and built once
per process (`formation_hub.hot_sql`): every event runs them.
"""

# ruff: noqa: S608 - the SQL is built from the models' table names only; every value is a parameter.

from datetime import timedelta
from functools import cache

from django.utils import timezone

from formation_hub.hot_sql import db_datetime, default_connection, instance_from_row, select_columns, update_by_pk
from sync import conf
from sync.models import Event, EventItem

EVENT, ITEM = Event._meta.db_table, EventItem._meta.db_table
CLAIMABLE_EVENT_STATES = (Event.State.RECEIVED, Event.State.FAILED)
RETRIED_ITEM_STATES = (EventItem.State.FAILED, EventItem.State.WAITING)


def _stale(now):
    return now - timedelta(seconds=conf.stuck_after_seconds())


@cache
def _event_claim_sql(vendor: str) -> str:
    return (
        f"UPDATE {EVENT} SET state = %s, claimed_at = %s, attempts = attempts + 1 "
        f"WHERE id = %s AND (state IN (%s, %s) OR (state = %s AND claimed_at < %s)) "
        f"RETURNING {select_columns(Event)}"
    )


def event_claim(event_id: int) -> Event | None:
    """The event, claimed for this worker; None when another worker holds it or it is done."""
    connection = default_connection()
    now = db_datetime(timezone.now(), connection)
    with connection.cursor() as cursor:
        cursor.execute(_event_claim_sql(connection.vendor), [
            Event.State.PROCESSING, now, event_id, *CLAIMABLE_EVENT_STATES, Event.State.PROCESSING,
            db_datetime(_stale(timezone.now()), connection),
        ])
        row = cursor.fetchone()
    return instance_from_row(Event, row) if row is not None else None


# An item is due when pending, or failed/waiting with its next attempt time reached.
_DUE = "(state = %s OR (state IN (%s, %s) AND next_attempt_at <= %s))"
_FOLLOWING = f"event_id = %s AND {_DUE} AND \"position\" > %s"
_FREE = "(claimed_at IS NULL OR claimed_at < %s)"


@cache
def _item_claim_sql(vendor: str) -> str:
    """Claim the first free due item after a position, returning it and the last due position."""
    return (
        f"UPDATE {ITEM} SET claimed_at = %s WHERE {_FOLLOWING} AND {_FREE} AND id IN ("
        f"SELECT id FROM {ITEM} WHERE {_FOLLOWING} AND {_FREE} ORDER BY \"position\" LIMIT 1) "
        f"RETURNING {select_columns(EventItem)}, (SELECT MAX(\"position\") FROM {ITEM} WHERE {_FOLLOWING})"
    )


def item_claim_next(event: Event, after_position: int) -> tuple[EventItem | None, bool]:
    """(The event's next item after `after_position` due now and run by no other worker, claimed, or None
    when none is left; whether it is the last such item). The condition is checked again on the row the
    UPDATE takes, so two workers never take one item. Positions only go forward: an item run in this pass
    and due again at once (waiting for a circuit whose probe is overdue) waits for the next pass."""
    connection = default_connection()
    now = timezone.now()
    now_param, stale_param = db_datetime(now, connection), db_datetime(_stale(now), connection)
    following = [event.pk, EventItem.State.PENDING, *RETRIED_ITEM_STATES, now_param, after_position]
    with connection.cursor() as cursor:
        cursor.execute(_item_claim_sql(connection.vendor), [
            now_param, *following, stale_param, *following, stale_param, *following,
        ])
        row = cursor.fetchone()
    if row is None:
        return None, False
    item = instance_from_row(EventItem, row)
    item.event = event
    return item, item.position >= row[-1]


def _while_claimed(event: Event) -> dict:
    """The condition of a write that holds only while this worker's claim on the event does."""
    return {
        "condition": "state = %s AND claimed_at = %s",
        "condition_params": (Event.State.PROCESSING, db_datetime(event.claimed_at)),
    }


def claim_renew(event: Event) -> bool:
    """Keep the event's claim fresh while it runs, so the sweeper does not hand it to a second worker;
    False when another worker took it over (this one must stop)."""
    now = timezone.now()
    if not update_by_pk(Event, event.pk, {"claimed_at": now}, **_while_claimed(event)):
        return False
    event.claimed_at = now
    return True


def claimed_event_update(event: Event, values: dict) -> bool:
    """Write `values` on the event (and the instance) while this worker's claim holds; False when another
    worker took the event over (its outcome is that one's to write)."""
    if not update_by_pk(Event, event.pk, dict(values), **_while_claimed(event)):
        return False
    for name, value in values.items():
        setattr(event, name, value)
    return True
