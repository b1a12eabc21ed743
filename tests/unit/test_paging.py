"""kit.paging: fields projection and sorting rules shared by every collection."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select

from celito.errors import BadRequest
from celito.kit.paging import MAX_LIMIT, Page, page_params
from celito.kit.schema import ApiOut


class Row(ApiOut):
    user: str
    name_first_name: str


TABLE = Table("t", MetaData(), Column("id", Integer), Column("name", String))


def test_defaults() -> None:
    page = asyncio.run(page_params())
    assert (page.start, page.limit, page.sort, page.order, page.fields) == (
        0,
        100,
        None,
        "asc",
        None,
    )
    assert MAX_LIMIT == 1000


def test_fields_are_split_and_trimmed() -> None:
    assert asyncio.run(page_params(fields=" user , name-first-name ,,")).fields == (
        "user",
        "name-first-name",
    )
    assert asyncio.run(page_params(fields="")).fields is None


def test_projection_keeps_only_asked_fields_in_order() -> None:
    page = Page(fields=("name-first-name", "user"))
    rows = [{"user": "1", "name-first-name": "Ada", "x": 1}]
    assert page.project(rows, ["user", "name-first-name", "x"]) == [
        {"name-first-name": "Ada", "user": "1"}
    ]


def test_unknown_fields_are_400_even_without_rows() -> None:
    with pytest.raises(BadRequest) as caught:
        Page(fields=("user", "password")).check_fields(Row)
    assert caught.value.message == "Unknown field(s) in 'fields': password"
    Page(fields=("user", "name-first-name")).check_fields(Row)
    Page().check_fields(Row)


def test_respond_returns_rows_untouched_without_fields() -> None:
    rows = [Row(user="1", name_first_name="Ada")]
    assert Page().respond(rows, Row) == rows


def test_respond_projects_with_fields() -> None:
    response = Page(fields=("user",)).respond([Row(user="1", name_first_name="Ada")], Row)
    assert response.body == b'[{"user":"1"}]'


def test_sorting() -> None:
    sortable = {"name": TABLE.c.name}
    stmt = Page(start=5, limit=10, order="desc").apply(select(TABLE), sortable, "name")
    sql = str(stmt.compile(compile_kwargs={"literal_binds": True}))
    assert "ORDER BY t.name DESC" in sql
    assert "LIMIT 10" in sql and "OFFSET 5" in sql
    with pytest.raises(BadRequest) as caught:
        Page(sort="id").apply(select(TABLE), sortable, "name")
    assert caught.value.message == "Cannot sort by 'id'; sortable fields: name"
