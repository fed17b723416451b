"""Docmost sends no webhooks (contracts/README.md section 6): a schedule polls `/api/pages/recent` of the
configured spaces (the target space and, when it is another one, the formation space; never the other
spaces the bot belongs to) and `/api/shares` of every space (a public share anywhere is a leak worth an
alert), newest first, back to the cursor of the previous poll, and stores each change a rule
cares about as an event of source "docmost". Event ids name the page or the share, so a second poll
seeing the same change stores nothing new; the events then flow through the same pipeline.
"""

import json
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from formation_hub.audit import audit_record
from formation_hub.observability.correlation import current_correlation_id
from sync import conf
from sync.clients.docmost import DocmostClient
from sync.clients.factory import docmost_client, docmost_connection, formation_space_id, target_space_id
from sync.models import Event, EventItem, PollCursor
from sync.processing.enqueue import event_enqueue
from sync.rules.docmost_changes import is_compte_rendu

ACTOR = "sync-docmost-poll"


@dataclass
class PollResult:
    pages_seen: int = 0
    shares_seen: int = 0
    stored: int = 0

    def __str__(self):
        return f"{self.pages_seen} page(s) and {self.shares_seen} share(s) changed, {self.stored} event(s) stored"


def docmost_event_store(*, event_type: str, event_id: str, entity_key: str, data: dict) -> Event | None:
    """Store one change as an event with its one item and enqueue it; None when already stored."""
    key = {"source": Event.Source.DOCMOST, "webhook_id": None, "event_id": event_id, "batch_id": 0}
    if Event.objects.filter(**key).exists():
        return None
    now = timezone.now()
    try:
        with transaction.atomic():
            event = Event.objects.create(
                **key, event_type=event_type, row_count=1, raw_body=json.dumps(data, ensure_ascii=False),
                headers={}, correlation_id=current_correlation_id(), received_at=now,
            )
            EventItem.objects.create(event=event, position=0, entity_key=entity_key[:120], data=data,
                                     created_at=now)
            event_enqueue(event=event)
    except IntegrityError:
        return None
    return event


def _newer_than(entry: dict, position: dict) -> bool:
    if not position:
        return True
    seen = (position.get("updatedAt") or "", position.get("id") or "")
    return (entry.get("updatedAt") or "", entry.get("id") or "") > seen


def _walk(cursor: PollCursor, entries) -> list[dict]:
    """The entries newer than the cursor (lists come newest first), and the cursor moved to the newest."""
    fresh = []
    for entry in entries:
        if not _newer_than(entry, cursor.position):
            break
        fresh.append(entry)
    if fresh:
        cursor.position = {"updatedAt": fresh[0].get("updatedAt"), "id": fresh[0].get("id")}
    cursor.polled_at = timezone.now()
    return fresh


def polled_spaces(client: DocmostClient, connection) -> list[tuple[str, str]]:
    """(cursor name, space id) of each space whose pages are polled: the target space, then the formation
    space when it is another one."""
    target = target_space_id(client, connection)
    spaces = [("docmost.pages", target)]
    formation = formation_space_id(client, connection)
    if formation != target:
        spaces.append((f"docmost.pages.{connection.formation_space_slug}", formation))
    return spaces


def docmost_poll(*, client: DocmostClient | None = None) -> PollResult:
    """One poll of pages and shares; the cursor only moves once what it covers is stored."""
    connection = docmost_connection()
    client = client or docmost_client(connection)
    limit = conf.docmost_poll_max_items()
    result = PollResult()
    for cursor_name, space_id in polled_spaces(client, connection):
        pages_cursor, _ = PollCursor.objects.get_or_create(name=cursor_name)
        pages = _walk(pages_cursor, client.iter_recent_pages(space_id=space_id, max_items=limit))
        result.pages_seen += len(pages)
        for page in reversed(pages):
            if is_compte_rendu(page, connection):
                result.stored += docmost_event_store(
                    event_type="page.created", event_id=f"page:{page['id']}",
                    entity_key=f"docmost:page:{page['id']}", data=page,
                ) is not None
        pages_cursor.save()
    shares_cursor, _ = PollCursor.objects.get_or_create(name="docmost.shares")
    shares = _walk(shares_cursor, client.iter_shares(max_items=limit))
    result.shares_seen = len(shares)
    for share in reversed(shares):
        result.stored += docmost_event_store(
            event_type="share.created", event_id=f"share:{share['id']}", entity_key=f"docmost:share:{share['id']}",
            data=share,
        ) is not None
    shares_cursor.save()
    if result.stored:
        audit_record(action="sync.docmost.polled", actor_label=ACTOR, changes={"stored": result.stored},
                     message=str(result))
    return result
