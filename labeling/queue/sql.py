"""Running the queue's portable SQL: one row back, timestamps made aware as the ORM would."""

from __future__ import annotations

from typing import Any

from django.db import connection


def fetchone(sql: str, params: Any, cur: Any = None) -> tuple | None:
    """Execute ``sql`` with ``params`` (a list, or a dict for named parameters); first row.

    ``cur``: a cursor to reuse (statements of one transaction), else a new one.
    """
    if cur is None:
        with connection.cursor() as own:
            own.execute(sql, params)
            return own.fetchone()
    cur.execute(sql, params)
    return cur.fetchone()


def aware(value: Any) -> Any:
    """A timestamp read by raw SQL, made aware as the ORM would (SQLite returns text)."""
    convert = getattr(connection.ops, "convert_datetimefield_value", None)
    return convert(value, None, connection) if convert is not None else value
