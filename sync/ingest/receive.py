"""Receiving a delivery: authenticate, validate the envelope, store it with its items, enqueue.

Nothing here calls another service: Baserow gives up on a call after 5 seconds and switches the
webhook off after about nine failures (contracts/README.md 2.3), so the answer must be immediate.
"""

import contextlib
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from formation_hub import inbound
from formation_hub.observability.correlation import current_correlation_id
from sync import conf
from sync.config_cache import config_forget, mapping_for_table
from sync.ingest.event_store import delivery_insert, delivery_stored_id, is_single_statement
from sync.models import Event, EventItem, RejectedCall
from sync.processing.enqueue import event_enqueue_stored, queue_commits_with_the_event
from sync.processing.pipeline import ingest_ignore_reason
from sync.processing.routing import ROW_EVENT_TYPES

logger = logging.getLogger(__name__)

ENVELOPE_KEYS = ("event_id", "event_type", "table_id", "webhook_id")
OPTIONAL_INT_KEYS = ("database_id", "workspace_id")


class InvalidDelivery(inbound.InboundRefused):
    status = 400


class TooManyRows(InvalidDelivery):
    status = 413


@dataclass(frozen=True)
class Received:
    event_id: int
    duplicate: bool


def secret_is_valid(given: str) -> bool:
    """Constant time against every valid secret (no early exit reveals which one nearly matched)."""
    secrets = conf.webhook_secrets()
    if not secrets:
        logger.error(
            "BASEROW_WEBHOOK_SECRETS is not set: every Baserow webhook call is refused (401). "
            "Set it to the secret configured in the webhook's %s header.", conf.webhook_secret_header()
        )
        return False
    return inbound.secret_matches(given, secrets)


def rejected_call_record(*, source: str, reason: str, remote_addr: str = "") -> None:
    inbound.refusal_record(source=source, reason=reason, remote_addr=remote_addr, counter=RejectedCall)


MAX_ID = 2**63 - 1
MAX_BATCH = 2**31 - 1


