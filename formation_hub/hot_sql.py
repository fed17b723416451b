"""Statements for the hot paths (the webhook's insert, the sync worker's per-item reads and writes, the
audit INSERT), built once per process from the models' fields.

The ORM builds and compiles every statement anew: on the sync worker's path that was about 45 % of its
CPU (py-spy over a burst of projet rows, issue 14). The same statements are built here once per model,
column set and row count; values go through each field's own `get_db_prep_save` and rows read back
through the fields' converters and `Model.from_db`, so what is stored and read is what the ORM would
store and read. Nothing here sends signals or runs a `save()` override: use it only for models that
have neither.
"""

# ruff: noqa: S608 - the SQL is built from the models' table and column names only; every value is a parameter.

from functools import cache, lru_cache

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.utils import timezone


def default_connection():
    """The default connection itself: the `connection` proxy costs a thread-local lookup per attribute."""
    return connections[DEFAULT_DB_ALIAS]


@cache
def model_fields(model: type[Model], names: tuple[str, ...] | None = None) -> tuple:
    """The concrete fields named by attname (`names`, in that order), or every one but the primary key."""
    if names is None:
        return tuple(field for field in model._meta.concrete_fields if not field.primary_key)
    by_name = {field.attname: field for field in model._meta.concrete_fields}
    return tuple(by_name[name] for name in names)


def db_datetime(value, connection=None):
    """A datetime as a parameter of hand-written SQL (SQLite stores datetimes as text)."""
    return (connection or default_connection()).ops.adapt_datetimefield_value(value)


def column_list(fields: tuple, connection, table: str = "") -> str:
    quote = connection.ops.quote_name
    prefix = f"{quote(table)}." if table else ""
    return ", ".join(prefix + quote(field.column) for field in fields)


def _each_equal(model: type[Model], names: tuple[str, ...], connection) -> str:
    """The WHERE of plain equalities on the named columns."""
    quote = connection.ops.quote_name
    return " AND ".join(f"{quote(field.column)} = %s" for field in model_fields(model, names))


def _lookup_params(model: type[Model], equals: dict, connection) -> list:
    return [field.get_db_prep_value(equals[field.attname], connection) for field in model_fields(model, tuple(equals))]


def stamp_auto_fields(fields: tuple, values: dict, *, adding: bool) -> None:
    """Put now in `values` for the fields whose `pre_save` does (auto_now always, auto_now_add on insert)."""
    for field in fields:
        if getattr(field, "auto_now", False) or (adding and getattr(field, "auto_now_add", False)):
            values[field.attname] = timezone.now()


def db_values(fields: tuple, values: dict, connection) -> list:
    """Each field's value as the database takes it: `values[attname]`, else the field's default."""
    return [
        field.get_db_prep_save(values[field.attname] if field.attname in values else field.get_default(), connection)
        for field in fields
    ]


@lru_cache(maxsize=64)
def insert_sql(model: type[Model], names: tuple[str, ...] | None, count: int, vendor: str, *,
               on_conflict_nothing: bool = False) -> str:
    """INSERT of `count` rows returning their ids (`vendor` keys the cache: tests switch databases)."""
    connection = default_connection()
    quote, fields = connection.ops.quote_name, model_fields(model, names)
    one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    conflict = " ON CONFLICT DO NOTHING" if on_conflict_nothing else ""
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({column_list(fields, connection)}) "
        f"VALUES {', '.join([one_row] * count)}{conflict} RETURNING {quote(model._meta.pk.column)}"
    )


def insert_rows(model: type[Model], rows: list[dict], *, names: tuple[str, ...] | None = None,
                on_conflict_nothing: bool = False) -> list[int]:
    """Insert `rows` (attname -> value; the auto_now(_add) stamps are put in them) in one statement; the
    new ids in the rows' order (none for a row skipped by `on_conflict_nothing`)."""
    if not rows:
        return []
    connection = default_connection()
    fields = model_fields(model, names)
    params = []
    for row in rows:
        stamp_auto_fields(fields, row, adding=True)
        params.extend(db_values(fields, row, connection))
    sql = insert_sql(model, names, len(rows), connection.vendor, on_conflict_nothing=on_conflict_nothing)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def insert_instances(instances: list[Model]) -> None:
    """Insert new model instances in one statement and set their primary keys."""
    if not instances:
        return
    ids = insert_rows(type(instances[0]), [instance.__dict__ for instance in instances])
    for instance, pk in zip(instances, ids, strict=True):
        instance.pk = pk
        instance._state.adding = False


