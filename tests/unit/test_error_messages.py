"""app._describe_validation: a 422/400 message names the field and reads like a sentence."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from celito.app import _describe_validation
from celito.users.schemas import UserCreate


def body_errors(data: Any) -> RequestValidationError:
    try:
        UserCreate.model_validate(data)
    except ValidationError as exc:
        return RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()])
    raise AssertionError("expected a validation error")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "'user' is required"),
        ({"user": "1", "nope": 1}, "unknown field 'nope'"),
        (
            {"user": "1", "area-code": "x"},
            "area-code: Input should be a valid integer, unable to parse string as an integer",
        ),
        (
            {"user": "1", "name-first-name": "a\x00"},
            "name-first-name: must not contain NUL characters",
        ),
    ],
)
def test_body_problems_are_422(data: Any, message: str) -> None:
    assert _describe_validation(body_errors(data)) == (422, message)


def test_a_union_reports_one_problem_per_field() -> None:
    status, message = _describe_validation(body_errors({"user": "1", "email-address": "nope"}))
    assert status == 422
    assert message.startswith("email-address: value is not a valid email address")
    assert message.count("email-address") == 1
    assert "[" not in message


def test_several_fields_are_all_named() -> None:
    _, message = _describe_validation(body_errors({"a": 1, "b": 2}))
    assert message == "'user' is required; unknown field 'a'; unknown field 'b'"


def test_bad_json_and_missing_body() -> None:
    bad = RequestValidationError([{"type": "json_invalid", "loc": ("body", 3), "msg": "x"}])
    assert _describe_validation(bad) == (422, "the body is not valid JSON")
    missing = RequestValidationError(
        [{"type": "missing", "loc": ("body",), "msg": "Field required"}]
    )
    assert _describe_validation(missing) == (422, "a JSON body is required")


def test_query_problems_are_400() -> None:
    err = RequestValidationError(
        [
            {
                "type": "less_than_equal",
                "loc": ("query", "limit"),
                "msg": "Input should be less than or equal to 1000",
            },
        ]
    )
    assert _describe_validation(err) == (400, "limit: Input should be less than or equal to 1000")
    missing = RequestValidationError(
        [
            {"type": "missing", "loc": ("query", "datetime-start"), "msg": "Field required"},
        ]
    )
    assert _describe_validation(missing) == (400, "'datetime-start' is required")
