"""Storing a delivery and its items in as few statements as the database allows.

The duplicate check is the insert itself: `INSERT ... ON CONFLICT DO NOTHING RETURNING id` answers
no row when the delivery key (source, webhook, event, batch) is already stored, even when two copies
race (the second waits for the first to commit). On PostgreSQL the event and its items go in one
statement (a data-modifying CTE), so in autocommit the 202 costs one round trip and one commit; on
SQLite they are two statements, which the caller runs in a transaction.

The statement text and each column's conversion are worked out once per process and database (and per
item count for the last few statements): a webhook only converts its values.
"""

# ruff: noqa: S608 - the SQL is built from the models' table and column names only; every value is a parameter.

from functools import lru_cache

from formation_hub.hot_sql import column_list, db_values, default_connection, insert_sql, model_fields
from sync.models import Event, EventItem

# The item columns after the event's id, which the insert takes from the event it has just stored.
ITEM_COLUMNS = tuple(field.attname for field in model_fields(EventItem) if field.attname != "event_id")


def _item_fields() -> tuple:
    return model_fields(EventItem, ITEM_COLUMNS)


def is_single_statement() -> bool:
    """Whether the event and its items are stored by one statement (no transaction needed around it)."""
    return default_connection().vendor == "postgresql"


def _event_insert_sql(vendor: str) -> str:
    return insert_sql(Event, None, 1, vendor, on_conflict_nothing=True)


@lru_cache(maxsize=16)
def _single_statement_sql(vendor: str, count: int) -> str:
    """PostgreSQL: the items inserted in the same statement, from the event the CTE returns (none on a
    duplicate). Each value is cast to its column's type: in a VALUES list PostgreSQL cannot infer it."""
    insert_event = _event_insert_sql(vendor)
    if not count:
        return insert_event
    connection = default_connection()
    quote, fields = connection.ops.quote_name, _item_fields()
    one_row = "(" + ", ".join(f"%s::{field.cast_db_type(connection)}" for field in fields) + ")"
    return (
        f"WITH new_event AS ({insert_event}), new_items AS ("
        f"INSERT INTO {quote(EventItem._meta.db_table)} ({quote('event_id')}, {column_list(fields, connection)}) "
        f"SELECT new_event.{quote('id')}, item.* FROM new_event, (VALUES {', '.join([one_row] * count)}) "
        f"AS item) SELECT {quote('id')} FROM new_event"
    )


def delivery_insert(event_values: dict, items: list[dict]) -> int | None:
    """Insert the event and its items; the new event's id, or None when the delivery key is already stored."""
    connection = default_connection()
    event_params = db_values(model_fields(Event), event_values, connection)
    item_params = [db_values(_item_fields(), item, connection) for item in items]
    with connection.cursor() as cursor:
        if is_single_statement():
            cursor.execute(
                _single_statement_sql(connection.vendor, len(items)),
                [*event_params, *(value for params in item_params for value in params)],
            )
            row = cursor.fetchone()
            return row[0] if row else None
        cursor.execute(_event_insert_sql(connection.vendor), event_params)
        row = cursor.fetchone()
        if row is None:
            return None
        if item_params:
            # SQLite: the items of the stored event, its id first in each row.
            cursor.execute(
                insert_sql(EventItem, ("event_id", *ITEM_COLUMNS), len(items), connection.vendor),
                [value for params in item_params for value in (row[0], *params)],
            )
        return row[0]


def delivery_stored_id(*, source: str, webhook_id: int | None, event_id: str, batch_id: int) -> int | None:
    """The id of the stored delivery with this key (the unique index's own expression, so it is used)."""
    connection = default_connection()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('id')} FROM {quote(Event._meta.db_table)} WHERE {quote('source')} = %s "
            f"AND COALESCE({quote('webhook_id')}, 0) = %s AND {quote('event_id')} = %s AND {quote('batch_id')} = %s",
            [source, webhook_id or 0, event_id, batch_id],
        )
        row = cursor.fetchone()
    return row[0] if row else None
