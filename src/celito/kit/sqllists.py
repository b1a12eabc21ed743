"""A column among a list of values given as one bound parameter.

`column IN (…)` with SQLAlchemy's expanding parameter writes one placeholder per value, so
every list length is different SQL: PostgreSQL plans it afresh each time and psycopg never
prepares it. With the list as one value (an array on PostgreSQL, JSON on SQLite) the SQL text is
the same whatever the length, so a hot statement is compiled, prepared and planned once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ColumnElement, String, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.types import TypeEngine


def among(
    column: ColumnElement[Any] | QueryableAttribute[Any],
    name: str,
    dialect: str,
    item: type[TypeEngine[Any]] = String,
) -> ColumnElement[bool]:
    """`column` is one of the values (of type `item`) bound to `name` (pass a list)."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(item)))
    each = func.json_each(bindparam(name, type_=JSON)).table_valued("value")
    return column.in_(select(each.c.value))
