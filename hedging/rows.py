"""The lookahead tick's hot reads and the executor's row updates, by hand-written SQL.

Django compiles a queryset's SQL anew each time it runs: about 1 ms of CPU a query on
the benchmark machine, more than half of a tick that decides nothing and a third of
one that buys (bench/run.py --only fanout). Here a read's SELECT list and column
converters are made once per model, and its rows become model instances the way the
ORM makes them; an update writes the named fields as `save(update_fields=…)` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TypeVar

from django.core.exceptions import FieldError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.transaction import TransactionManagementError
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)


@cache
def _reader(model: type[Model], alias: str):
    """The SELECT … FROM of every concrete column, their attribute names, and the
    compiler that converts their values (JSON, and SQLite's decimals and datetimes)."""
    connection = connections[alias]
    fields = model._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(_column(field)) for field in fields)
    compiler = model._default_manager.db_manager(alias).all().query.get_compiler(alias)
    converters = compiler.get_converters([field.get_col(model._meta.db_table) for field in fields])
    select = f"SELECT {columns} FROM {connection.ops.quote_name(model._meta.db_table)}"
    return select, [field.attname for field in fields], compiler, converters


def fetch(
    model: type[M],
    where: str,
    params: Sequence,
    *,
    order_by: str = "",
    skip_locked: bool = False,
    alias: str = DEFAULT_DB_ALIAS,
) -> list[M]:
    """`where` and `order_by` name columns; `skip_locked` locks the rows found, leaving
    out those another transaction holds (inside a transaction; nothing on SQLite, whose
    writers queue on the database lock)."""
    connection = connections[alias]
    sql = _select(model, where, order_by, alias)
    if skip_locked:
        if not connection.in_atomic_block:
            raise TransactionManagementError("a row lock outside a transaction is released at once")
        if connection.features.has_select_for_update_skip_locked:
            sql += " FOR UPDATE SKIP LOCKED"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return _instances(model, cursor.fetchall(), alias)


Read = tuple[type[Model], str, Sequence, str]  # model, where, params, order_by: as fetch() takes them


def fetch_together(*reads: Read, alias: str = DEFAULT_DB_ALIAS) -> list[list]:
    """Several reads in one round trip, run in the order given: on PostgreSQL as one
    multi-statement query (the client-side binding Django uses allows it), one after
    the other elsewhere."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return [fetch(model, where, params, order_by=order_by, alias=alias) for model, where, params, order_by in reads]
    sql = "; ".join(_select(model, where, order_by, alias) for model, where, _, order_by in reads)
    found = []
    with connection.cursor() as cursor:
        cursor.execute(sql, [value for _, _, params, _ in reads for value in params])
        for model, *_ in reads:
            found.append(_instances(model, cursor.fetchall(), alias))
            cursor.nextset()
    return found


def _column(field: Field) -> str:
    """A concrete field's column (the stubs type it optional: a field may have none)."""
    if field.column is None:
        raise FieldError(f"{field} has no column")
    return field.column


def _field(model: type[Model], name: str) -> Field:
    """The model's field `name`, which must be a field of its own (no reverse relation)."""
    field = model._meta.get_field(name)
    if not isinstance(field, Field):
        raise FieldError(f"{model.__name__}.{name} is not a field of its own")
    return field


def _select(model: type[Model], where: str, order_by: str, alias: str) -> str:
    sql = f"{_reader(model, alias)[0]} WHERE {where}"
    return f"{sql} ORDER BY {order_by}" if order_by else sql


def _instances(model: type[M], rows: list[tuple], alias: str) -> list[M]:
    _, names, compiler, converters = _reader(model, alias)
    if converters:
        rows = compiler.apply_converters(rows, converters)
    return [model.from_db(alias, names, row) for row in rows]


def update(instance: Model, fields: Sequence[str], *, where: str = "", params: Sequence = ()) -> int:
    """Write the instance's `fields` to its row (an auto_now field named is set to now
    first, as save() does). `where` adds a condition on columns, for a claim. Returns the
    rows changed: 0 when the condition no longer holds."""
    meta = instance._meta
    connection = connections[instance._state.db or DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    columns = [_field(type(instance), name) for name in fields]
    values = [field.get_db_prep_save(field.pre_save(instance, False), connection) for field in columns]
    sql = (f"UPDATE {quote(meta.db_table)} SET {', '.join(f'{quote(_column(field))} = %s' for field in columns)}"
           f" WHERE {quote(_column(meta.pk))} = %s")
    if where:
        sql += f" AND ({where})"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, instance.pk, *params])
        return cursor.rowcount