@lru_cache(maxsize=64)
def update_sql(model: type[Model], names: tuple[str, ...], vendor: str) -> str:
    """UPDATE of the named columns of one row, by primary key."""
    connection = default_connection()
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in model_fields(model, names))
    return f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(model._meta.pk.column)} = %s"


def update_by_pk(model: type[Model], pk, values: dict, *, condition: str = "", condition_params: tuple = (),
                 returning: str = "", returning_params: tuple = ()):
    """`model.objects.filter(pk=pk).update(**values)` as one cached statement, with `condition` (SQL)
    ANDed to the WHERE; the number of rows updated, or with `returning` (SQL for `RETURNING ...`), the
    row it returned (None when none was updated)."""
    connection = default_connection()
    names = tuple(values)
    params = [*db_values(model_fields(model, names), values, connection), pk]
    sql = update_sql(model, names, connection.vendor)
    if condition:
        sql, params = f"{sql} AND {condition}", [*params, *condition_params]
    if returning:
        sql, params = f"{sql} RETURNING {returning}", [*params, *returning_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() if returning else cursor.rowcount


def update_instance(instance: Model, names: tuple[str, ...], **options):
    """`instance.save(update_fields=names)` as one cached statement (see `update_by_pk` for `options`)."""
    values = {name: instance.__dict__[name] for name in names}
    stamp_auto_fields(model_fields(type(instance), names), values, adding=False)
    result = update_by_pk(type(instance), instance.pk, values, **options)
    instance.__dict__.update(values)
    return result


@cache
def _converters(model: type[Model], vendor: str) -> tuple:
    connection = default_connection()
    converters = []
    for index, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(model._meta.db_table)
        chain = [*connection.ops.get_db_converters(column), *column.get_db_converters(connection)]
        if chain:
            converters.append((index, tuple(chain), column))
    return tuple(converters)


def select_columns(model: type[Model]) -> str:
    """Every concrete column of the model, table-qualified, in the order `instance_from_row` reads them."""
    connection = default_connection()
    return column_list(tuple(model._meta.concrete_fields), connection, model._meta.db_table)


def instance_from_row(model: type[Model], row) -> Model:
    """A model instance from the first columns of a row read with `select_columns(model)`."""
    connection = default_connection()
    count = len(model._meta.concrete_fields)
    values = list(row[:count])
    for index, chain, column in _converters(model, connection.vendor):
        for converter in chain:
            values[index] = converter(values[index], column, connection)
    return model.from_db(DEFAULT_DB_ALIAS, [field.attname for field in model._meta.concrete_fields], values)


@lru_cache(maxsize=64)
def _first_sql(model: type[Model], names: tuple[str, ...], vendor: str) -> str:
    connection = default_connection()
    quote = connection.ops.quote_name
    return (
        f"SELECT {select_columns(model)} FROM {quote(model._meta.db_table)} "
        f"WHERE {_each_equal(model, names, connection)} ORDER BY {quote(model._meta.pk.column)} LIMIT 1"
    )


def first_where(model: type[Model], **equals) -> Model | None:
    """`model.objects.filter(**equals).order_by("pk").first()` for plain equality on concrete fields."""
    connection = default_connection()
    with connection.cursor() as cursor:
        cursor.execute(_first_sql(model, tuple(equals), connection.vendor), _lookup_params(model, equals, connection))
        row = cursor.fetchone()
    return instance_from_row(model, row) if row is not None else None



@lru_cache(maxsize=16)
def _delete_sql(model: type[Model], names: tuple[str, ...], vendor: str) -> str:
    connection = default_connection()
    table = connection.ops.quote_name(model._meta.db_table)
    return f"DELETE FROM {table} WHERE {_each_equal(model, names, connection)}"


def delete_where(model: type[Model], **equals) -> int:
    """`model.objects.filter(**equals).delete()` without the collector: for models nothing refers to (no
    cascade to follow) and no signal listens to."""
    connection = default_connection()
    with connection.cursor() as cursor:
        cursor.execute(_delete_sql(model, tuple(equals), connection.vendor), _lookup_params(model, equals, connection))
        return cursor.rowcount
