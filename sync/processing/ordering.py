"""Per-entity order and the loop check: an item waits behind the older items of its row, the next one
runs as soon as it is done, and too many events on one row within a minute raise a loop alert.

Every item runs `entity_look` before its handler and `item_outcome_save` after it; both are one
written-out statement built once per process (`formation_hub.hot_sql`). The look also tells whether a
circuit the handler needs is open, and the outcome write returns the item waiting behind this one.
"""

# ruff: noqa: S608 - the SQL is built from the models' table names only; every value is a parameter.

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from formation_hub.audit import audit_record
from formation_hub.hot_sql import db_datetime, default_connection, update_by_pk, update_instance
from formation_hub.models import AuditEntry
from formation_hub.notifications import notify
from sync import conf
from sync.clients.circuits import circuit_open_for
from sync.models import EventItem, LoopAlert, ServiceCircuit
from sync.processing.enqueue import WORKER, event_id_enqueue

NOT_DONE = EventItem.NOT_DONE
BEHIND = "waiting behind older item"
ITEM, CIRCUIT = EventItem._meta.db_table, ServiceCircuit._meta.db_table
# What the worker writes on an item once it has run (or must wait).
OUTCOME_FIELDS = ("state", "reason", "attempts", "next_attempt_at", "last_error", "processed_at", "claimed_at")


@dataclass(frozen=True)
class EntityLook:
    blocker: EventItem | None  # the older item of the same row not done yet: the item waits for it
    loop_counts: tuple[int, int]  # the row's items the minute before and the minute after the item
    circuit: ServiceCircuit | None  # an open circuit of a service the handler needs


def _older(item: EventItem) -> Q:
    return Q(created_at__lt=item.created_at) | Q(created_at=item.created_at, pk__lt=item.pk)


@lru_cache(maxsize=8)
def _look_sql(vendor: str, services: int) -> str:
    older = "(created_at < %s OR (created_at = %s AND id < %s))"
    open_circuits = (
        f"(SELECT COUNT(*) FROM {CIRCUIT} WHERE state = %s AND service IN ({', '.join(['%s'] * services)}))"
        if services else "0"
    )
    return (
        f"SELECT COUNT(CASE WHEN {older} AND state IN (%s, %s, %s) THEN 1 END), "
        "COUNT(CASE WHEN created_at >= %s AND created_at <= %s THEN 1 END), "
        "COUNT(CASE WHEN created_at >= %s AND created_at <= %s THEN 1 END), "
        f"{open_circuits} FROM {ITEM} WHERE entity_key = %s"
    )


def entity_look(item: EventItem, services: tuple[str, ...]) -> EntityLook:
    """One statement counts what the item must know before it runs; the blocker and the circuit are read
    only when there is one."""
    if not item.entity_key:
        return EntityLook(None, (0, 0), circuit_open_for(services) if services else None)
    connection = default_connection()
    minute, at = timedelta(minutes=1), item.created_at
    created, before, after = (db_datetime(value, connection) for value in (at, at - minute, at + minute))
    params = [created, created, item.pk, *NOT_DONE, before, created, created, after]
    if services:
        params += [ServiceCircuit.State.OPEN, *services]
    with connection.cursor() as cursor:
        cursor.execute(_look_sql(connection.vendor, len(services)), [*params, item.entity_key])
        blockers, in_minute_before, in_minute_after, open_circuits = cursor.fetchone()
    blocker = None
    if blockers:
        blocker = (
            EventItem.objects.filter(_older(item), entity_key=item.entity_key, state__in=NOT_DONE)
            .order_by("created_at", "pk").first()
        )
    circuit = circuit_open_for(services) if open_circuits else None
    return EntityLook(blocker, (in_minute_before, in_minute_after), circuit)


@lru_cache(maxsize=2)
def _successor_sql(vendor: str) -> str:
    return (
        f"(SELECT id FROM {ITEM} WHERE entity_key = %s AND state = %s AND reason LIKE %s AND id <> %s "
        "ORDER BY created_at, id LIMIT 1)"
    )


def item_outcome_save(item: EventItem) -> None:
    """Write the item's outcome; once it is done, the next item of its row waiting behind it runs now,
    not at the next sweep (the same statement finds it)."""
    if item.state not in EventItem.TERMINAL or not item.entity_key:
        update_instance(item, OUTCOME_FIELDS)
        return
    (successor,) = update_instance(
        item, OUTCOME_FIELDS, returning=_successor_sql(default_connection().vendor),
        returning_params=(item.entity_key, EventItem.State.WAITING, f"{BEHIND}%", item.pk),
    )
    if successor is not None:
        woken = update_by_pk(EventItem, successor, {"next_attempt_at": timezone.now()}, returning="event_id")
        if woken is not None:
            event_id_enqueue(woken[0])


def loop_check(item: EventItem, counts: tuple[int, int]) -> None:
    """More than the threshold of events on one entity within a minute (`counts`: the minute before and
    the minute after the item, as later items are already stored when processing lags): store an alert,
    notify once. The open alert is looked for only when the threshold is passed."""
    count = max(counts)
    if count <= conf.loop_alert_threshold():
        return
    if LoopAlert.objects.filter(entity_key=item.entity_key, resolved_at__isnull=True).exists():
        return
    minute, at = timedelta(minutes=1), item.created_at
    same_entity = EventItem.objects.filter(entity_key=item.entity_key)
    windows = [
        same_entity.filter(created_at__gte=at - minute, created_at__lte=at),
        same_entity.filter(created_at__gte=at, created_at__lte=at + minute),
    ]
    recent = windows[counts.index(count)]
    try:
        with transaction.atomic():
            alert = LoopAlert.objects.create(
                entity_key=item.entity_key, event_count=count, detected_at=timezone.now(),
                first_event_at=recent.order_by("created_at").values_list("created_at", flat=True).first(),
            )
    except IntegrityError:
        return
    audit_record(
        action="sync.loop.detected", target=alert, actor_label=WORKER, result=AuditEntry.Result.FAILED,
        changes={"entity": item.entity_key, "events": count}, message=str(alert),
    )
    notify(
        kind="sync.loop", target=alert, dedupe_key=f"sync.loop:{alert.pk}",
        subject=f"[sync] possible loop on {item.entity_key}: {count} events in one minute",
        body=(
            f"{count} events arrived for {item.entity_key} within a minute (threshold "
            f"{conf.loop_alert_threshold()}). A sync loop or a runaway integration is likely: check the "
            "events of this row in the console (Sync > Events, search the row), and the Baserow webhooks "
            "and integrations writing to it. Mark the alert resolved in the console once fixed."
        ),
    )
