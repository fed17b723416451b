"""Storing a delivery and its items in as few statements as the database allows.

The duplicate check is the insert itself: `INSERT ... ON CONFLICT DO NOTHING RETURNING id` answers
no row when the delivery key (source, webhook, event, batch) is already stored, even when two copies
race (the second waits for the first to commit). On PostgreSQL the event and its items go in one
statement (a data-modifying CTE), so in autocommit the 202 costs one round trip and one commit; on
SQLite they are two statements, which the caller runs in a transaction.
"""

# ruff: noqa: S608 - the SQL is built from the models' table and column names only; every value is a parameter.

from functools import cache

from django.db import connection

from sync.models import Event, EventItem


@cache
def _fields(model, skip: tuple[str, ...]) -> list:
    return [field for field in model._meta.concrete_fields if not field.primary_key and field.attname not in skip]


def _event_fields() -> list:
    return _fields(Event, ())


def _item_fields() -> list:
    return _fields(EventItem, ("event_id",))


def _prepared(fields: list, values: dict) -> list:
    """Each field's value as the database takes it (a default where `values` has none)."""
    return [
        field.get_db_prep_save(values[field.attname] if field.attname in values else field.get_default(), connection)
        for field in fields
    ]


def _columns(fields: list) -> str:
    quote = connection.ops.quote_name
    return ", ".join(quote(field.column) for field in fields)


def is_single_statement() -> bool:
    """Whether the event and its items are stored by one statement (no transaction needed around it)."""
    return connection.vendor == "postgresql"


def delivery_insert(event_values: dict, items: list[dict]) -> int | None:
    """Insert the event and its items; the new event's id, or None when the delivery key is already stored."""
    event_fields, item_fields = _event_fields(), _item_fields()
    quote = connection.ops.quote_name
    event_table, item_table = quote(Event._meta.db_table), quote(EventItem._meta.db_table)
    event_params = _prepared(event_fields, event_values)
    insert_event = (
        f"INSERT INTO {event_table} ({_columns(event_fields)}) VALUES ({', '.join(['%s'] * len(event_fields))}) "
        f"ON CONFLICT DO NOTHING RETURNING {quote('id')}"
    )
    item_params = [_prepared(item_fields, item) for item in items]
    with connection.cursor() as cursor:
        if is_single_statement():
            sql, params = _single_statement(insert_event, event_params, item_table, item_fields, item_params)
            cursor.execute(sql, params)
            row = cursor.fetchone()
            return row[0] if row else None
        cursor.execute(insert_event, event_params)
        row = cursor.fetchone()
        if row is None:
            return None
        if item_params:
            one_row = "(" + ", ".join(["%s"] * (len(item_fields) + 1)) + ")"
            cursor.execute(
                f"INSERT INTO {item_table} ({quote('event_id')}, {_columns(item_fields)}) VALUES "
                + ", ".join([one_row] * len(item_params)),
                [value for params in item_params for value in (row[0], *params)],
            )
        return row[0]


def _single_statement(insert_event: str, event_params: list, item_table: str, item_fields: list,
                      item_params: list) -> tuple[str, list]:
    """PostgreSQL: the items inserted in the same statement, from the event the CTE returns (none on a
    duplicate). Each value is cast to its column's type: in a VALUES list PostgreSQL cannot infer it."""
    if not item_params:
        return insert_event, event_params
    quote = connection.ops.quote_name
    one_row = "(" + ", ".join(f"%s::{field.cast_db_type(connection)}" for field in item_fields) + ")"
    sql = (
        f"WITH new_event AS ({insert_event}), new_items AS ("
        f"INSERT INTO {item_table} ({quote('event_id')}, {_columns(item_fields)}) "
        f"SELECT new_event.{quote('id')}, item.* FROM new_event, (VALUES {', '.join([one_row] * len(item_params))}) "
        f"AS item) SELECT {quote('id')} FROM new_event"
    )
    return sql, [*event_params, *(value for params in item_params for value in params)]


def delivery_stored_id(*, source: str, webhook_id: int | None, event_id: str, batch_id: int) -> int | None:
    """The id of the stored delivery with this key (the unique index's own expression, so it is used)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('id')} FROM {quote(Event._meta.db_table)} WHERE {quote('source')} = %s "
            f"AND COALESCE({quote('webhook_id')}, 0) = %s AND {quote('event_id')} = %s AND {quote('batch_id')} = %s",
            [source, webhook_id or 0, event_id, batch_id],
        )
        row = cursor.fetchone()
    return row[0] if row else None
