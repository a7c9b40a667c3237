"""Token authentication for the REST API: DRF's rules, one SQL query on PostgreSQL.

Its own module because DRF imports authentication classes while ``rest_framework.views``
is being imported, before ``labeling.exceptions`` (which imports that module) is ready.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication; on PostgreSQL the token and its user are one SQL query.

    Same rules and messages as DRF's (unknown key, inactive user). PostgreSQL returns
    native booleans and aware datetimes, so the row builds the user as the ORM would;
    other backends use DRF's ORM query.
    """

    _sql: str | None = None
    _fields: list[str] = []

    @classmethod
    def _query(cls) -> str:
        if cls._sql is None:
            user_model = get_user_model()
            fields = list(user_model._meta.concrete_fields)
            qn = connection.ops.quote_name
            columns = ", ".join(f"u.{qn(f.column)}" for f in fields)
            cls._fields = [f.attname for f in fields]
            cls._sql = (  # only table and column names are interpolated
                f"SELECT t.created, {columns} FROM {Token._meta.db_table} t "  # noqa: S608
                f"JOIN {user_model._meta.db_table} u ON u.{qn(user_model._meta.pk.column)} "
                "= t.user_id WHERE t.key = %s"
            )
        return cls._sql

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        if connection.vendor != "postgresql":
            return super().authenticate_credentials(key)
        with connection.cursor() as cur:
            cur.execute(self._query(), [key])
            row = cur.fetchone()
        if row is None:
            raise AuthenticationFailed(_("Invalid token."))
        user = get_user_model().from_db(connection.alias, self._fields, row[1:])
        if not user.is_active:
            raise AuthenticationFailed(_("User inactive or deleted."))
        token = Token.from_db(
            connection.alias, ["key", "user_id", "created"], [key, user.pk, row[0]]
        )
        token.user = user
        return user, token
