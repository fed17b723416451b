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

from functools import cache, lru_cache

from django.db import DEFAULT_DB_ALIAS, connections

from sync.models import Event, EventItem


@cache
def _fields(model, skip: tuple[str, ...]) -> tuple:
    return tuple(
        field for field in model._meta.concrete_fields if not field.primary_key and field.attname not in skip
    )


def _event_fields() -> tuple:
    return _fields(Event, ())


def _item_fields() -> tuple:
    return _fields(EventItem, ("event_id",))


def _connection():
    """The default connection itself: the `connection` proxy costs a thread-local lookup per attribute."""
    return connections[DEFAULT_DB_ALIAS]


def _prepared(fields: tuple, values: dict, connection) -> list:
    """Each field's value as the database takes it (a default where `values` has none)."""
    return [
        field.get_db_prep_save(values[field.attname] if field.attname in values else field.get_default(), connection)
        for field in fields
    ]


def _columns(fields: tuple, connection) -> str:
    quote = connection.ops.quote_name
    return ", ".join(quote(field.column) for field in fields)


def is_single_statement() -> bool:
    """Whether the event and its items are stored by one statement (no transaction needed around it)."""
    return _connection().vendor == "postgresql"


@cache
def _event_insert_sql(vendor: str) -> str:
    connection = _connection()
    quote, fields = connection.ops.quote_name, _event_fields()
    return (
        f"INSERT INTO {quote(Event._meta.db_table)} ({_columns(fields, connection)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT DO NOTHING RETURNING {quote('id')}"
    )


@lru_cache(maxsize=16)
def _items_insert_sql(vendor: str, count: int) -> str:
    """SQLite: the items of a stored event, its id first in each row."""
    connection = _connection()
    quote, fields = connection.ops.quote_name, _item_fields()
    one_row = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
    return (
        f"INSERT INTO {quote(EventItem._meta.db_table)} ({quote('event_id')}, {_columns(fields, connection)}) "
        f"VALUES {', '.join([one_row] * count)}"
    )


@lru_cache(maxsize=16)
def _single_statement_sql(vendor: str, count: int) -> str:
    """PostgreSQL: the items inserted in the same statement, from the event the CTE returns (none on a
    duplicate). Each value is cast to its column's type: in a VALUES list PostgreSQL cannot infer it."""
    insert_event = _event_insert_sql(vendor)
    if not count:
        return insert_event
    connection = _connection()
    quote, fields = connection.ops.quote_name, _item_fields()
    one_row = "(" + ", ".join(f"%s::{field.cast_db_type(connection)}" for field in fields) + ")"
    return (
        f"WITH new_event AS ({insert_event}), new_items AS ("
        f"INSERT INTO {quote(EventItem._meta.db_table)} ({quote('event_id')}, {_columns(fields, connection)}) "
        f"SELECT new_event.{quote('id')}, item.* FROM new_event, (VALUES {', '.join([one_row] * count)}) "
        f"AS item) SELECT {quote('id')} FROM new_event"
    )


def delivery_insert(event_values: dict, items: list[dict]) -> int | None:
    """Insert the event and its items; the new event's id, or None when the delivery key is already stored."""
    connection = _connection()
    event_params = _prepared(_event_fields(), event_values, connection)
    item_params = [_prepared(_item_fields(), item, connection) for item in items]
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
            cursor.execute(
                _items_insert_sql(connection.vendor, len(items)),
                [value for params in item_params for value in (row[0], *params)],
            )
        return row[0]


def delivery_stored_id(*, source: str, webhook_id: int | None, event_id: str, batch_id: int) -> int | None:
    """The id of the stored delivery with this key (the unique index's own expression, so it is used)."""
    connection = _connection()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('id')} FROM {quote(Event._meta.db_table)} WHERE {quote('source')} = %s "
            f"AND COALESCE({quote('webhook_id')}, 0) = %s AND {quote('event_id')} = %s AND {quote('batch_id')} = %s",
            [source, webhook_id or 0, event_id, batch_id],
        )
        row = cursor.fetchone()
    return row[0] if row else None
