from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from celito.dialplans.schemas import RouteFields
from celito.kit.schema import ApiDatetime, ApiOut, YesNo
from celito.phonenumbers.e164 import normalize


def _number(value: str | None) -> str | None:
    return normalize(value) if value is not None else None


class PhonenumberCreate(RouteFields):
    phonenumber: str = Field(
        min_length=1,
        max_length=40,
        description="Any common spelling (+1 212 555 0100, 12125550100, 00…); stored as +E.164.",
    )

    _number = field_validator("phonenumber")(_number)


class PhonenumberUpdate(RouteFields):
    phonenumber: str | None = Field(
        None,
        max_length=40,
        description="Which number (required on PUT …/phonenumbers; must match the path otherwise).",
    )
    domain: str | None = Field(
        None,
        max_length=128,
        description="Move the number to this domain (Resellers and Super Users). Its routing "
        "is reset to available-number unless this body routes it in the new domain.",
    )

    _number = field_validator("phonenumber")(_number)


class PhonenumberOut(ApiOut):
    phonenumber: str
    domain: str
    enabled: YesNo
    dial_rule_application: str
    dial_rule_parameter: str
    dial_rule_translation_destination_user: str
    dial_rule_translation_destination_host: str
    dial_rule_translation_source_name: str
    dial_rule_description: str
    created_datetime: ApiDatetime = None
    last_modified_datetime: ApiDatetime = None


EXAMPLE: dict[str, Any] = {
    "phonenumber": "+12125550100",
    "domain": "acme",
    "enabled": "yes",
    "dial-rule-application": "to-user",
    "dial-rule-parameter": "",
    "dial-rule-translation-destination-user": "1001",
    "dial-rule-translation-destination-host": "acme",
    "dial-rule-translation-source-name": "[*]",
    "dial-rule-description": "Ada's direct line",
    "created-datetime": "2026-11-27T10:00:00Z",
    "last-modified-datetime": "2026-11-27T10:00:00Z",
}
CREATE_REQUEST = {
    "phonenumber": "+1 212 555 0100",
    "dial-rule-application": "to-user",
    "dial-rule-translation-destination-user": "1001",
    "dial-rule-description": "Ada's direct line",
}
