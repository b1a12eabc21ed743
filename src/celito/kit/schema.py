"""Base schema: NetSapiens v2 hyphenated field names, yes/no booleans, strict input."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

# The largest count or limit a body may carry (a signed 32-bit integer, as the spec's int32).
MAX_INT = 2_147_483_647

_TRUE = {"yes", "true", "1", "on", "y"}
_FALSE = {"no", "false", "0", "off", "n", ""}


def _has_nul(value: Any) -> bool:
    """True when a string anywhere in the value holds U+0000 (no store can keep one safely)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


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


def _yes_no_default(schema: dict[str, Any]) -> None:
    # A field's default is documented as Python holds it (True); the wire says "yes".
    if isinstance(schema.get("default"), bool):
        schema["default"] = "yes" if schema["default"] else "no"


YesNo = Annotated[
    bool,
    BeforeValidator(_parse_yes_no),
    # "yes"/"no" on the wire only: in Python (model_dump) it stays a bool, so `bool(value)`
    # and stored attributes mean what they say ("no" is a truthy string).
    PlainSerializer(lambda v: "yes" if v else "no", return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "enum": ["yes", "no"]}),
    Field(json_schema_extra=_yes_no_default),
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

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _has_nul(value):
            raise PydanticCustomError("nul_character", "must not contain NUL characters")
        return value


class ApiOut(BaseModel):
    """Responses: hyphenated names."""

    model_config = ConfigDict(alias_generator=hyphenate, populate_by_name=True)


class Count(BaseModel):
    total: int


class Message(BaseModel):
    code: int
    message: str