def _is_int(value, maximum: int = MAX_ID) -> bool:
    """A JSON integer that fits the database column (booleans are not integers here)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= maximum


def _check_row_count(payload: dict) -> None:
    limit = conf.webhook_max_rows()
    for key in ("items", "rows", "row_ids"):
        rows = payload.get(key)
        if isinstance(rows, list) and len(rows) > limit:
            raise TooManyRows(
                f"{key} holds {len(rows)} rows; at most {limit} are accepted in one delivery (SYNC_WEBHOOK_MAX_ROWS). "
                "Baserow sends at most 200 a call."
            )


def parse_delivery(raw: bytes) -> dict:
    """The payload as a dict, or InvalidDelivery saying exactly what is wrong (TooManyRows: 413)."""
    if not raw:
        raise InvalidDelivery("Empty body: a Baserow webhook sends a JSON object.")
    try:
        payload = inbound.json_parse(raw)
    except inbound.InboundRefused as error:
        raise InvalidDelivery(error.message) from error
    if not isinstance(payload, dict):
        raise InvalidDelivery(f"Body must be a JSON object, not {type(payload).__name__}.")
    missing = [key for key in ENVELOPE_KEYS if key not in payload]
    if missing:
        raise InvalidDelivery(f"Missing envelope key(s): {', '.join(missing)}.")
    for key in ("event_id", "event_type"):
        if isinstance(payload[key], str) and "\x00" in payload[key]:
            raise InvalidDelivery(f"{key} must not contain NUL characters.")
    if not isinstance(payload["event_id"], str) or not payload["event_id"].strip():
        raise InvalidDelivery("event_id must be a non-empty string.")
    if len(payload["event_id"]) > 100:
        raise InvalidDelivery("event_id is longer than 100 characters.")
    if not isinstance(payload["event_type"], str) or not payload["event_type"].strip():
        raise InvalidDelivery("event_type must be a non-empty string.")
    if len(payload["event_type"]) > 60:
        raise InvalidDelivery("event_type is longer than 60 characters.")
    if not _is_int(payload["table_id"]):
        raise InvalidDelivery("table_id must be a positive integer.")
    # Baserow's own "test" button sends "webhook_id": null (contracts/README.md 9.3).
    if payload["webhook_id"] is not None and not _is_int(payload["webhook_id"]):
        raise InvalidDelivery("webhook_id must be a positive integer or null.")
    for key in OPTIONAL_INT_KEYS:
        if payload.get(key) is not None and not _is_int(payload[key]):
            raise InvalidDelivery(f"{key} must be a positive integer.")
    batch_id = payload.get("batch_id")
    if batch_id is not None and not _is_int(batch_id, MAX_BATCH):
        raise InvalidDelivery("batch_id must be a positive integer.")
    for key in ("items", "old_items", "rows"):
        if key in payload and not (
            isinstance(payload[key], list) and all(isinstance(row, dict) for row in payload[key])
        ):
            raise InvalidDelivery(f"{key} must be a list of objects.")
    if "row_ids" in payload and not (
        isinstance(payload["row_ids"], list) and all(_is_int(row_id) for row_id in payload["row_ids"])
    ):
        raise InvalidDelivery("row_ids must be a list of positive integers.")
    _check_row_count(payload)
    if b"\\u0000" in raw:
        payload = inbound.without_nul(payload)
    return payload


def _row_id(row: dict) -> int | None:
    return row.get("id") if _is_int(row.get("id")) else None


def _units(payload: dict) -> tuple[list[dict], int]:
    """(item fields for each unit of work, number of rows) of a delivery."""
    table_id, event_type = payload["table_id"], payload["event_type"]
    if "row_ids" in payload:
        rows = [{"row_id": row_id, "data": None, "old_data": None} for row_id in payload["row_ids"]]
    elif "items" in payload or "rows" in payload:
        old_by_id = {_row_id(row): row for row in payload.get("old_items", []) if _row_id(row) is not None}
        rows = [
            {"row_id": _row_id(row), "data": row, "old_data": old_by_id.get(_row_id(row))}
            for row in payload.get("items", payload.get("rows", []))
        ]
    elif event_type in ROW_EVENT_TYPES:
        rows = []
    else:
        # field.*, view.* and unknown types: the delivery itself is the one unit of work.
        kind = event_type.split(".", 1)[0]
        data = {key: value for key, value in payload.items() if key not in ENVELOPE_KEYS}
        obj = payload.get(kind)
        object_id = obj.get("id") if isinstance(obj, dict) else payload.get(f"{kind}_id")
        key = f"baserow:{table_id}:{kind}:{object_id}" if object_id is not None else f"baserow:{table_id}:{kind}"
        return [{"row_id": None, "data": data, "old_data": None, "entity_key": key[:120]}], 0
    for row in rows:
        row["entity_key"] = f"baserow:{table_id}:{row['row_id']}"
    return rows, len(rows)


def _evidence_headers(headers) -> dict:
    """The X-Baserow-* headers plus content type and user agent; never the secret header."""
    kept = {}
    for name, value in headers.items():
        if name.lower().startswith("x-baserow-") or name.lower() in ("content-type", "user-agent"):
            kept[name] = value
    return kept


def event_receive(*, raw_body: bytes, payload: dict, headers) -> Received:
    """Store the delivery and its items and queue its job; a delivery already stored (same webhook,
    event and batch) creates nothing, even when two copies race: the insert itself decides.

    A delivery no rule can handle (unmapped or disabled table, test call, no rule for its type) is
    stored as ignored with the reason and gets no job; replaying it runs it like any other.
    """
    try:
        return _store(raw_body=raw_body, payload=payload, headers=headers)
    except IntegrityError:
        # The cached mapping may have been deleted by another process since: read the mappings again.
        config_forget()
        return _store(raw_body=raw_body, payload=payload, headers=headers)


def _store(*, raw_body: bytes, payload: dict, headers) -> Received:
    webhook_id, batch_id = payload["webhook_id"], payload.get("batch_id") or 0
    key = {"source": Event.Source.BASEROW, "event_id": payload["event_id"], "batch_id": batch_id}
    units, row_count = _units(payload)
    mapping = mapping_for_table(payload["table_id"])
    ignored = ingest_ignore_reason(
        event_type=payload["event_type"], table_id=payload["table_id"], is_test_call=webhook_id is None,
        mapping=mapping, has_units=bool(units),
    )
    now = timezone.now()
    event_values = {
        **key,
        "webhook_id": webhook_id,
        "event_type": payload["event_type"],
        "table_id": payload["table_id"],
        "database_id": payload.get("database_id"),
        "workspace_id": payload.get("workspace_id"),
        "mapping_id": mapping.pk if mapping else None,
        "is_test_call": webhook_id is None,
        "row_count": row_count,
        "raw_body": raw_body.decode("utf-8", errors="replace"),
        "headers": _evidence_headers(headers),
        "correlation_id": current_correlation_id(),
        "received_at": now,
        **(
            {"state": Event.State.IGNORED, "reason": ignored[:300], "processed_at": now} if ignored
            else {"enqueued_at": now, "enqueue_count": 1}
        ),
    }
    item_outcome = {"state": EventItem.State.IGNORED, "reason": ignored[:300], "processed_at": now} if ignored else {}
    items = [{"position": position, "created_at": now, **unit, **item_outcome} for position, unit in enumerate(units)]
    needs_transaction = not is_single_statement() or (not ignored and queue_commits_with_the_event())
    with transaction.atomic() if needs_transaction else contextlib.nullcontext():
        event_id = delivery_insert(event_values, items)
        if event_id is not None and not ignored:
            event_enqueue_stored(event_id=event_id)
    if event_id is None:
        existing = delivery_stored_id(webhook_id=webhook_id, **key)
        if existing is None:
            raise IntegrityError(f"delivery {key} neither stored nor found")
        return Received(existing, duplicate=True)
    return Received(event_id, duplicate=False)
