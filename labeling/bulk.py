"""Fast bulk inserts of plain rows, for the import's hundreds of thousands of rows.

Django's ``bulk_create`` builds a model instance and prepares every field of every row in
Python, which costs more than the database's work for narrow rows (profiled: ~80% of an
import). No library adds COPY to Django's ORM for psycopg 3, so this is written by hand:
PostgreSQL gets ``COPY ... FROM STDIN``, other databases one ``executemany``.
Values must already be database-ready (ints, strings, bools, aware datetimes).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.db.models import Field, Model


# Field's type parameters are the Python types it accepts and returns: any, for any field.
def column_field(model: type[Model], name: str) -> Field[Any, Any]:
    """``model``'s field ``name`` that has a column; FieldDoesNotExist for a relation's reverse."""
    found = model._meta.get_field(name)
    if not isinstance(found, Field) or found.column is None:
        raise FieldDoesNotExist(f"{model._meta.label}.{name} has no column")
    return found


# A row's values are database-ready scalars of the fields' various types.
def insert_rows(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert ``rows`` (tuples in ``fields`` order) into ``model``'s table; no ids returned."""
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    columns = ", ".join(qn(column_field(model, f).column) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", list(rows))  # noqa: S608
