"""Reading Baserow rows the way the rules need them: the latest state (with the race after a webhook
handled), and cell values of link-row, single-select and number fields."""

import time
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.utils import timezone

from sync import conf
from sync.clients.baserow import BaserowClient
from sync.clients.errors import NotFound, PermanentFailure
from sync.models import EventItem, TableMapping
from sync.processing.routing import IgnoreItem

ROW_MISSING = "skipped: row missing"


def row_latest(*, baserow: BaserowClient, mapping: TableMapping, row_id: int) -> dict:
    """The row as it is now. A row not found right after its webhook (Baserow commits, then sends) is
    read again a few times, 200 ms apart; still missing, the item ends 'skipped: row missing'."""
    for attempt in range(conf.row_missing_retries() + 1):
        try:
            return baserow.get_row(mapping.baserow_table_id, row_id)
        except NotFound:
            if attempt < conf.row_missing_retries():
                time.sleep(conf.row_missing_delay_seconds())
    raise IgnoreItem(ROW_MISSING)


def item_row_latest(*, baserow: BaserowClient, mapping: TableMapping, item: EventItem) -> dict:
    if item.row_id is None:
        raise PermanentFailure("the delivery carries no row id")
    return row_latest(baserow=baserow, mapping=mapping, row_id=item.row_id)


def item_row_delivered_or_latest(
    *, baserow: BaserowClient, mapping: TableMapping, item: EventItem, fields: tuple[str, ...]
) -> tuple[dict, datetime]:
    """(row, when it was read): the first time the item runs, the row the webhook carried when it holds
    every field the rule reads (logical names), which saves a call; else (a retry, a replay) the row as
    it is now. "When read" is the item's arrival for the delivered row, so no later update is coalesced
    into it."""
    data = item.data
    if item.processed_at is None and isinstance(data, dict) and data.get("id") == item.row_id and all(
        mapping.field_name(name) in data for name in fields
    ):
        return data, item.created_at
    read_at = timezone.now()
    return item_row_latest(baserow=baserow, mapping=mapping, item=item), read_at


def mapping_for(logical_table: str) -> TableMapping:
    mapping = TableMapping.objects.filter(logical_table=logical_table, enabled=True).first()
    if mapping is None:
        raise PermanentFailure(
            f"No enabled table mapping for '{logical_table}': add it in the console (Sync > Table mappings)."
        )
    return mapping


def cell_text(value) -> str:
    """Text of a cell: a link row's first linked value, a single select's option, or the value itself."""
    if isinstance(value, list):
        return ", ".join(cell_text(part) for part in value if part)
    if isinstance(value, dict):
        return str(value.get("value") or "")
    return "" if value is None else str(value)


def link_ids(value) -> list[int]:
    """Row ids of a link-row cell ([{"id", "value", "order"}, ...])."""
    if not isinstance(value, list):
        return []
    return [part["id"] for part in value if isinstance(part, dict) and isinstance(part.get("id"), int)]


def cell_number(value) -> Decimal | None:
    """A number cell (Baserow sends decimals as strings, e.g. "14.0"); None when empty or unreadable."""
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


