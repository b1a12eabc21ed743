from __future__ import annotations

from pydantic import EmailStr, Field, field_validator

from celito.kit.schema import ApiDatetime, ApiModel, ApiOut, YesNo

_PHONE_CHARS = set("0123456789+()-. *#x")


def _phone(value: str | None) -> str | None:
    if value is None or value == "":
        return value
    if not set(value) <= _PHONE_CHARS or sum(c.isdigit() for c in value) < 3:
        raise ValueError("must be a phone number (digits, +, spaces, ( ) - .)")
    return value


class ContactFields(ApiModel):
    name_first_name: str | None = Field(None, max_length=100)
    name_middle_name: str | None = Field(None, max_length=100)
    name_last_name: str | None = Field(None, max_length=100)
    email: EmailStr | None = None
    company: str | None = Field(None, max_length=255)
    phonenumber_work: str | None = Field(None, max_length=32)
    phonenumber_cell: str | None = Field(None, max_length=32)
    phonenumber_fax: str | None = Field(None, max_length=32)
    phonenumber_home: str | None = Field(None, max_length=32)
    tags: str | None = Field(None, max_length=255)
    synchronous: YesNo | None = None

    _phones = field_validator(
        "phonenumber_work", "phonenumber_cell", "phonenumber_fax", "phonenumber_home"
    )(_phone)


class ContactOut(ApiOut):
    unique_id: str
    domain: str
    user: str | None
    shared: YesNo
    name_first_name: str
    name_middle_name: str
    name_last_name: str
    email: str
    company: str
    phonenumber_work: str
    phonenumber_cell: str
    phonenumber_fax: str
    phonenumber_home: str
    tags: str
    created_datetime: ApiDatetime
    last_modified_datetime: ApiDatetime


EXAMPLE = {
    "unique-id": "5f2c9b1e8a7d4c3b",
    "domain": "acme",
    "user": "1001",
    "shared": "no",
    "name-first-name": "Grace",
    "name-middle-name": "",
    "name-last-name": "Hopper",
    "email": "grace@navy.example",
    "company": "US Navy",
    "phonenumber-work": "+1 212 555 0199",
    "phonenumber-cell": "",
    "phonenumber-fax": "",
    "phonenumber-home": "",
    "tags": "vip",
    "created-datetime": "2026-11-27T10:00:00Z",
    "last-modified-datetime": "2026-11-27T10:00:00Z",
}
