"""kit.schema: hyphenated names, yes/no booleans, strict input, NUL refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from celito.kit.schema import (
    MAX_INT,
    ApiModel,
    ApiOut,
    YesNo,
    format_datetime,
    hyphenate,
)


class Body(ApiModel):
    voicemail_enabled: YesNo | None = None
    name_first_name: str | None = None
    tags: list[str] | None = None
    count: int | None = None


class Out(ApiOut):
    voicemail_enabled: YesNo
    name_first_name: str


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("yes", True),
        ("no", False),
        ("YES", True),
        (" No ", False),
        ("true", True),
        ("false", False),
        ("y", True),
        ("n", False),
        ("on", True),
        ("off", False),
        ("1", True),
        ("0", False),
        ("", False),
        (True, True),
        (False, False),
        (1, True),
        (0, False),
    ],
)
def test_yes_no_parsing(raw: Any, expected: bool) -> None:
    assert Body.model_validate({"voicemail-enabled": raw}).voicemail_enabled is expected


@pytest.mark.parametrize("raw", ["maybe", "yess", "2", 2, -1, 1.0, [], {}, "ja"])
def test_yes_no_refuses_anything_else(raw: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        Body.model_validate({"voicemail-enabled": raw})
    assert caught.value.errors()[0]["loc"] == ("voicemail-enabled",)


def test_yes_no_is_a_bool_in_python_and_yes_no_on_the_wire() -> None:
    body = Body.model_validate({"voicemail-enabled": "no"})
    # In Python a "no" must stay falsy: services do bool(value) and store attributes.
    assert body.model_dump(exclude_unset=True) == {"voicemail_enabled": False}
    assert body.model_dump(mode="json", by_alias=True, exclude_unset=True) == {
        "voicemail-enabled": "no"
    }
    out = Out(voicemail_enabled=True, name_first_name="Ada")
    assert out.model_dump(mode="json", by_alias=True) == {
        "voicemail-enabled": "yes",
        "name-first-name": "Ada",
    }
    assert (
        Out.model_validate({"voicemail-enabled": False, "name-first-name": "x"}).model_dump(
            mode="json", by_alias=True
        )["voicemail-enabled"]
        == "no"
    )


def test_yes_no_json_schema_is_a_yes_no_enum() -> None:
    schema = Body.model_json_schema(by_alias=True)
    options = schema["properties"]["voicemail-enabled"]["anyOf"]
    assert {"type": "string", "enum": ["yes", "no"]} in options


def test_names_are_hyphenated_and_underscores_accepted() -> None:
    assert hyphenate("name_first_name") == "name-first-name"
    assert Body.model_validate({"name-first-name": "Ada"}).name_first_name == "Ada"
    assert Body.model_validate({"name_first_name": "Ada"}).name_first_name == "Ada"


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        Body.model_validate({"password_hash": "x"})
    assert caught.value.errors()[0]["type"] == "extra_forbidden"


def test_strings_are_stripped() -> None:
    assert Body.model_validate({"name-first-name": "  Ada \n"}).name_first_name == "Ada"


@pytest.mark.parametrize(
    "body",
    [
        {"name-first-name": "a\x00b"},
        {"name-first-name": "\x00"},
        {"tags": ["ok", "b\x00d"]},
    ],
)
def test_nul_characters_are_refused_naming_the_field(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as caught:
        Body.model_validate(body)
    error = caught.value.errors()[0]
    assert error["type"] == "nul_character"
    assert error["loc"] == (next(iter(body)),)
    assert error["msg"] == "must not contain NUL characters"


def test_other_control_and_unicode_characters_pass() -> None:
    text = "Zoë 😀 \u202eevil\u202c \t\x01 '; DROP TABLE users;--"
    assert Body.model_validate({"name-first-name": text}).name_first_name == text.strip()


def test_format_datetime_is_utc_with_z() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert format_datetime(datetime(2026, 11, 27, 15, 0, 5, 999, tzinfo=plus_two)) == (
        "2026-11-27T13:00:05Z"
    )
    assert format_datetime(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00Z"
    assert format_datetime(None) is None


def test_max_int_is_int32() -> None:
    assert MAX_INT == 2**31 - 1
