"""Base schema: NetSapiens v2 hyphenated field names, yes/no booleans, strict input."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, WithJsonSchema

_TRUE = {"yes", "true", "1", "on", "y"}
_FALSE = {"no", "false", "0", "off", "n", ""}


def hyphenate(name: str) -> str:
    return name.replace("_", "-")


def _parse_yes_no(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError("must be 'yes' or 'no'")


YesNo = Annotated[
    bool,
    BeforeValidator(_parse_yes_no),
    PlainSerializer(lambda v: "yes" if v else "no", return_type=str),
    WithJsonSchema({"type": "string", "enum": ["yes", "no"]}),
]


def format_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


ApiDatetime = Annotated[
    datetime | None,
    PlainSerializer(format_datetime, return_type=str | None),
    WithJsonSchema({"type": ["string", "null"], "format": "date-time"}),
]


class ApiModel(BaseModel):
    """Request bodies: hyphenated names, unknown fields refused."""

    model_config = ConfigDict(
        alias_generator=hyphenate,
        populate_by_name=True,
        extra="forbid",
        str_strip_whitespace=True,
    )


class ApiOut(BaseModel):
    """Responses: hyphenated names."""

    model_config = ConfigDict(alias_generator=hyphenate, populate_by_name=True)


class Count(BaseModel):
    total: int


class Message(BaseModel):
    code: int
    message: str
